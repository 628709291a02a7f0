"""Do reverse, complement, reverse complement (and translation) stay exact outside the lengths the model was trained
on (test rows of 20-300 nt, crops of 12-300)? Random sequences of each length (uniform bases, seeded; for
translation whole codons, none of them a stop, as in a coding sequence), asked as the grammar asks, answered greedily
by one or two model folders (e.g. before and after the aligned copy), exact match against the rule (`tasks.rules`).
The context (1,024 tokens) holds a question and its answer up to ~500 nt. Fewer than `MIN_RUN` (8) letters are a
word to the tokenizer, not bases (`tokenizer/rule.py`): asked here all the same, as `generate` would be; `ask`
refuses them.

    python -m studies.aligned_lengths --before build/train/genomicllm-pointer/release --after release/GenomicLLM \
        --lengths 100 300 400 500 --rows 20 --out studies/results/aligned_lengths
    python -m studies.aligned_lengths --before OLD --after release/GenomicLLM --lengths 3 6 8 9 10 11 12 15 18 24 \
        --rows 64 --tasks reverse complement reverse_complement nt2aa --out studies/results/short_lengths
    python -m studies.aligned_lengths --before OLD --after release/GenomicLLM --lengths 20 40 120 300 --rows 64 --gaps \
        --out studies/results/gap_runs
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from finetune.training.aligned_gate import GAP
from modeling.inference import answer_tokens, generate, load
from tasks.grammar import exact_answer, parse_answer, render_prompt
from tasks.registry import get_task
from tasks.rules import STOPS
from tokenizer.rule import MIN_RUN

from .tables import write_results

TASKS = ("reverse", "complement", "reverse_complement")


CODONS = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT" if a + b + c not in STOPS]


def sequences(length: int, rows: int, seed: int, coding: bool = False, gap: bool = False) -> list[str]:
    """`rows` random sequences of `length` bases; `coding`: of length // 3 codons, none a stop; `gap`: each with one
    run of `aligned_gate.GAP` N letters in place of as many bases, at a random place."""
    rng = np.random.default_rng([seed, length])
    if coding:
        out = ["".join(rng.choice(CODONS, size=length // 3)) for _ in range(rows)]
    else:
        out = ["".join(rng.choice(list("ACGT"), size=length)) for _ in range(rows)]
    if gap:
        runs = [int(rng.integers(GAP[0], min(GAP[1], length - 1) + 1)) for _ in out]
        ats = [int(rng.integers(0, len(s) - n + 1)) for s, n in zip(out, runs)]
        out = [s[:at] + "N" * n + s[at + n :] for s, n, at in zip(out, runs, ats)]
    return out


def exact(folder: Path, lengths: list[int], rows: int, seed: int = 0, tasks=TASKS, gap: bool = False) -> dict:
    """{task: {length: exact match}} and the CPU-seconds it took."""
    tok, model = load(folder)
    start, out = time.process_time(), {}
    for task in tasks:
        for length in lengths:
            seqs = sequences(length, rows, seed, coding=get_task(task).answer == "protein", gap=gap)
            answers = generate(model, tok, [render_prompt(task, s) for s in seqs],
                               [answer_tokens(tok, task, s) for s in seqs], batch_size=8)
            right = [parse_answer(task, a) == parse_answer(task, exact_answer(task, s)) for a, s in zip(answers, seqs)]
            out.setdefault(task, {})[length] = float(np.mean(right))
            print(folder, task, length, out[task][length], flush=True)
    return {"exact": out, "cpu_s": time.process_time() - start}


def markdown(runs: dict, lengths: list[int], rows: int, tasks=TASKS, gap: bool = False) -> str:
    held = f", each holding one run of {GAP[0]}-{GAP[1]} N at a random place" if gap else ""
    lines = [f"Exact match on {rows} random sequences per length{held} (trained on test-like rows of 20-300 nt and "
             f"crops of 12-300 nt; translation: n // 3 whole codons, no stop; under {MIN_RUN} letters a word to the "
             "tokenizer, which `ask` refuses), greedy (`python -m studies.aligned_lengths`).", "",
             "| task | model | " + " | ".join(f"{n} nt" for n in lengths) + " |", "|---|---|" + "---|" * len(lengths)]
    for task in tasks:
        for name, run in runs.items():
            lines.append(f"| {task} | {name} | " + " | ".join(f"{run['exact'][task][n]:.2f}" for n in lengths) + " |")
    lines += [""] + [f"{name}: `{run['folder']}`, {run['cpu_s']:.0f} CPU-s" for name, run in runs.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", type=Path, help="a second folder to compare with (optional)")
    p.add_argument("--after", type=Path, required=True)
    p.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 400, 500])
    p.add_argument("--rows", type=int, default=20)
    p.add_argument("--tasks", nargs="+", default=list(TASKS), choices=(*TASKS, "nt2aa"))
    p.add_argument("--gaps", action="store_true", help="each sequence holds one run of N (an assembly gap)")
    p.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    args = p.parse_args(argv)
    runs = {name: {"folder": str(folder), **exact(folder, args.lengths, args.rows, tasks=args.tasks, gap=args.gaps)}
            for name, folder in (("before", args.before), ("after", args.after)) if folder is not None}
    write_results(args.out, runs, markdown(runs, args.lengths, args.rows, args.tasks, args.gaps))


if __name__ == "__main__":
    main()
