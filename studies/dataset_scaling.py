"""Benchmark: GenomicLLM_GRCh38 builder throughput (Mb of genome per second) and peak RSS, chr22 piece (1 Mb), chr20, chrX, chr20 + chrX.

Each run is a fresh subprocess so its peak RSS is its own. Flat memory in genome size means the chr20+chrX run peaks
near the chr20 run although it reads ~2.1x the sequence. Usage: `make bench-datasets`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

RUNNER = """
import json, resource, sys, time
from pathlib import Path
from dataset_scripts.build_grch38 import build
from dataset_scripts.sources import MIRROR_GENOMES, mirror_genome_files
from dataset_scripts.genome import Genome
chroms, out = json.loads(sys.argv[1]), Path(sys.argv[2])
g = Genome("GRCh37", mirror_genome_files("GRCh37"), MIRROR_GENOMES["GRCh37"]["partial"])
bp = sum(b - a for c in chroms for a, b in g.covered(c))
t = time.time()
reports = build(out, chroms=chroms, progress=False)
print(json.dumps({"bp": bp, "seconds": time.time() - t, "rows": sum(sum(r.rows.values()) for r in reports),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(chroms: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(chroms), tmp], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'chromosomes':<14}{'Mb':>8}{'rows':>10}{'seconds':>10}{'Mb/s':>8}{'peak RSS MB':>13}")
    # 1 Mb shows the fixed cost (imports, gene text table); X alone vs 20+X shows what accumulates across chromosomes
    for chroms in (["22"], ["20"], ["X"], ["20", "X"]):
        r = run(chroms)
        mb = r["bp"] / 1e6
        print(f"{'+'.join(chroms):<14}{mb:>8.1f}{r['rows']:>10,}{r['seconds']:>10.1f}{mb / r['seconds']:>8.2f}"
              f"{r['peak_rss_mb']:>13.0f}")


if __name__ == "__main__":
    main()
