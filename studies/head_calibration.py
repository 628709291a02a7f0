"""Can a user trust the class probabilities the shipped model shows (the Space's bars, `genomicllm ask`'s
"probabilities:", `ask(...).probabilities`)? Per classification benchmark, its head (the benchmark's own where it has
one, else the task's, as `make eval` asks) on rows no head was fitted on (`label_heads.benchmark_rows`: the dev split,
or the held-out quarter of the fit split), read as `ask` reads them: accuracy beside mean confidence (the top label's
probability), the expected calibration error over 10 confidence bins, log loss and the share of answers given with
more than 0.99.

    python -m studies.head_calibration [--rows 200] [--only GUE/tf_2 ...]   # -> studies/results/head_calibration.md

Nothing is fitted and nothing changes the answers (a probability's top label is the answer); a large gap between
confidence and accuracy is what a per-head temperature would mend.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from finetune.training.label_heads import _columns, benchmark_rows
from modeling.inference import load
from modeling.scores import HEADS, class_probabilities, own_heads
from studies.tables import write_results
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.paths import SHIPPED_MODEL
from tasks.registry import get_task

TABLE = Path("studies/results/head_calibration")
BINS = 10


def calibration(probs: np.ndarray, gold: np.ndarray) -> dict:
    """Accuracy, mean confidence, ECE (BINS equal-width confidence bins), log loss and the share above 0.99."""
    conf, right = probs.max(1), probs.argmax(1) == gold
    bins = np.minimum((conf * BINS).astype(int), BINS - 1)
    ece = sum(abs(right[bins == b].mean() - conf[bins == b].mean()) * (bins == b).mean()
              for b in range(BINS) if (bins == b).any())
    return {"n": len(gold), "accuracy": float(right.mean()), "confidence": float(conf.mean()), "ece": float(ece),
            "log_loss": float(-np.log(np.clip(probs[np.arange(len(gold)), gold], 1e-300, 1.0)).mean()),
            "over_0_99": float((conf > 0.99).mean())}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    ap.add_argument("--rows", type=int, default=200, help="held-out rows per benchmark (default: %(default)s)")
    ap.add_argument("--only", nargs="*", help="these benchmarks (default: every classification benchmark)")
    ap.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    args = ap.parse_args(argv)
    tok, model = load(args.model)
    rows = []
    for bench in discover(args.datasets, tuple(HEADS)):
        t = get_task(bench.task)
        if t.kind != "classify" or not bench.fit or (args.only and bench.name not in args.only):
            continue
        _, held = benchmark_rows(bench, t.name, 0, args.datasets, args.rows)
        seqs, fields, answers = _columns(held)
        start = time.process_time()
        probs = class_probabilities(model, tok, t, seqs, fields, bench.name)
        gold = np.array([t.labels.index(a.strip()) for a in answers])
        head = "own" if bench.name in own_heads(model, t) else "task"
        rows.append({"benchmark": bench.name, "head": head, **calibration(probs, gold),
                     "cpu_s": round(time.process_time() - start, 1)})
        print(rows[-1], flush=True)
    total = calibration_total(rows)
    md = ["Class probabilities of the shipped heads on held-out rows (`python -m studies.head_calibration --rows "
          f"{args.rows}`: the dev split, or the held-out quarter of the fit split; the benchmark's own head where it "
          "has one; some heads fitted before the held-out quarter was fixed may have seen a few of these rows). ECE: "
          "expected calibration error over 10 confidence bins; a well-calibrated head has its mean confidence near "
          "its accuracy and a small ECE.", "",
          "| benchmark | head | n | accuracy | mean confidence | ECE | log loss | confidence > 0.99 | CPU-s |",
          "|---|---|---|---|---|---|---|---|---|"]
    md += [f"| {r['benchmark']} | {r['head']} | {r['n']} | {r['accuracy']:.3f} | {r['confidence']:.3f} | "
           f"{r['ece']:.3f} | {r['log_loss']:.3f} | {r['over_0_99']:.2f} | {r['cpu_s']:.0f} |" for r in rows]
    md += ["", f"Over all {total['n']:,} rows (each benchmark weighed by its rows): accuracy {total['accuracy']:.3f}, "
           f"mean confidence {total['confidence']:.3f}, ECE (the benchmarks', row-weighted) {total['ece']:.3f}, log loss "
           f"{total['log_loss']:.3f}; answers above 0.99: {total['over_0_99']:.2f}.", ""]
    write_results(TABLE, rows, "\n".join(md))


def calibration_total(rows: list[dict]) -> dict:
    n = sum(r["n"] for r in rows)
    return {"n": n, **{k: sum(r[k] * r["n"] for r in rows) / max(n, 1)
                       for k in ("accuracy", "confidence", "ece", "log_loss", "over_0_99")}}


if __name__ == "__main__":
    main()
