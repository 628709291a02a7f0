"""Do heads without positions help the tasks that read a whole sequence as a bag? (issue 15)

GC content (a count over the run), sequence direction and TF binding (what a k-mer logistic regression reads well: a
sum of per-k-mer weights) all ask the " =" to weigh every base of the run alike. Every head of the shipped model turns
its keys with a rotary position, so uniform weights over 20-300 bases must be found in the slowest rotary pairs. A
``content`` head (``positions_genomicllm.py``: every token at 0) weighs keys by content alone: the mean over the run
is one softmax away, and the short convolution already hands each base its 4-mer.

Each candidate continues the shipped model on GC content (+ its crops), sequence direction and GUE tf_0 for `--budget`
process CPU-seconds, one thread each, two side by side, and is scored on dev:

- `shipped`: the shipped heads' streams;
- `content`: head 1 (an ordinary-position head) of every layer reads the ``content`` stream instead.

Continuing weights trained with rotary in every head may hide what the mechanism can do; `--scratch` trains both
shapes from random weights on GC content alone (train rows + crops) instead, to see how far a count gets.

    python -m studies.content_heads --budget 600               # -> studies/results/content_heads.{md,json}
    python -m studies.content_heads --budget 1200 --scratch    # -> studies/results/content_heads_scratch.{md,json}
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .runs import dev_values, focus_config, shipped_model, shipped_start, train_and_read
from .tables import STREAMS_HEADER, streams_cells, with_earlier_rows, write_results

OUT = Path("build/studies/content_heads")
TABLE = Path("studies/results/content_heads")
SOURCES = ["GenomicLLM_GRCh38/gc_content", "GenomicLLM_GRCh38/sequence_direction", "GUE/tf_0"]
SCRATCH_SOURCES = ["GenomicLLM_GRCh38/gc_content"]
CANDIDATES = {"shipped": {}, "content": {1: "content"}}  # name -> {head: stream} changed from the shipped model


def run(name: str, start: Path | None, budget: float, rows: int) -> dict:
    """Train candidate `name` from `start` (None: random weights, on GC content alone) and score it on dev."""
    model = shipped_model(CANDIDATES[name])
    sources = SOURCES if start else SCRATCH_SOURCES
    config = focus_config(start, sources, ["gc_content"], budget, seed=5, model=model,
                          **({} if start else {"init_from": None, "warmup_steps": 30, "lr": 1e-3}))
    out = OUT / f"{name}-{budget:.0f}s{'' if start else '-scratch'}"
    last, results = train_and_read(out, config, rows, sources)
    return {"candidate": name, "position_streams": model["position_streams"], "budget": budget,
            "cpu_s": round(last["cpu_s"], 1), "steps": last["step"], "tokens": last["tokens"],
            "dev": dev_values(results)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=600.0, help="process CPU-seconds per candidate")
    p.add_argument("--rows", type=int, default=200, help="dev rows per benchmark")
    p.add_argument("--scratch", action="store_true", help="from random weights, on GC content alone")
    args = p.parse_args(argv)
    start = None if args.scratch else shipped_start(OUT)
    with ThreadPoolExecutor(2) as pool:
        fresh = list(pool.map(lambda name: run(name, start, args.budget, args.rows), CANDIDATES))
    table = TABLE.with_name(TABLE.name + ("_scratch" if args.scratch else ""))
    rows = with_earlier_rows(table, fresh, list(CANDIDATES))
    benchmarks = list(rows[0]["dev"])
    lines = [STREAMS_HEADER + " " + " | ".join(f"{b} ({rows[0]['dev'][b]['metric']})" for b in benchmarks) + " |",
             "|---|---|---|---|---|" + "---|" * len(benchmarks)]
    lines += [streams_cells(r) + " " + " | ".join(f"{r['dev'][b]['value']:.4f}" for b in benchmarks) + " |"
              for r in rows]
    what = ("GC content (+ crops) alone, from random weights (lr 1e-3)" if args.scratch else
            "GC content (+ crops), sequence direction and tf_0, from the shipped model")
    write_results(table, rows,
                  f"Heads without positions: {what}, one thread each, two candidates side by side; {args.rows} dev "
                  f"rows per benchmark (`python -m studies.content_heads --budget B{' --scratch' if args.scratch else ''}`"
                  f", one invocation per budget B in process CPU-seconds).\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
