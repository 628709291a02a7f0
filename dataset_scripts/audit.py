"""Leakage audit: duplicate sequences across splits, and metadata fields that predict the label on their own.

Field leakage is measured honestly out of sample: the majority label per field value is learnt on the train split and
scored on the held-out split (values unseen in train fall back to the overall majority), against the held-out base
rate (accuracy of always answering the train majority). A field whose gain exceeds `LEAK_THRESHOLD` is a leak and is
left out of prompts.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

LEAK_THRESHOLD = 0.05  # 5 accuracy points over the base rate
SPLIT_PRIORITY = ("test", "validation", "dev", "train")  # who keeps a sequence seen in several splits


@dataclass
class FieldLeak:
    field: str
    base_rate: float
    field_accuracy: float
    n_values: int
    in_prompt: bool

    @property
    def gain(self) -> float:
        return self.field_accuracy - self.base_rate

    @property
    def leaks(self) -> bool:
        return self.gain > LEAK_THRESHOLD


def priority_order(splits) -> list[str]:
    """Split names, the one that keeps a shared sequence first (test > validation/dev > train > others)."""
    return sorted(splits, key=lambda s: SPLIT_PRIORITY.index(s) if s in SPLIT_PRIORITY else len(SPLIT_PRIORITY))


def dedup_across_splits(splits: dict[str, pd.DataFrame], key: str = "sequence",
                        within: bool = False) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Drop rows whose `key` already appears in a higher-priority split (test > validation/dev > train).

    With `within=True` duplicates inside one split are dropped too (keep first). Returns (new splits, rows removed per split).
    """
    seen: set = set()
    out, removed = {}, {}
    for name in priority_order(splits):
        df = splits[name]
        keep = ~df[key].isin(seen)
        if within:
            keep &= ~df[key].duplicated(keep="first")
        out[name] = df[keep].reset_index(drop=True)
        removed[name] = int((~keep).sum())
        seen.update(df[key])
    return {s: out[s] for s in splits}, removed


def digest64(texts) -> np.ndarray:
    """8-byte blake2b digest of each string, as uint64: de-duplication keys that cost 8 bytes a row."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts),
                       dtype=np.uint64)


def hashed_dedup_masks(sequence_keys: dict[str, np.ndarray], question_keys: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rows to keep per split, by the rule of `dedup_across_splits` applied to digests: a sequence already in a
    higher-priority split is dropped, and within a split a repeated (question, sequence) key keeps its first row."""
    keep, seen = {}, np.empty(0, dtype=np.uint64)
    for name in priority_order(sequence_keys):
        first = np.zeros(len(question_keys[name]), dtype=bool)
        first[np.unique(question_keys[name], return_index=True)[1]] = True
        keep[name] = first & ~np.isin(sequence_keys[name], seen)
        seen = np.union1d(seen, sequence_keys[name][keep[name]])
    return keep


def cross_split_duplicates(splits: dict[str, pd.DataFrame], key: str = "sequence") -> int:
    """Number of distinct `key` values present in more than one split."""
    counts: dict = {}
    for df in splits.values():
        for v in set(df[key]):
            counts[v] = counts.get(v, 0) + 1
    return sum(1 for c in counts.values() if c > 1)


def leakage_from_counts(field: str, train: Counter, held_out: Counter, in_prompt: bool = True) -> FieldLeak:
    """The audit from (field value, label) -> count tables of train and held-out (so it can run streaming).

    Ties go to the label that sorts first, in the per-value and the overall majority alike."""
    totals: Counter = Counter()
    per_value: dict = {}
    for (value, label), n in train.items():
        totals[label] += n
        per_value.setdefault(value, Counter())[label] += n
    pick = lambda c: min(c, key=lambda lab: (-c[lab], str(lab)))  # noqa: E731
    majority = pick(totals)
    predicted = {v: pick(c) for v, c in per_value.items()}
    n_held = sum(held_out.values())
    base = sum(n for (_, label), n in held_out.items() if label == majority) / n_held
    acc = sum(n for (value, label), n in held_out.items() if predicted.get(value, majority) == label) / n_held
    return FieldLeak(field, base, acc, len(per_value), in_prompt)


def field_leakage(train: pd.DataFrame, held_out: pd.DataFrame, field: str, label: str = "label",
                  in_prompt: bool = True) -> FieldLeak:
    count = lambda df: Counter(zip(df[field], df[label]))  # noqa: E731
    return leakage_from_counts(field, count(train), count(held_out), in_prompt)


def held_out_split(splits: dict[str, pd.DataFrame]) -> str | None:
    for name in ("test", "validation", "dev"):
        if name in splits and len(splits[name]):
            return name
    return None


def audit_fields(splits: dict[str, pd.DataFrame], fields: list[str], prompt_fields: list[str],
                 label: str = "label") -> list[FieldLeak]:
    """Leakage of each metadata field (train -> held-out). Empty when there is no train or held-out split."""
    held = held_out_split(splits)
    if "train" not in splits or held is None or not len(splits["train"]):
        return []
    return [field_leakage(splits["train"], splits[held], f, label, f in prompt_fields) for f in fields]


def label_balance(df: pd.DataFrame, label: str = "label") -> dict[str, int]:
    return {str(k): int(v) for k, v in df[label].value_counts().sort_index().items()}


# --- Class coverage: a classification config whose train split lacks a class teaches the model nothing about it.

MIN_CLASS_SHARE = 0.10  # every label must hold at least this share of a train split


class ClassCoverageError(ValueError):
    """A classification config's train split misses a label or holds too little of one (message names the config)."""


def label_counts(answers, labels: tuple[str, ...]) -> dict[str, int]:
    """Count of every label of the task, zeros included (then any value the task does not know, so it shows)."""
    counts = Counter(str(a) for a in answers)
    return {**{lab: int(counts.get(lab, 0)) for lab in labels},
            **{k: int(v) for k, v in sorted(counts.items()) if k not in labels}}


def coverage_problem(train: dict[str, int] | None, labels: tuple[str, ...], min_share: float = MIN_CLASS_SHARE) -> str:
    """Why a train split's label counts fail the coverage rule ('' when they pass)."""
    if not train:
        return "no train split"
    total = sum(train.values())
    missing = [lab for lab in labels if not train.get(lab)]
    thin = [lab for lab in labels if train.get(lab) and train[lab] < min_share * total]
    problems = ([f"misses label(s) {missing}"] if missing else []) + \
               ([f"holds under {min_share:.0%} of {thin}"] if thin else [])
    return "; ".join(problems)


def check_class_coverage(name: str, coverage: dict[str, dict[str, int]], labels: tuple[str, ...],
                         evaluation_only: bool = False, min_share: float = MIN_CLASS_SHARE) -> None:
    """Raise ClassCoverageError naming the config when its train split fails the rule, unless evaluation-only."""
    if evaluation_only:
        return
    problem = coverage_problem(coverage.get("train"), labels, min_share)
    if problem:
        raise ClassCoverageError(
            f"config {name}: train split {problem} (train counts {coverage.get('train', {})}); rebuild the "
            "missing class or mark the config evaluation-only")


def kmer_lr(train_x, train_y, seed: int = 0):
    """The k-mer baseline (3- to 6-mer counts, L2-normalised, logistic regression): the leakage probe of rebuilt
    classes here, and the k-mer LR that `make baselines` reports beside the model (finetune.evaluation.baselines)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    model = make_pipeline(CountVectorizer(analyzer="char", ngram_range=(3, 6), lowercase=False), Normalizer(),
                          LogisticRegression(max_iter=2000, C=1.0, random_state=seed))
    return model.fit(train_x, train_y)
