"""Would the shipped model answer the same if its weights file held float16 (or bfloat16) instead of float32?

The model computes in float32 either way (`config.dtype` is float32, so `from_pretrained` casts the stored weights up);
only the stored values are rounded. Each benchmark's test rows (a sample of `--rows`, the seed `make eval` uses) are
answered as `make eval` answers them (`finetune.evaluation.evaluate`: a classification by its benchmark's head, GC
content by its value head, the rest by greedy generation) by the float32 weights and by the same weights rounded
through `--dtype`; the table gives, per benchmark, the share of rows answered alike, the headline metric of each and
the largest change of a class probability. The label and value heads in `config.json` are not rounded.

    mkdir -p build/fp32 && git archive 617b4fa release/GenomicLLM | tar -x -C build/fp32   # the float32 folder
    python -m studies.weight_precision --model build/fp32/release/GenomicLLM [--rows 300] [--dtype float16]
        [--only GUE/tf_1 ...]   # -> studies/results/weight_precision.{md,json}
"""

from __future__ import annotations

import argparse
import copy
import re
import time
from pathlib import Path

import numpy as np
import torch

from finetune.evaluation.evaluate import evaluated_rows, head_answers, main_metric, read_by_heads, score_rows
from modeling.inference import load
from studies.tables import write_results
from tasks import parse_answer
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.grammar import read_fields
from tasks.metrics import score
from tasks.registry import KINDS

TABLE = Path("studies/results/weight_precision")


def rounded(model, dtype: torch.dtype, names: str = ".*"):
    """A copy of `model` whose floating weights whose names match `names` (a regular expression, searched) went
    through `dtype` and back: what loading a weights file that stores them in `dtype` into float32 gives."""
    copied = copy.deepcopy(model)
    with torch.no_grad():
        for name, tensor in copied.state_dict().items():
            if tensor.is_floating_point() and re.search(names, name):
                tensor.copy_(tensor.to(dtype).to(tensor.dtype))
    return copied


def answers(model, tok, name: str, task: str, rows) -> tuple[list, np.ndarray | None]:
    """(answers, class probabilities or values; None for generated text) of `rows`, as `make eval` answers them."""
    if not read_by_heads(model, task):
        return score_rows(model, tok, task, rows["prompt"].tolist(), rows["answer"].tolist())[1], None
    fields = rows["fields"].tolist() if "fields" in rows else [None] * len(rows)
    return head_answers(model, tok, task, rows["sequence"].tolist(), [read_fields(f) for f in fields], name)


def compare(exact, stored, tok, bench, rows_cap: int, seed: int = 0) -> list[dict]:
    """One record per task of `bench`: both models' answers on the same test rows."""
    out = []
    for name, task, rows, _ in evaluated_rows(bench, "test", DATASETS_DIR, rows_cap, seed):  # `make eval`'s sample
        start = time.process_time()
        (p32, read32), (p16, read16) = (answers(m, tok, bench.name, task, rows) for m in (exact, stored))
        gold, metric = [parse_answer(task, a) for a in rows["answer"]], main_metric(task, bench.name)
        same = [a == b or (a != a and b != b) for a, b in zip(p32, p16)]  # NaN == NaN: both unparseable
        out.append({"benchmark": name, "n": len(rows), "metric": metric, "float32": score(task, gold, p32)[metric],
                    "stored": score(task, gold, p16)[metric], "same_answers": float(np.mean(same)),
                    "max_change": None if read32 is None else float(np.abs(read32 - read16).max()),
                    "cpu_s": round(time.process_time() - start, 1)})
        print(row_line(out[-1]), flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a folder of float32 weights")
    ap.add_argument("--rows", type=int, default=300, help="test rows per benchmark, 0 for all (default: %(default)s)")
    ap.add_argument("--dtype", choices=("float16", "bfloat16"), default="float16")
    ap.add_argument("--weights", default=".*", help="round only the weights whose names match (a regular expression)")
    ap.add_argument("--only", nargs="*", help="these benchmarks (default: all)")
    ap.add_argument("--out", type=Path, default=TABLE)
    args = ap.parse_args(argv)
    tok, exact = load(args.model)
    if getattr(exact.config, "stored_dtype", None) not in (None, "float32"):  # older remote code has none
        raise SystemExit(f"{args.model} stores its weights as {exact.config.stored_dtype} already: give the float32 "
                         "folder they were rounded from (the shipped one before 5e9fa5e: `git show 617b4fa:...`)")
    stored = rounded(exact, getattr(torch, args.dtype), args.weights)
    records = []
    for bench in discover(DATASETS_DIR, KINDS):
        if "test" in bench.splits and not (args.only and bench.name not in args.only):
            records += compare(exact, stored, tok, bench, args.rows)
    same = sum(r["same_answers"] * r["n"] for r in records) / sum(r["n"] for r in records)
    summary = (f"Weights matching `{args.weights}` stored as {args.dtype}, computed in float32: "
               f"{sum(r['n'] for r in records):,} test rows ({args.rows or 'all'} per benchmark at most), answered "
               f"alike **{same:.4f}**; {sum(r['cpu_s'] for r in records):,.0f} CPU-s for both.")
    command = (f"python -m studies.weight_precision --rows {args.rows} --dtype {args.dtype} --weights '{args.weights}'"
               + (f" --only {' '.join(args.only)}" if args.only else ""))
    lines = [f"`{command}`", "", HEADER, "|---" * 7 + "|"] + [row_line(r) for r in records] + ["", summary]
    write_results(args.out, records, "\n".join(lines) + "\n")


HEADER = "| benchmark | n | metric | float32 | stored | answered alike | largest change of a probability / value |"


def row_line(r: dict) -> str:
    change = "–" if r["max_change"] is None else f"{r['max_change']:.2e}"
    return (f"| {r['benchmark']} | {r['n']} | {r['metric']} | {r['float32']:.4f} | {r['stored']:.4f} | "
            f"{r['same_answers']:.4f} | {change} |")

if __name__ == "__main__":
    main()
