"""Dev results of several models side by side: one row per benchmark, the headline metric of each, and how many
rows each model is better / worse than each column to its left.

Each input is an `evaluate --split dev --max-rows N --out DIR` folder (same N and seed, so the same rows); a
benchmark a model was not scored on shows "–".

    python -m studies.compare_runs --runs 6-mer=build/eval/dev-old per-base=build/eval/dev-new \
        classify-phase=build/eval/dev-classify --out studies/results/classify_phase
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from finetune.evaluation.evaluate import main_metric

from .tables import write_results

LOWER_IS_BETTER = {"mae"}


def headline(results: dict) -> dict[str, tuple[str, float | None]]:
    """{benchmark key: (metric, value)} of one results.json."""
    return {k: (m := main_metric(r["task"], k.split(":")[0]), r["ours"].get(m))
            for k, r in results.items() if "ours" in r}  # a benchmark without that split has no scores


def compare(runs: dict[str, Path]) -> tuple[list[dict], str]:
    tables = {name: headline(json.loads((d / "results.json").read_text())) for name, d in runs.items()}
    names = list(runs)
    keys = [k for k in tables[names[0]] if any(k in t for t in tables.values())]
    rows = []
    for k in keys:
        metric = tables[names[0]][k][0]
        rows.append({"benchmark": k, "metric": metric, **{n: tables[n].get(k, (metric, None))[1] for n in names}})
    fmt = lambda x: "–" if x is None else f"{x:.3f}"  # noqa: E731
    lines = ["| benchmark | metric | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 2)]
    lines += [f"| {r['benchmark']} | {r['metric']} | " + " | ".join(fmt(r[n]) for n in names) + " |" for r in rows]
    # One summary number: the mean MCC over the benchmarks every run has an MCC for. A benchmark a model scores 0
    # on (one class answered, or nothing parseable, as on the GUE emp_* sets) counts: it is what the model scores.
    mcc = [r for r in rows if r["metric"] == "mcc" and all(r[n] is not None for n in names)]
    if mcc:
        lines.append(f"\nmean MCC over the {len(mcc)} MCC benchmarks all runs scored: "
                     + ", ".join(f"{n} {sum(r[n] for r in mcc) / len(mcc):.3f}" for n in names))
    sign = lambda r: -1 if r["metric"] in LOWER_IS_BETTER else 1  # noqa: E731
    for i, ref in enumerate(names):
        for n in names[i + 1:]:
            pairs = [(sign(r) * r[n], sign(r) * r[ref]) for r in rows if r[n] is not None and r[ref] is not None]
            better, worse = sum(a > b for a, b in pairs), sum(a < b for a, b in pairs)
            lines.append(f"\n{n} vs {ref}: better on {better}, worse on {worse}, equal on "
                         f"{len(pairs) - better - worse} of {len(pairs)} benchmarks")
    return rows, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", nargs="+", required=True, metavar="NAME=DIR")
    p.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    p.add_argument("--title", default="", help="what the runs are and how they were run: a paragraph above the table")
    args = p.parse_args(argv)
    runs = dict(r.split("=", 1) for r in args.runs)
    rows, md = compare({n: Path(d) for n, d in runs.items()})
    md = f"{args.title}\n\n{md}" if args.title else md
    write_results(args.out, {"runs": runs, "rows": rows}, md)


if __name__ == "__main__":
    main()
