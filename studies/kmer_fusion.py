"""Do the model's states know more than the k-mers? A label head against k-mer LR on the same rows, and both mixed.

The shipped classifier heads (`finetune.training.label_heads`) read the transformer's states; k-mer logistic
regression (`dataset_scripts.audit.kmer_lr`, the baseline `make baselines` reports) reads 3- to 6-mer counts, and
still beats the heads on most TF and mouse sets. Is that the rows (the baseline fits on up to 20,000 train rows, the
heads on 3,000) or what the states hold? Per benchmark, on its dev rows (GenomicBenchmarks: train rows held out):
- **states**: the benchmark's own head (`fit_head` on `--rows` train rows, the task's `head_features`);
- **k-mer LR**: on the same `--rows` rows, and on up to 20,000 (the baseline's budget);
- **mixed**: the two models' log-probabilities mixed, w x states + (1 - w) x k-mers (late fusion), w in 0, 0.1 ..
  1 chosen on one half of the dev rows and scored on the other, both ways, averaged (so w is never chosen on the
  rows it is scored on); with the k-mer LR of the same rows and of 20,000.
If the mixed reading only matches the k-mer LR, the states add nothing the k-mers lack; above it, they add something.

One thread; states cost one forward pass per row (both strands where the task is strand-symmetric):

    python -m studies.kmer_fusion --rows 3000 --only tf_binding:GUE/tf_3 promoter:GUE/prom_core_all
        # -> studies/results/kmer_fusion.{md,json}
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from dataset_scripts.audit import kmer_lr
from finetune.training.label_heads import (_columns, benchmark_rows, fit_head, fit_states, head_features,
                                           task_benchmarks)
from modeling.inference import load
from modeling.scores import head_probabilities, task_states
from tasks.metrics import classification
from tasks.paths import SHIPPED_MODEL
from tasks.registry import get_task

from .tables import write_results

TABLE = Path("studies/results/kmer_fusion")
BASELINE_ROWS = 20000  # the k-mer LR baseline's train budget (finetune.evaluation.baselines --max-train)
WEIGHTS = np.linspace(0, 1, 11)
DEV_ROWS = 400
FLOOR = -50.0  # log-probabilities held above this (a probability of 0 would make the mixture 0 x -inf)


def log_probs(model, x, labels: tuple[str, ...]) -> np.ndarray:
    """(rows, labels) log-probabilities of a scikit-learn classifier, in `labels` order."""
    classes = list(model.classes_)
    return np.maximum(model.predict_log_proba(x)[:, [classes.index(label) for label in labels]], FLOOR)


def mcc(gold: np.ndarray, logp: np.ndarray, labels: tuple[str, ...]) -> float:
    return classification(list(gold), [labels[i] for i in logp.argmax(1)])["mcc"]


def mixed(gold: np.ndarray, states: np.ndarray, kmers: np.ndarray, labels: tuple[str, ...]) -> float:
    """MCC of w x states + (1 - w) x kmers (log-probabilities), w chosen on one half of the rows and scored on the
    other, both ways, averaged."""
    halves, scores = (np.arange(len(gold))[::2], np.arange(len(gold))[1::2]), []
    for pick, score in (halves, halves[::-1]):
        w = max(WEIGHTS, key=lambda v: mcc(gold[pick], v * states[pick] + (1 - v) * kmers[pick], labels))
        scores.append(mcc(gold[score], w * states[score] + (1 - w) * kmers[score], labels))
    return float(np.mean(scores))


def measure(model, tok, task_name: str, bench_name: str, rows: int) -> dict:
    task = get_task(task_name)
    bench = next((b for b in task_benchmarks(task_name) if b.name == bench_name), None)
    if bench is None:
        raise SystemExit(f"{task_name}:{bench_name}: no such benchmark with a train split")
    fit, dev = benchmark_rows(bench, task_name, rows, select_rows=DEV_ROWS)
    big, _ = benchmark_rows(bench, task_name, BASELINE_ROWS, select_rows=DEV_ROWS)
    reads = head_features(model, task)
    start = time.process_time()
    x, answers = fit_states(model, tok, task, fit, reads)
    head = {**fit_head(x, answers, task.labels), "features": list(reads)}
    states = np.maximum(np.log(head_probabilities(head, task_states(model, tok, task, *_columns(dev)[:2], reads))),
                        FLOOR)
    cpu = time.process_time() - start
    gold = dev["answer"].to_numpy()
    few = log_probs(kmer_lr(fit["sequence"], fit["answer"]), dev["sequence"], task.labels)
    many = log_probs(kmer_lr(big["sequence"], big["answer"]), dev["sequence"], task.labels)
    return {"benchmark": bench_name, "task": task_name, "fit_rows": len(fit), "baseline_rows": len(big),
            "dev_rows": len(dev), "states_cpu_s": round(cpu), "states": mcc(gold, states, task.labels),
            "kmer_lr": mcc(gold, few, task.labels), "kmer_lr_baseline_rows": mcc(gold, many, task.labels),
            "mixed": mixed(gold, states, few, task.labels),
            "mixed_baseline_rows": mixed(gold, states, many, task.labels)}


def markdown(rows: list[dict]) -> str:
    head = ("| benchmark | fit rows | states | k-mer LR | mixed | k-mer LR, baseline rows | mixed, baseline rows |\n"
            "|---|---|---|---|---|---|---|\n")
    body = "".join(f"| {r['benchmark']} | {r['fit_rows']:,} | {r['states']:.3f} | {r['kmer_lr']:.3f} | "
                   f"{r['mixed']:.3f} | {r['kmer_lr_baseline_rows']:.3f} ({r['baseline_rows']:,}) | "
                   f"{r['mixed_baseline_rows']:.3f} |\n" for r in rows)
    means = {k: np.mean([r[k] for r in rows]) for k in ("states", "kmer_lr", "mixed", "kmer_lr_baseline_rows",
                                                         "mixed_baseline_rows")}
    return ("Dev MCC per benchmark (`python -m studies.kmer_fusion`; states: the benchmark's own label head on the "
            "model's states; mixed: log-probabilities of states and k-mer LR mixed, the weight chosen on the other "
            f"half of the dev rows).\n\n{head}{body}\nMeans: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items())
            + ".\n")


def main(argv: list[str] | None = None) -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(SHIPPED_MODEL))
    p.add_argument("--rows", type=int, default=3000, help="train rows the states head and the first k-mer LR fit on")
    p.add_argument("--only", nargs="+", required=True, metavar="TASK:BENCHMARK")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    tok, model = load(args.model)
    rows = []
    for name in args.only:
        task_name, _, bench_name = name.partition(":")
        rows.append(measure(model, tok, task_name, bench_name, args.rows))
        print(rows[-1], flush=True)
    write_results(TABLE, rows, markdown(rows))


if __name__ == "__main__":
    main()
