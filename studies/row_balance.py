"""Do the short-answer tasks starve in the first phase's loss? (issue 15)

The step's loss is a mean over weighted tokens, so a row counts as much as its answer is long: a 300-base reverse
complement weighs 300, a GC value ~5, a class label 1-2. In the shipped first phase (`learning_curves.md`) the copy
tasks reach exact 1.0 by 5M tokens while sequence direction stays at MCC 0.00 and ORF frame near 0 through all 12M,
and GC content alone from random weights gets further in 1.75M tokens (MAE 0.006) than the whole phase did (0.031).
`row_balance` (`finetune.training.data.collate`) weighs each row's answer by (answer tokens)^-b: at 1 every row's
answer counts alike.

Each candidate trains the first phase's config (`finetune/training/configs/genomicllm.json`: shape, mix, learning
rate) from random weights for `--budget` process CPU-seconds, one thread each, two side by side, differing only in
`row_balance`, and is scored on dev:

    python -m studies.row_balance --budget 2000     # -> studies/results/row_balance.{md,json}
    python -m studies.row_balance --budget 2000 --candidates half     # one more row in the same table
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .runs import dev_values, train_and_read
from .tables import with_earlier_rows, write_results

FIRST_PHASE = Path("finetune/training/configs/genomicllm.json")
OUT = Path("build/studies/row_balance")
TABLE = Path("studies/results/row_balance")
CANDIDATES = {"tokens": 0.0, "half": 0.5, "rows": 1.0}  # name -> row_balance (0.5 ships in phase 2)
SCORED = ["GenomicLLM_GRCh38/gc_content", "GenomicLLM_GRCh38/reading_comprehension",
          "GenomicLLM_GRCh38/sequence_direction", "GenomicLLM_GRCh38/orf_frame", "GenomicLLM_GRCh38/splice_site",
          "GUE/tf_0", "GenomicLLM_GRCh38/reverse_complement", "GenomicLLM_GRCh38/nt2aa"]


def run(name: str, budget: float, rows: int) -> dict:
    """Train the first phase's config with row_balance CANDIDATES[name] for `budget` CPU-s; score SCORED on dev."""
    config = json.loads(FIRST_PHASE.read_text())
    config.update(row_balance=CANDIDATES[name], cpu_budget_s=budget, checkpoint_every=100, keep_checkpoints=1)
    last, results = train_and_read(OUT / f"{name}-{budget:.0f}s", config, rows, SCORED)
    return {"candidate": name, "row_balance": CANDIDATES[name], "budget": budget, "cpu_s": round(last["cpu_s"], 1),
            "steps": last["step"], "tokens": last["tokens"],
            "dev": dev_values(results)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=2000.0, help="process CPU-seconds per candidate")
    p.add_argument("--rows", type=int, default=100, help="dev rows per benchmark")
    p.add_argument("--candidates", nargs="+", default=["tokens", "rows"], choices=list(CANDIDATES))
    args = p.parse_args(argv)
    with ThreadPoolExecutor(2) as pool:
        fresh = list(pool.map(lambda name: run(name, args.budget, args.rows), args.candidates))
    rows = with_earlier_rows(TABLE, fresh, list(CANDIDATES))
    benchmarks = list(rows[0]["dev"])
    lines = ["| candidate | row_balance | CPU-s | steps | tokens | "
             + " | ".join(f"{b.split('/')[-1]} ({rows[0]['dev'][b]['metric']})" for b in benchmarks) + " |",
             "|---|---|---|---|---|" + "---|" * len(benchmarks)]
    lines += [f"| {r['candidate']} | {r['row_balance']:g} | {r['cpu_s']:.0f} | {r['steps']} | {r['tokens']:,} | "
              + " | ".join(f"{r['dev'][b]['value']:.3f}" for b in benchmarks) + " |" for r in rows]
    write_results(TABLE, rows,
                  f"Each row's answer weighed alike (`rows`, row_balance 1), by the square root of its length "
                  f"(`half`, 0.5) or each token (`tokens`, as the first phase ships): the "
                  f"first phase's config from random weights, one thread each, at most two candidates side by side; "
                  f"{args.rows} dev rows per benchmark (`python -m studies.row_balance --budget B`, one invocation "
                  f"per budget B in process CPU-seconds).\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
