"""The training mixture: train splits of the three datasets, rendered by the grammar, tokenized once, sampled by weight.

Mixture: every (dataset, config) train split is a source; a source is drawn with probability proportional to
rows ** `temperature` (0.5 by default: small tasks are seen more often than their size alone would give, large ones
less), then a row uniformly within it. Dev/validation/test rows never enter (`TRAIN_SPLIT` only).

An example is `prompt` + `" " + answer` + eos. Loss weights: 1 on answer and eos tokens, `prompt_weight` on prompt
tokens (the original used 0.2). Rows longer than `max_len` tokens are not cut: they are left out and counted.
Batches are drawn from a generator seeded by (seed, step, rank), so a resumed run sees exactly the batches it would
have seen, with no data-loader state to save.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .benchmarks import DATASETS

TRAIN_SPLIT = "train"


@dataclass
class Source:
    name: str
    ids: np.ndarray  # flat int32 token ids of all examples
    offsets: np.ndarray  # example i is ids[offsets[i]:offsets[i+1]]
    prompt_lens: np.ndarray
    dropped_for_length: int = 0

    def __len__(self) -> int:
        return len(self.prompt_lens)

    def example(self, i: int) -> tuple[np.ndarray, int]:
        return self.ids[self.offsets[i] : self.offsets[i + 1]], int(self.prompt_lens[i])


@dataclass
class Mixture:
    sources: list[Source]
    temperature: float = 0.5
    weights: np.ndarray = field(init=False)

    def __post_init__(self):
        sizes = np.array([len(s) for s in self.sources], dtype=float)
        w = sizes ** self.temperature
        self.weights = w / w.sum()

    def table(self) -> list[dict]:
        return [{"source": s.name, "rows": len(s), "weight": round(float(w), 4), "dropped_for_length": s.dropped_for_length}
                for s, w in zip(self.sources, self.weights)]

    def sample(self, rng: np.random.Generator, tokens: int) -> list[tuple[np.ndarray, int]]:
        """Examples until about `tokens` tokens (at least one)."""
        out, n = [], 0
        while n < tokens:
            src = self.sources[rng.choice(len(self.sources), p=self.weights)]
            ex = src.example(int(rng.integers(len(src))))
            out.append(ex)
            n += len(ex[0])
        return out


def tokenize_rows(name: str, prompts: list[str], answers: list[str], tok, max_len: int) -> Source:
    p_ids = tok(prompts, add_special_tokens=False)["input_ids"]
    a_ids = tok([" " + a for a in answers], add_special_tokens=False)["input_ids"]
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []  # as `tok(prompt)` gives at inference
    seqs, plens, dropped = [], [], 0
    for p, a in zip(p_ids, a_ids):
        ids = bos + p + a + [tok.eos_token_id]
        if len(ids) > max_len:
            dropped += 1
            continue
        seqs.append(ids)
        plens.append(len(bos) + len(p))
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.fromiter((t for s in seqs for t in s), dtype=np.int32, count=int(offsets[-1]))
    return Source(name, flat, offsets, np.array(plens, dtype=np.int32), dropped)


def load_mixture(root: Path, tok, max_len: int, temperature: float = 0.5, max_rows_per_source: int | None = None,
                 only: list[str] | None = None, seed: int = 0) -> Mixture:
    sources = []
    for dataset in DATASETS:
        for path in sorted((root / dataset / "data").glob(f"*/{TRAIN_SPLIT}.parquet")):
            name = f"{dataset}/{path.parent.name}"
            if only and name not in only:
                continue
            df = pd.read_parquet(path, columns=["prompt", "answer"])
            df = df[df["prompt"].str.len() > 0]  # configs without a task (GB demo sets) have no prompts
            if max_rows_per_source and len(df) > max_rows_per_source:
                df = df.sample(n=max_rows_per_source, random_state=seed)
            if len(df):
                sources.append(tokenize_rows(name, df["prompt"].tolist(), df["answer"].tolist(), tok, max_len))
    if not sources:
        raise FileNotFoundError(f"no train splits under {root}: run `make datasets` first")
    return Mixture(sources, temperature)


def collate(examples: list[tuple[np.ndarray, int]], pad_id: int, prompt_weight: float) -> dict[str, torch.Tensor]:
    """Right-padded batch: input_ids, attention_mask, and per-token loss weights aligned with input_ids."""
    weighted = []
    for ids, n_prompt in examples:
        w = np.ones(len(ids), dtype=np.float32)
        w[:n_prompt] = prompt_weight
        weighted.append((ids, w))
    return collate_weighted(weighted, pad_id)


def collate_weighted(examples: list[tuple[np.ndarray, np.ndarray]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded batch of (ids, per-token loss weights) rows."""
    width = max(len(ids) for ids, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    weights = torch.zeros((len(examples), width))
    for i, (ids, w) in enumerate(examples):
        input_ids[i, : len(ids)] = torch.from_numpy(np.asarray(ids, dtype=np.int64))
        mask[i, : len(ids)] = 1
        weights[i, : len(ids)] = torch.from_numpy(np.asarray(w, dtype=np.float32))
    return {"input_ids": input_ids, "attention_mask": mask, "loss_weights": weights}


def length_groups(examples: list[tuple[np.ndarray, int]], max_padded_tokens: int) -> list[list[tuple[np.ndarray, int]]]:
    """Split a batch into micro-batches of similar length, each at most `max_padded_tokens` once padded.

    The mixture joins 21-token promoter rows with 300-token descriptions: one padded batch would be mostly padding
    (measured: ~10x fewer real tokens/s). Sorted by length, each group pads only to its own longest row.
    """
    ordered = sorted(examples, key=lambda e: len(e[0]))
    groups: list[list] = [[]]
    for ex in ordered:  # ascending: adding ex makes it the group's longest row
        if groups[-1] and (len(groups[-1]) + 1) * len(ex[0]) > max_padded_tokens:
            groups.append([])
        groups[-1].append(ex)
    return groups


def answer_weight(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Total loss weight of a batch's targets (the denominator shared by its micro-batches)."""
    return batch["loss_weights"][:, 1:].sum()


def weighted_lm_loss(logits: torch.Tensor, input_ids: torch.Tensor, weights: torch.Tensor,
                     total_weight: torch.Tensor | float | None = None) -> torch.Tensor:
    """Next-token cross-entropy, each target token weighted (0 = ignored), divided by the total weight.

    `total_weight` defaults to this batch's own; pass the whole step's when a step is split into micro-batches, so
    that the micro-batch losses add up to the loss of the step.
    """
    # logits (B, T, V) predict input_ids shifted by one
    ce = torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1).float(), input_ids[:, 1:].flatten(),
                                           reduction="none")
    w = weights[:, 1:].flatten()
    denom = w.sum() if total_weight is None else torch.as_tensor(total_weight)
    return (ce * w).sum() / denom.clamp_min(1e-8)
