"""Command line: `python -m dataset_scripts build {gue,genomic_benchmarks,grch38,all} --out build/datasets`
and `python -m dataset_scripts sample build/datasets` (prints a few rendered rows of every dataset)."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from tasks.paths import DATASETS_DIR

DATASETS = {"gue": "GUE", "genomic_benchmarks": "GenomicBenchmarks", "grch38": "GenomicLLM_GRCh38"}


def _fasta_args(values: list[str]) -> dict[str, Path]:
    out = {}
    for v in values:
        key, sep, path = v.partition("=")
        if not sep or not key or not path:
            raise SystemExit(f"--fasta expects KEY=PATH (e.g. GRCh38=/data/GRCh38.fa.gz), got {v!r}")
        out[key] = Path(path)
    return out


def build(name: str, out: Path, fastas: dict[str, Path], args: argparse.Namespace) -> None:
    folder = out / DATASETS[name]
    t0 = time.time()
    if name == "gue":
        from .build_gue import build as run
        reports = run(folder)
    elif name == "genomic_benchmarks":
        from .build_genomic_benchmarks import build as run
        reports = run(folder, fastas=fastas or None)
    else:
        from .build_grch38 import build as run
        reports = run(folder, fastas=fastas or None, gtf=args.gtf, seed=args.seed)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(sum(r.rows.values()) for r in reports)
    print(f"{DATASETS[name]}: {len(reports)} configs, {rows:,} rows -> {folder} "
          f"({time.time() - t0:.1f} s, peak RSS so far {rss:.0f} MB)")


def sample(root: Path, n: int) -> None:
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    for name in DATASETS.values():
        folder = root / name
        if not (folder / "README.md").is_file():
            print(f"{folder}: not built (run `make datasets`)")
            continue
        for config in datasets.get_dataset_config_names(str(folder)):
            ds = datasets.load_dataset(str(folder), config)
            split = next(iter(ds))
            print(f"\n== {name} / {config} / {split} ({ds[split].num_rows:,} rows)")
            for row in ds[split].select(range(min(n, ds[split].num_rows))):
                prompt = row["prompt"] if len(row["prompt"]) < 160 else row["prompt"][:70] + " … " + row["prompt"][-70:]
                print(f"  {prompt} {row['answer'][:100]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dataset_scripts", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build dataset folders")
    b.add_argument("which", choices=[*DATASETS, "all"])
    b.add_argument("--out", type=Path, default=DATASETS_DIR)
    b.add_argument("--fasta", action="append", default=[], metavar="KEY=PATH",
                   help="use this genome FASTA instead of the mirror's pieces (e.g. GRCh38=/data/GRCh38.fa.gz)")
    b.add_argument("--gtf", type=Path, default=None,
                   help="GTF/GFF3 annotation of the --fasta genome (GenomicLLM_GRCh38 with a user genome)")
    b.add_argument("--seed", type=int, default=0)
    s = sub.add_parser("sample", help="print a few rows of every built config")
    s.add_argument("root", type=Path)
    s.add_argument("-n", type=int, default=2)
    args = p.parse_args(argv)
    if args.cmd == "sample":
        sample(args.root, args.n)
        return 0
    fastas = _fasta_args(args.fasta)
    for name in DATASETS if args.which == "all" else [args.which]:
        build(name, args.out, fastas, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
