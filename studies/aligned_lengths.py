"""Do reverse, complement and reverse complement stay exact past the lengths the model was trained on (20-300 nt)?
Random sequences of each length (uniform bases, seeded), asked as the grammar asks, answered greedily by two model
folders (e.g. before and after the aligned copy), exact match against the rule (`tasks.rules`). The context
(1,024 tokens) holds a question and its answer up to ~500 nt.

    python -m studies.aligned_lengths --before build/train/genomicllm-pointer/release --after release/GenomicLLM \
        --lengths 100 300 400 500 --rows 20 --out studies/results/aligned_lengths
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from modeling.inference import answer_tokens, generate, load
from tasks.grammar import exact_answer, parse_answer, render_prompt

from .tables import write_results

TASKS = ("reverse", "complement", "reverse_complement")


def sequences(length: int, rows: int, seed: int) -> list[str]:
    rng = np.random.default_rng([seed, length])
    return ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(rows)]


def exact(folder: Path, lengths: list[int], rows: int, seed: int = 0) -> dict:
    """{task: {length: exact match}} and the CPU-seconds it took."""
    tok, model = load(folder)
    start, out = time.process_time(), {}
    for task in TASKS:
        for length in lengths:
            seqs = sequences(length, rows, seed)
            answers = generate(model, tok, [render_prompt(task, s) for s in seqs],
                               [answer_tokens(tok, task, s) for s in seqs], batch_size=8)
            right = [parse_answer(task, a) == parse_answer(task, exact_answer(task, s)) for a, s in zip(answers, seqs)]
            out.setdefault(task, {})[length] = float(np.mean(right))
            print(folder, task, length, out[task][length], flush=True)
    return {"exact": out, "cpu_s": time.process_time() - start}


def markdown(runs: dict, lengths: list[int], rows: int) -> str:
    lines = [f"Exact match on {rows} random sequences per length (trained on 20-300 nt), greedy "
             "(`python -m studies.aligned_lengths`).", "",
             "| task | model | " + " | ".join(f"{n} nt" for n in lengths) + " |", "|---|---|" + "---|" * len(lengths)]
    for task in TASKS:
        for name, run in runs.items():
            lines.append(f"| {task} | {name} | " + " | ".join(f"{run['exact'][task][n]:.2f}" for n in lengths) + " |")
    lines += [""] + [f"{name}: `{run['folder']}`, {run['cpu_s']:.0f} CPU-s" for name, run in runs.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", type=Path, required=True)
    p.add_argument("--after", type=Path, required=True)
    p.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 400, 500])
    p.add_argument("--rows", type=int, default=20)
    p.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    args = p.parse_args(argv)
    runs = {name: {"folder": str(folder), **exact(folder, args.lengths, args.rows)}
            for name, folder in (("before", args.before), ("after", args.after))}
    write_results(args.out, runs, markdown(runs, args.lengths, args.rows))


if __name__ == "__main__":
    main()
