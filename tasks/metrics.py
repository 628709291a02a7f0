"""Task metrics, computed locally (scikit-learn, scipy, rouge-score): never skipping unparseable answers.

Every function takes the gold values and the *parsed* predictions (`tasks.grammar.parse_answer` output), in
which an unparseable answer is an `Unparseable`. How each metric counts it:
- classification: a prediction of the extra class `<unparseable>` (always wrong, and it lowers MCC / macro-F1);
- regression: the farthest valid value from the gold one (0 or 1 for GC content), so it costs the most it can;
- generation / extraction: an empty string (exact match 0, identity 0, ROUGE-L 0).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from .grammar import Unparseable
from .registry import Task, get_task

UNPARSEABLE = "<unparseable>"
NUMBER_TOLERANCE = 0.01  # the model writes 3 decimals; within 1 point of the exact number counts as agreeing


def unparseable_rate(pred: Sequence) -> float:
    return float(np.mean([isinstance(p, Unparseable) for p in pred])) if len(pred) else 0.0


def classification(gold: Sequence[str], pred: Sequence) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef  # scoring only: the Space needs none of it

    p = [UNPARSEABLE if isinstance(x, Unparseable) else x for x in pred]
    return {"accuracy": float(accuracy_score(gold, p)), "mcc": float(matthews_corrcoef(gold, p)),
            "macro_f1": float(f1_score(gold, p, average="macro", labels=sorted(set(gold))))}


def regression(gold: Sequence[float], pred: Sequence, lo: float = 0.0, hi: float = 1.0) -> dict[str, float]:
    from scipy.stats import pearsonr

    g = np.asarray(gold, dtype=float)
    p = np.array([(hi if t - lo < hi - t else lo) if isinstance(x, Unparseable) else float(x) for t, x in zip(g, pred)])
    r = float(pearsonr(g, p).statistic) if len(g) > 1 and g.std() > 0 and p.std() > 0 else 0.0
    return {"mae": float(np.abs(g - p).mean()), "pearson": r}


def agrees(task: str | Task, value, exact) -> bool:
    """Whether a parsed answer agrees with the exact rule's parsed answer: a number within NUMBER_TOLERANCE,
    anything else equal; an unparseable answer never agrees."""
    if isinstance(value, Unparseable):
        return False
    if get_task(task).answer == "number":
        return abs(float(value) - float(exact)) <= NUMBER_TOLERANCE
    return value == exact


def identity(gold: str, pred: str) -> float:
    """Per-residue identity: matching positions over the longer length (a shift or a length error costs)."""
    return sum(a == b for a, b in zip(gold, pred)) / max(len(gold), len(pred), 1)


@functools.cache
def _rouge():  # loaded on first use, like scikit-learn and scipy above: the Space needs `identity` only
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def generation(gold: Sequence[str], pred: Sequence, with_identity: bool = False,
               with_rouge: bool = False) -> dict[str, float]:
    p = ["" if isinstance(x, Unparseable) else str(x) for x in pred]
    out = {"exact_match": float(np.mean([a == b for a, b in zip(gold, p)]))}
    if with_identity:
        out["identity"] = float(np.mean([identity(a, b) for a, b in zip(gold, p)]))
    if with_rouge:
        out["rouge_l"] = float(np.mean([_rouge().score(a, b)["rougeL"].fmeasure for a, b in zip(gold, p)]))
    return out


def score(task: str | Task, gold: Sequence, pred: Sequence) -> dict[str, float]:
    """All metrics of `task` (as listed in the task registry) plus the unparseable rate and n."""
    task = get_task(task)
    if len(gold) != len(pred):
        raise ValueError(f"{task.name}: {len(gold)} gold values but {len(pred)} predictions")
    if not len(gold):
        raise ValueError(f"{task.name}: nothing to score")
    if task.kind == "classify":
        out = classification(gold, pred)
    elif task.kind == "regress":
        out = regression(gold, pred)
    else:
        out = generation(gold, pred, "identity" in task.metrics, "rouge_l" in task.metrics)
    return {**out, "unparseable_rate": unparseable_rate(pred), "n": len(gold)}
