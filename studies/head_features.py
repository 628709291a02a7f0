"""What should a label head read from the model's states? (issue 15)

The shipped label heads (`finetune.training.label_heads`) read one vector: the final layer's state at the question's
last token, the state the answer is generated from. A causal model's last state sees the whole question, but a
pooled average over every token also keeps what the model computed at each base (its learned k-mer neighbourhoods),
which a short-conv model holds in every position. Candidates, all the same class-balanced logistic regression
(`fit_head`) on the same train rows, scored on the same dev rows (`modeling.scores.question_states` names):
- **last**: the shipped reading;
- **last+mean**: with the final layer's states averaged over the question's tokens;
- **last+means**: with the average of every layer's output (embeddings and each block);
- **mean**: the final layer's average alone;
- **last+means+max** / **last+means+maxes**: last+means with the last block's (every block's) largest value of
  each feature over the question (a motif anywhere, as a CNN's global max pooling reads it);
- **last+means+phase** / **last+means+phases**: last+means with the last block's (every block's) average at each
  codon position of the DNA run (the first is what the shipped ORF frame head reads: a strand's codon structure).

One forward pass per row (both strands where the task is strand-symmetric) gives every candidate's features. One
thread; the same dev rows as `evaluate --split dev --max-rows N` (seed 0; from train, apart from the fit rows,
where a benchmark has no dev split), `--fit-rows` train rows per benchmark:

    python -m studies.head_features --rows 200 --fit-rows 1000   # -> studies/results/head_features.{md,json}
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from finetune.evaluation.evaluate import main_metric
from finetune.training.label_heads import fit_head, layer_means
from modeling.inference import load
from modeling.scores import head_probabilities
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.metrics import classification
from tasks.registry import get_task

from .label_scoring import sample, states
from .tables import mean_mcc_line, write_results

TABLE = Path("studies/results/head_features")


def candidates(layers: int) -> dict[str, tuple[str, ...]]:
    means = layer_means(layers)
    maxes = tuple(f"max@{k}" for k in range(1, layers + 1))
    return {"last": ("last",), "last+mean": ("last", "mean"), "last+means": ("last",) + means, "mean": ("mean",),
            "last+means+max": ("last",) + means + (f"max@{layers}",), "last+means+maxes": ("last",) + means + maxes,
            "last+means+phase": ("last",) + means + (f"phase@{layers}",),
            "last+means+phases": ("last",) + means + tuple(f"phase@{k}" for k in range(1, layers + 1))}


def dev_and_fit(bench, rows: int, fit_rows: int):
    """`rows` dev rows and `fit_rows` train rows; a benchmark with no dev split (GenomicBenchmarks) gives its dev
    rows from train, drawn before the fit rows, which come from the rest."""
    if bench.dev in bench.splits:
        return sample(bench, bench.dev, rows, 0), sample(bench, "train", fit_rows, 1)
    train = bench.load("train", DATASETS_DIR)
    dev = train.sample(n=min(rows, len(train) // 2), random_state=0)
    rest = train.drop(dev.index)
    return dev, rest.sample(n=min(fit_rows, len(rest)), random_state=1)


def columns(features: tuple[str, ...], chosen: tuple[str, ...], hidden: int) -> np.ndarray:
    """Indices of the `chosen` features' columns in states read with `features` (a phase feature: 3 x hidden)."""
    widths = [3 * hidden if f.startswith("phase@") else hidden for f in features]
    starts = np.cumsum([0] + widths)
    return np.concatenate([np.arange(widths[i]) + starts[i] for i in map(features.index, chosen)])


def score(results: dict, features: tuple[str, ...], hidden: int, layers: int) -> None:
    """Fit one head per task and candidate on its benchmarks' pooled train states; add each benchmark's metrics."""
    for task in {r["task"] for r in results.values()}:
        names = [n for n, r in results.items() if r["task"] == task]
        labels = get_task(task).labels
        fit_x = np.concatenate([results[n]["fit"] for n in names])
        fit_y = [g for n in names for g in results[n]["fit_gold"]]
        for cand, chosen in candidates(layers).items():
            cols = columns(features, chosen, hidden)
            head = fit_head(fit_x[:, cols], fit_y, labels)
            for n in names:
                pred = [labels[i] for i in head_probabilities(head, results[n]["dev"][:, cols]).argmax(1)]
                results[n]["metrics"][cand] = classification(results[n]["gold"], pred)


def markdown(results: dict, args, seconds: float, names: list[str]) -> str:
    lines = [f"# Label head features ({args.model}, dev {args.rows} rows, {args.fit_rows} train rows per benchmark)",
             "", __doc__.split("\n\n")[1], "", "| benchmark | metric | " + " | ".join(names) + " |",
             "|---|---|" + "---|" * len(names)]
    means = {c: [] for c in names}
    for name, r in sorted(results.items()):
        m = main_metric(r["task"], name)
        vals = [r["metrics"][c][m] for c in names]
        if m == "mcc":
            for c, v in zip(names, vals):
                means[c].append(v)
        lines.append(f"| {name} | {m} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    lines += ["", mean_mcc_line(means),
              f"States of {len(results)} benchmarks took {seconds:.0f} process CPU-seconds (one thread; fits apart)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="release/GenomicLLM")
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--fit-rows", type=int, default=1000, help="train rows per benchmark for the heads")
    ap.add_argument("--only", nargs="*", help="benchmark names (default: every one with train and dev splits)")
    ap.add_argument("--states-out", type=Path, help="save the states (.npz) to merge runs split over processes")
    ap.add_argument("--merge", nargs="*", type=Path, help="score saved states instead of reading new ones")
    ap.add_argument("--out", type=Path, default=TABLE)
    args = ap.parse_args(argv)
    tok, model = load(args.model)
    hidden, layers = model.config.hidden_size, model.config.num_layers
    features = candidates(layers)["last+means+maxes"] + ("mean",) + tuple(f"phase@{k}" for k in range(1, layers + 1))
    results, seconds = {}, 0.0
    if args.merge:
        for path in args.merge:
            saved = np.load(path, allow_pickle=True)
            results.update(saved["results"].item())
            seconds += float(saved["cpu_s"])
    else:
        start = time.process_time()
        for b in discover(DATASETS_DIR):
            if "train" not in b.splits or (args.only and b.name.split("/")[-1] not in args.only):
                continue
            task = get_task(b.task)
            dev, fit = dev_and_fit(b, args.rows, args.fit_rows)
            results[b.name] = {"task": task.name, "gold": dev["answer"].tolist(), "metrics": {},
                               "dev": states(model, tok, task, dev, features),
                               "fit": states(model, tok, task, fit, features), "fit_gold": fit["answer"].tolist()}
            print(b.name, f"{time.process_time() - start:.0f} CPU-s", flush=True)
        seconds = time.process_time() - start
        if args.states_out:
            np.savez(args.states_out, results=np.array(results, dtype=object), cpu_s=seconds)
            return
    score(results, features, hidden, layers)
    names = list(candidates(layers))
    kept = {n: {"task": r["task"], "rows": len(r["gold"]), "metrics": r["metrics"]} for n, r in results.items()}
    write_results(args.out, {"model": args.model, "rows": args.rows, "fit_rows": args.fit_rows, "cpu_s": seconds,
                             "candidates": candidates(layers), "results": kept},
                  markdown(results, args, seconds, names))
    print(json.dumps({c: round(float(np.mean([r["metrics"][c]["mcc"] for r in results.values()])), 3)
                      for c in names}))


if __name__ == "__main__":
    main()
