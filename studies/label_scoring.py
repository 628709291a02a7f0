"""How should a classification answer be read from the model? (issue 15)

`make eval` reads a class the way `model.generate` writes it: greedy tokens, parsed by the grammar (an unparseable
answer is wrong). The model also scores every label (`modeling.scores.label_logprobs`), which gives three more
readings of the same weights, with no training:
- **argmax**: the label of highest probability (never unparseable);
- **both strands**: where the task's label does not depend on the strand written (`Task.strand_symmetric`: TF
  binding, histone marks, enhancers, open chromatin), the probabilities of the sequence and of its reverse
  complement averaged (Caduceus' post-hoc conjoining), then argmax;
- **probe**: a balanced logistic regression on the model's last hidden state at the question's last token (the
  state its answer is read from; both strands' states averaged where symmetric), one per task, fitted on
  `--fit-rows` *train* rows of each benchmark: a linear head where `calibrated` only re-weighs the label scores;
- **calibrated**: a multinomial logistic regression on the label log-probabilities (of each strand where symmetric),
  class-balanced, one per *task* (a user asks "transcription factor binding site", not "GUE tf_3", so the fit pools
  the dev rows of every benchmark of the task), scored 5-fold cross-fitted (no row is scored by a fit that saw it):
  it corrects a model that leans to one class, which MCC punishes.

Each classification benchmark with a train and a dev split, the same dev rows as `evaluate --split dev --max-rows N`
(seed 0), one thread:

    python -m studies.label_scoring --model release/GenomicLLM --rows 200   # -> studies/results/label_scoring.{md,json}
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from finetune.evaluation.evaluate import main_metric, score_rows
from finetune.training.label_heads import fit_head
from modeling.inference import load
from modeling.scores import FEATURES, head_probabilities, label_logprobs, task_states
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.grammar import read_fields, render_prompt
from tasks.metrics import classification
from tasks.registry import get_task
from tasks.rules import reverse_complement

from .tables import mean_mcc_line, write_results

TABLE = Path("studies/results/label_scoring")
READINGS = ("greedy", "argmax", "both strands", "calibrated", "probe")


def label_scores(model, tok, task, prompts: list[str]) -> np.ndarray:
    """(rows, labels) log-probabilities of each label, normalised over the labels."""
    labels = get_task(task).labels
    raw = np.array([[s[lab] for lab in labels] for s in (label_logprobs(model, tok, p, labels) for p in prompts)])
    return raw - np.logaddexp.reduce(raw, axis=1, keepdims=True)


def strand_prompts(task, rows) -> list[str]:
    """The prompts of the rows' reverse complements (the rows' own prompts are checked to be the grammar's)."""
    out = []
    for seq, prompt in zip(rows["sequence"], rows["prompt"]):
        if render_prompt(task, seq) != prompt:
            raise ValueError(f"{task}: a row's prompt is not the grammar's for its sequence: {prompt[:80]!r}")
        out.append(render_prompt(task, reverse_complement(seq)))
    return out


