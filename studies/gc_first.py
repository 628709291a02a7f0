"""Does a GC count learnt first survive the first phase's mix? (issue 15)

`content_heads --scratch` found that the shipped shape, trained from random weights on GC content alone, reaches dev
MAE 0.006 in 1,200 CPU-seconds, while the shipped model (GC 3% of its first phase's rows) stays at 0.036 and 1,200
CPU-seconds of GC alone from its weights leave it at 0.03. If a first phase started from that GC model keeps the
count while it learns the rest, the next shipped run should start there: 1,200 of its 18,000 CPU-seconds.

Each candidate continues the GC model (`content_heads --scratch`'s `shipped` candidate at 1,200 CPU-s) with the first
phase's config (`finetune/training/configs/genomicllm.json`: its mix, learning rate and warm-up) for `--budget`
process CPU-seconds, one thread each, two side by side, and is scored on GC content dev:

- `mix`: the first phase's source weights as they are (GC content ~3% of rows);
- `mix_gc3`: GC content's two sources at 3 times their weight.

    python -m studies.content_heads --budget 1200 --scratch   # the GC model, if not yet built
    python -m studies.gc_first --budget 900                   # -> studies/results/gc_first.{md,json}
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .runs import train_and_read
from .tables import with_earlier_rows, write_results

GC_MODEL = Path("build/studies/content_heads/shipped-1200s-scratch/run")
FIRST_PHASE = Path("finetune/training/configs/genomicllm.json")
OUT = Path("build/studies/gc_first")
TABLE = Path("studies/results/gc_first")
GC_SOURCES = ("GenomicLLM_GRCh38/gc_content", "crops/gc_content")
CANDIDATES = {"mix": 1.0, "mix_gc3": 3.0}  # name -> factor on GC content's source weights
SCORED = ["GenomicLLM_GRCh38/gc_content"]


def run(name: str, budget: float, rows: int) -> dict:
    """Continue the GC model with the first phase's config (GC weights times CANDIDATES[name]) and score GC on dev."""
    config = json.loads(FIRST_PHASE.read_text())
    weights = config["source_weights"]
    config.update(init_from=str(GC_MODEL), cpu_budget_s=budget, checkpoint_every=100, keep_checkpoints=1,
                  source_weights={**weights, **{s: weights[s] * CANDIDATES[name] for s in GC_SOURCES}})
    last, results = train_and_read(OUT / f"{name}-{budget:.0f}s", config, rows, SCORED)
    gc = results[SCORED[0]]["ours"]
    return {"candidate": name, "gc_factor": CANDIDATES[name], "budget": budget, "cpu_s": round(last["cpu_s"], 1),
            "steps": last["step"], "tokens": last["tokens"], "mae": gc["mae"], "pearson": gc["pearson"]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=900.0, help="process CPU-seconds per candidate")
    p.add_argument("--rows", type=int, default=200, help="dev rows")
    args = p.parse_args(argv)
    if not (GC_MODEL / "release").is_dir():
        raise SystemExit(f"{GC_MODEL}/release is missing: run `python -m studies.content_heads --budget 1200 "
                         f"--scratch` first")
    with ThreadPoolExecutor(2) as pool:
        fresh = list(pool.map(lambda name: run(name, args.budget, args.rows), CANDIDATES))
    rows = with_earlier_rows(TABLE, fresh, list(CANDIDATES))
    lines = ["| candidate | GC weight factor | CPU-s | steps | tokens | GC content dev MAE | Pearson |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['gc_factor']:g} | {r['cpu_s']:.0f} | {r['steps']} | {r['tokens']:,} | "
              f"{r['mae']:.4f} | {r['pearson']:.3f} |" for r in rows]
    write_results(TABLE, rows,
                  f"A GC model first, then the first phase's mix: from `{GC_MODEL}` (GC content alone, 1,200 CPU-s "
                  f"from random weights: dev MAE 0.0056), one thread each, two candidates side by side; "
                  f"{args.rows} dev rows (`python -m studies.gc_first --budget B`, one invocation per budget B in "
                  f"process CPU-seconds).\n\n"
                  + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
