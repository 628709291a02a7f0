"""Score a fine-tuned model on a user task's rows, beside the cheap baselines on the same split.

- `lm`: greedy answers, parsed by the grammar (`finetune.evaluation.evaluate.score_rows`, the path of `make eval`);
  an unparseable answer counts as wrong.
- `head`: the label with the highest class probability.
Metrics: `tasks.metrics.score` (MCC, accuracy, macro-F1, the unparseable rate, n). Baselines, fitted on the train
split only: the k-mer logistic regression (`dataset_scripts.audit.kmer_lr`, the one `make baselines` reports) and
always answering the majority train label.

    genomicllm score --adapter DIR --data FILE      # score_file: any labelled file, labels as in the training file
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dataset_scripts.audit import kmer_lr
from finetune.evaluation.evaluate import confusion_png, score_rows
from modeling.inference import head_probabilities
from tasks import Task
from tasks.metrics import classification, score

from .examples import fit_to_context, prompts
from .userdata import UserData, read_labelled


def predict_and_score(model, tok, task: Task, df: pd.DataFrame, objective: str) -> tuple[dict, list]:
    """(metrics, parsed predictions) of `df`'s rows."""
    texts = prompts(task, df)
    if objective == "head":
        pred = [task.labels[i] for i in head_probabilities(model, tok, texts).argmax(-1)]
        return score(task, df["label"].tolist(), pred), pred
    return score_rows(model, tok, task, texts, df["label"].tolist())


def baselines(task: Task, train: pd.DataFrame, test: pd.DataFrame, seed: int = 0) -> dict:
    """k-mer LR and the majority label, fitted on train, scored on test like the model (classification metrics)."""
    out = {}
    gold = test["label"].tolist()
    lr = kmer_lr(train["sequence"].tolist(), train["label"].tolist(), seed)
    out["kmer_lr"] = {**classification(gold, list(lr.predict(test["sequence"].tolist()))), "n": len(gold)}
    majority = train["label"].value_counts().idxmax()
    out["majority"] = {**classification(gold, [majority] * len(gold)), "n": len(gold), "label": majority}
    return out


def evaluate_test(model, tok, task: Task, data: UserData, objective: str, out: Path | None = None) -> dict:
    """The test split: the model's metrics, the baselines', and (with `out`) a confusion-matrix PNG."""
    test = data.splits["test"]
    metrics, pred = predict_and_score(model, tok, task, test, objective)
    result = {"split": "test", "ours": metrics, "baselines": baselines(task, data.splits["train"], test)}
    if out is not None:
        confusion_png(task, test["label"].tolist(), pred, f"{task.name} (test)", out / "confusion.png")
    return result


def score_file(tok, model, task: Task, meta: dict, data: Path, sequence_column: str = "sequence",
               label_column: str = "label", window: int | None = None) -> dict:
    """Metrics of the model on every row of a labelled file (its labels mapped as the training file's were)."""
    df = read_labelled(data, meta.get("label_map", {}), task.labels, sequence_column, label_column)
    checked = fit_to_context(tok, task, UserData({"file": df}, task.labels, {}), model.config.max_position_embeddings,
                             window)
    metrics, _ = predict_and_score(model, tok, task, checked.splits["file"], meta.get("objective", "lm"))
    return metrics


__all__ = ["baselines", "evaluate_test", "predict_and_score", "score_file"]
