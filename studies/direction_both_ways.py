"""Sequence direction read both ways: the label head on the sequence, on the sequence read backwards (labels
swapped: `Task.reversed_labels`), and the two readings' probabilities averaged, as `modeling.scores` and `generate`
now answer. The same head (the model's, not refitted), the same rows (`evaluate`'s sample: seed 0), asked with the
rows' fields and without them. One thread:

    python -m studies.direction_both_ways --split dev --rows 400      # -> studies/results/direction_both_ways.{md,json}
    python -m studies.direction_both_ways --split test --rows 1000 --out studies/results/direction_both_ways_test
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from modeling.inference import load
from modeling.scores import head, head_probabilities, task_states
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.grammar import read_fields
from tasks.metrics import classification
from tasks.registry import get_task

from .tables import write_results

BENCHMARK = "GenomicLLM_GRCh38/sequence_direction"
READINGS = ("forward only", "backwards only", "both")


def readings(model, tok, sequences: list[str], fields) -> dict:
    """Each reading's (rows, labels) probabilities, from the task's pooled head."""
    task = get_task("sequence_direction")
    entry = head(model, task)
    if entry is None:
        raise SystemExit("this model has no sequence_direction head")
    forward = head_probabilities(entry, task_states(model, tok, task, sequences, fields, entry["features"]))
    backwards = head_probabilities(entry, task_states(model, tok, task, [s[::-1] for s in sequences], fields,
                                                      entry["features"]))
    backwards = backwards[:, [task.labels.index(lab) for lab in task.reversed_labels]]
    return dict(zip(READINGS, (forward, backwards, (forward + backwards) / 2)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="release/GenomicLLM")
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path("studies/results/direction_both_ways"))
    args = ap.parse_args(argv)
    tok, model = load(args.model)
    bench = next(b for b in discover(DATASETS_DIR) if b.name == BENCHMARK)
    df = bench.load(bench.dev if args.split == "dev" else "test", DATASETS_DIR)
    df = df.sample(n=min(args.rows, len(df)), random_state=0)
    labels, gold = get_task("sequence_direction").labels, df["answer"].tolist()
    start, results = time.process_time(), {}
    for asked, fields in (("with fields", [read_fields(f) for f in df["fields"]]), ("without fields", None)):
        for name, probs in readings(model, tok, df["sequence"].tolist(), fields).items():
            results[f"{asked}, {name}"] = classification(gold, [labels[i] for i in probs.argmax(1)])
    cpu = time.process_time() - start
    lines = [f"# Sequence direction read both ways ({args.model}, {args.split}, {len(df)} rows)", "",
             __doc__.split("\n\n")[0].replace("\n", " "), "", "| asked | reading | mcc | accuracy |",
             "|---|---|---|---|"]
    lines += [f"| {k.split(', ')[0]} | {k.split(', ')[1]} | {m['mcc']:.3f} | {m['accuracy']:.3f} |"
              for k, m in results.items()]
    lines += ["", f"{cpu:.0f} process CPU-seconds, one thread.", ""]
    write_results(args.out, {"model": args.model, "split": args.split, "rows": len(df), "cpu_s": cpu,
                             "results": results}, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
