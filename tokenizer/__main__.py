"""python -m tokenizer build ... (see build.py); the candidates' benchmark is `python -m studies.tokenizer_bench`."""

import sys

from . import build

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "build":
        sys.exit("usage: python -m tokenizer build [options]  (benchmark: python -m studies.tokenizer_bench)")
    build.main(sys.argv[2:])
