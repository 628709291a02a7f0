"""python -m tokenizer {build,bench} ... (see build.py and bench.py)."""

import sys

from . import bench, build

COMMANDS = {"build": build.main, "bench": bench.main}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python -m tokenizer {{{','.join(COMMANDS)}}} [options]")
    COMMANDS[sys.argv[1]](sys.argv[2:])
