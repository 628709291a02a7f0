"""A label head reading a question more than one way: on the sequence as asked, on each other reading that decides
the label (`Task.readings`: sequence direction read backwards, labels swapped; an ORF frame read from its second
and third base, frames shifted), and every reading's probabilities averaged, as `modeling.scores` and `generate`
answer since 2026-12-06. The same head (the model's pooled one, not refitted), the same rows (`evaluate`'s sample:
seed 0), asked with the rows' fields and without them. One thread:

    python -m studies.head_readings --task sequence_direction --split dev --rows 400
    python -m studies.head_readings --task orf_frame --split test --rows 1000  # results/head_readings_<task>_<split>
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from modeling.inference import load
from modeling.scores import head, reading_probabilities
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.grammar import read_fields
from tasks.metrics import classification
from tasks.registry import get_task

from .tables import write_results


def readings(model, tok, task, sequences: list[str], fields) -> dict:
    """Each reading's (rows, labels) probabilities (`modeling.scores.reading_probabilities`) and their average
    ("every reading", what `class_probabilities` answers)."""
    entry = head(model, task)
    if entry is None:
        raise SystemExit(f"this model has no {task.name} head")
    out = {k.replace("_", " "): v for k, v in reading_probabilities(model, tok, task, entry, sequences, fields).items()}
    out["every reading"] = sum(out.values()) / len(out)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="release/GenomicLLM")
    ap.add_argument("--task", required=True, help="a classification task with other readings (Task.readings)")
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--out", type=Path, help="default: studies/results/head_readings_<task>_<split>")
    args = ap.parse_args(argv)
    task = get_task(args.task)
    if not task.readings:
        raise SystemExit(f"{task.name} has no other readings (Task.readings)")
    tok, model = load(args.model)
    bench = next(b for b in discover(DATASETS_DIR) if b.task == task.name and "train" in b.splits)
    df = bench.load(bench.dev if args.split == "dev" else "test", DATASETS_DIR)
    df = df.sample(n=min(args.rows, len(df)), random_state=0)
    gold = df["answer"].tolist()
    start, results = time.process_time(), {}
    for asked, fields in (("with fields", [read_fields(f) for f in df["fields"]]), ("without fields", None)):
        for name, probs in readings(model, tok, task, df["sequence"].tolist(), fields).items():
            results[f"{asked}: {name}"] = classification(gold, [task.labels[i] for i in probs.argmax(1)])
    cpu = time.process_time() - start
    lines = [f"# {bench.name} read more than one way ({args.model}, {args.split}, {len(df)} rows)", "",
             __doc__.split("\n\n")[0].replace("\n", " "), "", "| asked | reading | mcc | accuracy |",
             "|---|---|---|---|"]
    lines += [f"| {k.split(': ')[0]} | {k.split(': ')[1]} | {m['mcc']:.3f} | {m['accuracy']:.3f} |"
              for k, m in results.items()]
    lines += ["", f"{cpu:.0f} process CPU-seconds, one thread.", ""]
    out = args.out or Path(f"studies/results/head_readings_{task.name}_{args.split}")
    write_results(out, {"model": args.model, "benchmark": bench.name, "split": args.split, "rows": len(df),
                        "cpu_s": cpu, "results": results}, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