def cross_fitted(scores: np.ndarray, gold: list[str], labels: tuple[str, ...], folds: int = 5) -> list[str]:
    """Each row's class from a balanced logistic regression on the scores, fitted on the other folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.array([labels.index(g) for g in gold])
    folds = min(folds, int(np.bincount(y).min()))
    if folds < 2:
        return [labels[i] for i in scores.argmax(1)]
    fit = LogisticRegression(class_weight="balanced", max_iter=1000)
    pred = cross_val_predict(fit, scores, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    return [labels[i] for i in pred]


def sample(bench, split: str, rows: int, seed: int):
    df = bench.load(split, DATASETS_DIR)
    return df.sample(n=rows, random_state=seed) if len(df) > rows else df


def readings(model, tok, bench, rows: int, fit_rows: int) -> dict:
    """Greedy metrics, the label scores (one strand, both strands) and the last states of `rows` dev rows of one
    benchmark, and the last states of `fit_rows` train rows (the probe's fit)."""
    task = get_task(bench.task)
    df = sample(bench, bench.dev, rows, 0)
    fit = sample(bench, "train", fit_rows, 1)
    gold = df["answer"].tolist()
    greedy, _ = score_rows(model, tok, task.name, df["prompt"].tolist(), gold)
    fwd = label_scores(model, tok, task, df["prompt"].tolist())
    both, features = fwd, fwd
    if task.strand_symmetric:
        rc = label_scores(model, tok, task, strand_prompts(task, df))
        both, features = np.logaddexp(fwd, rc) - np.log(2), np.hstack([fwd, rc])
    pick = lambda s: [task.labels[i] for i in s.argmax(1)]  # noqa: E731
    return {"task": task.name, "rows": len(df), "symmetric": task.strand_symmetric, "gold": gold,
            "metrics": {"greedy": greedy, "argmax": classification(gold, pick(fwd)),
                        "both strands": classification(gold, pick(both))}, "scores": features,
            "states": states(model, tok, task, df), "fit": (states(model, tok, task, fit), fit["answer"].tolist())}


def states(model, tok, task, df, features=FEATURES) -> np.ndarray:
    """The rows' states as a label head reads them (`features`; both strands averaged where symmetric)."""
    fields = [read_fields(f) for f in df["fields"]] if "fields" in df else None
    return task_states(model, tok, task, df["sequence"].tolist(), fields, features)


def probe(results: dict) -> None:
    """Add each benchmark's "probe" metrics: one label head per task (`finetune.training.label_heads.fit_head`) on
    its benchmarks' train rows' states."""
    for task in {r["task"] for r in results.values()}:
        names = [n for n, r in results.items() if r["task"] == task]
        labels = get_task(task).labels
        head = fit_head(np.concatenate([results[n]["fit"][0] for n in names]),
                        [g for n in names for g in results[n]["fit"][1]], labels)
        for n in names:
            pred = [labels[i] for i in head_probabilities(head, results[n]["states"]).argmax(1)]
            results[n]["metrics"]["probe"] = classification(results[n]["gold"], pred)


def calibrate(results: dict) -> None:
    """Add each benchmark's "calibrated" metrics: one cross-fitted regression per task over its benchmarks' rows."""
    for task in {r["task"] for r in results.values()}:
        names = [n for n, r in results.items() if r["task"] == task]
        gold = [g for n in names for g in results[n]["gold"]]
        pred = cross_fitted(np.concatenate([results[n]["scores"] for n in names]), gold, get_task(task).labels)
        for n in names:
            k = len(results[n]["gold"])
            results[n]["metrics"]["calibrated"] = classification(results[n]["gold"], pred[:k])
            pred = pred[k:]


def markdown(results: dict, model: str, rows: int, seconds: float) -> str:
    lines = [f"# Reading a class from the model: greedy text vs label scores ({model}, dev, {rows} rows each)", "",
             __doc__.split("\n\n")[1], "", "| benchmark | metric | both strands? | " + " | ".join(READINGS) + " |",
             "|---|---|---|" + "---|" * len(READINGS)]
    means = {r: [] for r in READINGS}
    for name, r in results.items():
        m = main_metric(r["task"], name)
        vals = [r["metrics"][k][m] for k in READINGS]
        if m == "mcc":
            for k, v in zip(READINGS, vals):
                means[k].append(v)
        lines.append(f"| {name} | {m} | {'yes' if r['symmetric'] else 'no'} | "
                     + " | ".join(f"{v:.3f}" for v in vals) + " |")
    lines += ["", mean_mcc_line(means),
              f"All readings of {len(results)} benchmarks took {seconds:.0f} process CPU-seconds (one thread)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="release/GenomicLLM")
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--fit-rows", type=int, default=1000, help="train rows per benchmark for the probe")
    ap.add_argument("--only", nargs="*", help="benchmark names (default: every one with train and dev splits)")
    ap.add_argument("--out", type=Path, default=TABLE)
    args = ap.parse_args(argv)
    tok, model = load(args.model)
    start = time.process_time()
    results = {}
    for b in discover(DATASETS_DIR):
        if "train" not in b.splits or b.dev not in b.splits or (args.only and b.name not in args.only):
            continue
        results[b.name] = readings(model, tok, b, args.rows, args.fit_rows)
        print(b.name, {k: round(v["mcc"], 3) for k, v in results[b.name]["metrics"].items()}, flush=True)
    calibrate(results)
    probe(results)
    seconds = time.process_time() - start
    shown = ("task", "rows", "symmetric", "metrics")
    kept = {n: {k: v for k, v in r.items() if k in shown} for n, r in results.items()}
    write_results(args.out, {"model": args.model, "rows": args.rows, "cpu_s": seconds, "results": kept},
                  markdown(results, args.model, args.rows, seconds))


if __name__ == "__main__":
    main()
