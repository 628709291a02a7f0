"""Training/evaluation texts for the tokenizer: rows of the built datasets, as the model will see them.

A text is `prompt + " " + answer` (the grammar's full training text, without special tokens). Samples take train
splits only, half of the rows from GenomicLLM_GRCh38 (text-rich: fields, summaries, names) and half from GUE
(DNA-heavy), spread evenly over each dataset's configs, so no single task dominates the vocabulary.
`fit_and_eval` returns two *disjoint* samples: one to learn vocabularies from, one to measure on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATASETS = ("GenomicLLM_GRCh38", "GUE")
DEFAULT_ROOT = Path("build/datasets")


def texts_of(df: pd.DataFrame) -> list[str]:
    return (df["prompt"] + " " + df["answer"]).tolist()


def train_files(root: Path, dataset: str) -> list[Path]:
    files = sorted((root / dataset / "data").glob("*/train.parquet"))
    if not files:
        which = "grch38" if "GRCh38" in dataset else "gue"
        raise FileNotFoundError(f"no {dataset} train splits under {root}; build them first: "
                                f"python -m dataset_scripts build {which} --out {root}")
    return files


def fit_and_eval(root: Path = DEFAULT_ROOT, n_fit: int = 20_000, n_eval: int = 20_000,
                 seed: int = 0) -> tuple[list[str], list[str]]:
    """Two disjoint row samples of about n_fit and n_eval texts (fewer where a config is small)."""
    rng = np.random.default_rng(seed)
    fit, held = [], []
    for dataset in DATASETS:
        files = train_files(Path(root), dataset)
        per_fit = -(-n_fit // (len(DATASETS) * len(files)))
        per_eval = -(-n_eval // (len(DATASETS) * len(files)))
        for path in files:
            df = pd.read_parquet(path, columns=["prompt", "answer"])
            order = rng.permutation(len(df))
            a = min(per_fit, len(df) // 2) if per_fit + per_eval > len(df) else per_fit
            fit += texts_of(df.iloc[order[:a]])
            held += texts_of(df.iloc[order[a:a + per_eval]])
    return fit, held
