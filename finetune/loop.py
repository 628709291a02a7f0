"""The one training loop's parts, shared by every trainer (from-scratch training, the chat LoRA, own-task
fine-tuning): JSON configs with `--set` overrides, the learning-rate schedule, length-grouped micro-batches, the
weighted next-token loss, one optimizer step over a step's micro-batches, the JSONL log that survives resumes, the
checkpoint listing and the loss plot.

A trainer builds its model and batches and calls these; nothing here knows which model or data it trains.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator


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


class JsonConfig:
    """A dataclass config read from a JSON file, with overrides (None = keep); unknown keys are an error."""

    @classmethod
    def load(cls, path: Path | None, overrides: dict):
        values = json.loads(Path(path).read_text()) if path else {}
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown training config keys in {path}: {sorted(unknown)}")
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})


def lr_at(cfg, step: int, progress: float | None = None) -> float:
    """Linear warm-up, then cosine decay to `min_lr_ratio` of `lr` at `steps` (fields of any trainer config).
    `progress` (0..1) replaces the step fraction after warm-up, for runs bounded by CPU time instead of steps."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps) if progress is None else progress
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def checkpoints(out: Path) -> list[Path]:
    """The complete checkpoints `<out>/checkpoints/step-N`, oldest first (a `step-N.tmp` being written is not one)."""
    found = [p for p in (out / "checkpoints").glob("step-*") if p.name.removeprefix("step-").isdigit()]
    return sorted(found, key=lambda p: int(p.name.removeprefix("step-")))


def latest_checkpoint(out: Path) -> tuple[Path | None, int]:
    ckpts = checkpoints(out)
    return (ckpts[-1], int(ckpts[-1].name.removeprefix("step-"))) if ckpts else (None, 0)


def plot_losses(log: Path, png: Path,
                label: str = "training loss (answer tokens 1, prompt tokens prompt_weight)") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    if not rows:
        return
    steps, losses = [r["step"] for r in rows], [r["loss"] for r in rows]
    k = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, losses, alpha=0.3, label=label)
    ax.plot(steps[k - 1 :], smooth, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def lm_loss(model, batch: dict[str, torch.Tensor], total) -> torch.Tensor:
    """The weighted next-token loss of one micro-batch, normalised by the whole step's weight."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return weighted_lm_loss(logits, batch["input_ids"], batch["loss_weights"], total)


def optimizer_step(acc: Accelerator, model, opt, groups: list[dict], total, lr: float, params,
                   loss_of=lm_loss) -> tuple[float, int]:
    """One optimizer step over a step's micro-batches (gradient accumulation, the loss normalised by the whole step's
    weight `total`); returns (the step's loss, real tokens seen). `loss_of(model, batch, total)`: a micro-batch's
    share of the step's loss (default: the weighted LM loss)."""
    for g in opt.param_groups:
        g["lr"] = lr
    loss, seen = 0.0, 0
    for i, batch in enumerate(groups):
        batch = {k: v.to(acc.device) for k, v in batch.items()}
        # gradients are all-reduced once per step, on each process's last micro-batch
        sync = contextlib.nullcontext() if i == len(groups) - 1 else acc.no_sync(model)
        with sync:
            part = loss_of(model, batch, total)
            acc.backward(part)
        loss += part.item()
        seen += int(batch["attention_mask"].sum())
    acc.clip_grad_norm_(params, 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss, seen


def log_row(log: Path, step: int, loss: float, lr: float, rate: float, tokens: int, cpu_s: float,
            wall_s: float | None = None) -> None:
    """One step: its loss and lr, and the run's totals so far (tokens, process CPU-s, training wall-s)."""
    row = {"step": step, "loss": loss, "lr": lr, "tokens_per_s": rate, "tokens": tokens, "cpu_s": cpu_s,
           "time": time.time()}
    if wall_s is not None:
        row["wall_s"] = wall_s
    with log.open("a") as f:
        f.write(json.dumps(row) + "\n")


def resume_log(log: Path, start: int) -> dict:
    """Drop log rows past the checkpoint being resumed (they will be redone); return the last row kept."""
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    rows = [r for r in rows if r["step"] <= start]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows[-1] if rows else {}


def parse_sets(items: list[str]) -> dict:
    """`--set KEY=JSON ...` → {key: value}."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item!r}: expected KEY=JSON")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError as e:
            raise SystemExit(f"--set {item!r}: the value is not JSON ({e})") from None
    return out
