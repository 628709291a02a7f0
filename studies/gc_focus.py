"""Is GC content bound by its share of the data? (issue 15: goal MAE <= 0.002; shipped 0.038 on test)

The shipped model writes coarse values (dev: 0.220, 0.320, 0.360, 0.460, ... : a second digit most often even, a third
digit 0), so its estimate is good to about +-0.04. Here the shipped model continues on GC content alone (train rows
and GC crops) for `--budget` process CPU-seconds, one thread each, two candidates side by side, scored on dev:

- `answers`: the shipped objective's prompt weight (0.2 on the bases, 1 on the answer);
- `answers_only`: prompt weight 0, every gradient on the answer's digits.

If MAE falls well below the shipped 0.036 (dev), GC content is bound by its share of the mixture; if not, by the
model's way of writing a count as digits.

    python -m studies.gc_focus --budget 600     # -> studies/results/gc_focus.{md,json}; another --budget adds its rows
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from finetune.evaluation.evaluate import main_metric

from .runs import focus_config, shipped_start, train_and_read
from .tables import with_earlier_rows, write_results

OUT = Path("build/studies/gc_focus")
TABLE = Path("studies/results/gc_focus")
SOURCES = ["GenomicLLM_GRCh38/gc_content"]
CANDIDATES = {"answers": 0.2, "answers_only": 0.0}  # name -> prompt weight


def run(name: str, start: Path, budget: float, rows: int) -> dict:
    config = focus_config(start, SOURCES, ["gc_content"], budget, seed=4, prompt_weight=CANDIDATES[name])
    last, results = train_and_read(OUT / f"{name}-{budget:.0f}s", config, rows, SOURCES)
    result, = results.values()
    return {"candidate": name, "prompt_weight": CANDIDATES[name], "budget": budget, "cpu_s": round(last["cpu_s"], 1),
            "steps": last["step"], "tokens": last["tokens"], "mae": result["ours"][main_metric(result["task"])],
            "pearson": result["ours"]["pearson"]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=600.0, help="process CPU-seconds per candidate")
    p.add_argument("--rows", type=int, default=200, help="dev rows")
    args = p.parse_args(argv)
    start = shipped_start(OUT)
    with ThreadPoolExecutor(2) as pool:
        fresh = list(pool.map(lambda name: run(name, start, args.budget, args.rows), CANDIDATES))
    rows = with_earlier_rows(TABLE, fresh, list(CANDIDATES))
    lines = ["| candidate | prompt weight | CPU-s | steps | tokens | GC content dev MAE | Pearson |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['prompt_weight']} | {r['cpu_s']:.0f} | {r['steps']} | {r['tokens']:,} | "
              f"{r['mae']:.4f} | {r['pearson']:.3f} |" for r in rows]
    write_results(TABLE, rows,
                  f"GC content alone (train rows + crops) from the shipped model, one thread each, two candidates "
                  f"side by side; {args.rows} dev rows (`python -m studies.gc_focus --budget B`, one invocation per "
                  f"budget B in process CPU-seconds). The shipped model on the same rows: MAE 0.036, Pearson 0.917 "
                  f"(build/eval/dev-shipped).\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
