"""How far does GC content's value head hold beyond its training rows' lengths? (issue 15)

The value head (`finetune.training.label_heads.fit_value_head`) is a ridge regression from the question's states to
the GC fraction, fitted on corpus train rows of 20-300 nt. Here: random DNA of each length (20 sequences per length,
each with its own GC probability drawn from 0.2-0.8, seed 0), the head's answer in the grammar's 3 digits against
the exact fraction, beside the generated text's answer.

    python -m studies.gc_value_head --model release/GenomicLLM   # -> studies/results/gc_value_head.{md,json}
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from modeling.inference import generate, load
from modeling.scores import values
from tasks import get_task, parse_answer, render_answer, render_prompt
from tasks.metrics import regression
from tasks.rules import gc_content

from .tables import write_results

TABLE = Path("studies/results/gc_value_head")
LENGTHS = (8, 20, 100, 300, 600, 900)


def random_dna(rng, n: int, count: int) -> list[str]:
    out = []
    for _ in range(count):
        p = rng.uniform(0.2, 0.8)
        out.append("".join(rng.choice(list("ACGT"), p=[(1 - p) / 2, p / 2, p / 2, (1 - p) / 2], size=n)))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="release/GenomicLLM")
    ap.add_argument("--per-length", type=int, default=20)
    args = ap.parse_args(argv)
    tok, model = load(args.model)
    task, rng, rows = get_task("gc_content"), np.random.default_rng(0), []
    start = time.process_time()
    for n in LENGTHS:
        seqs = random_dna(rng, n, args.per_length)
        exact = [gc_content(s) for s in seqs]
        head = [parse_answer(task, render_answer(task, float(v))) for v in values(model, tok, task, seqs)]
        texts = generate(model, tok, [render_prompt(task, s) for s in seqs], [8] * len(seqs), 8)
        rows.append({"length": n, "head": regression(exact, head), "text": regression(exact, [parse_answer(task, t)
                                                                                              for t in texts])})
        print(rows[-1], flush=True)
    seconds = time.process_time() - start
    lines = ["| length (nt) | value head MAE | value head Pearson | generated text MAE | generated text Pearson |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['length']} | {r['head']['mae']:.4f} | {r['head']['pearson']:.4f} | {r['text']['mae']:.4f} | "
              f"{r['text']['pearson']:.4f} |" for r in rows]
    write_results(TABLE, {"model": args.model, "per_length": args.per_length, "cpu_s": seconds, "rows": rows},
                  f"# GC content by length: value head vs generated text ({args.model})\n\n"
                  + __doc__.split("\n\n")[1] + "\n\n" + "\n".join(lines)
                  + f"\n\n{len(LENGTHS) * args.per_length} sequences, {seconds:.0f} process CPU-seconds "
                  "(one thread).\n")


if __name__ == "__main__":
    main()
