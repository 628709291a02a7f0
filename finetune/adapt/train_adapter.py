"""Fine-tune GenomicLLM on a user's task with the project's training loop (`finetune/loop.py`), early-stopped on dev.

Every step's rows are fixed up front by the seed (shuffled epochs, each step filled to `tokens_per_batch` real
tokens, cut into length-grouped micro-batches), so a resumed run sees exactly the batches it would have seen.
A few times per epoch the dev loss (answer tokens for `lm`, cross-entropy of the head for `head`) is measured; the
best weights are kept, and training stops after `patience` evaluations without improvement. At each evaluation
`<out>/checkpoints/step-N` holds the trainable weights, the optimizer and the early-stopping state; a rerun resumes
from the newest. Logs: `<out>/training/log.jsonl` (per step), `dev.jsonl` (per evaluation), `loss.png`.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm

from finetune.training.data import collate

from ..loop import (
    JsonConfig,
    answer_weight,
    checkpoints,
    collate_weighted,
    latest_checkpoint,
    length_groups,
    log_row,
    lr_at,
    optimizer_step,
    plot_losses,
    resume_log,
    weighted_lm_loss,
)
from .models import MODES, load_weights, save_weights

OBJECTIVES = ("lm", "head")
DEFAULT_LR = {"lora": 1e-3, "full": 1e-4}


@dataclass
class AdaptConfig(JsonConfig):
    mode: str = "lora"  # lora | full
    objective: str = "lm"  # lm (answer the label as text) | head (classification head)
    r: int = 8  # LoRA rank
    alpha: int = 16
    dropout: float = 0.05
    epochs: float = 3.0
    lr: float | None = None  # default: DEFAULT_LR[mode]
    min_lr_ratio: float = 0.1
    warmup_steps: int | None = None  # default: 5% of the steps
    weight_decay: float = 0.0
    tokens_per_batch: int = 2048  # real tokens per step
    microbatch_tokens: int = 1024  # padded tokens per forward pass
    prompt_weight: float = 0.0  # loss weight of prompt tokens (lm)
    evals_per_epoch: int = 4
    patience: int = 4  # dev evaluations without improvement before stopping
    max_dev_rows: int = 2000  # dev rows the early-stopping loss is measured on (sampled by the seed)
    steps: int | None = None  # set from epochs and the data (an explicit value caps the run)
    seed: int = 0

    def __post_init__(self):
        if self.mode not in MODES or self.objective not in OBJECTIVES:
            raise ValueError(f"mode {self.mode!r} / objective {self.objective!r}: choose from {MODES} / {OBJECTIVES}")


def plan_steps(lengths: list[int], cfg: AdaptConfig) -> tuple[list[list[int]], int]:
    """(each step's row indices, steps per epoch): epochs shuffled by the seed, steps of ~tokens_per_batch tokens."""
    rng = np.random.default_rng(cfg.seed)
    epoch_steps = max(1, math.ceil(sum(lengths) / cfg.tokens_per_batch))
    total = max(1, math.ceil(cfg.epochs * epoch_steps))
    if cfg.steps:
        total = min(total, cfg.steps)
    out, cur, n = [], [], 0
    while len(out) < total:
        for i in rng.permutation(len(lengths)):
            cur.append(int(i))
            n += lengths[i]
            if n >= cfg.tokens_per_batch:
                out.append(cur)
                cur, n = [], 0
                if len(out) == total:
                    break
    return out, epoch_steps


def resolve(cfg: AdaptConfig, total_steps: int) -> AdaptConfig:
    """The config as run: lr by mode, warm-up 5% of the steps, `steps` the planned count."""
    return replace(cfg, lr=cfg.lr or DEFAULT_LR[cfg.mode], steps=total_steps,
                   warmup_steps=cfg.warmup_steps if cfg.warmup_steps is not None else max(1, total_steps // 20))


def batch_of(examples: list, objective: str, pad_id: int, prompt_weight: float) -> dict[str, torch.Tensor]:
    """lm: the base trainer's collate (answer + eos weight 1); head: padded ids + the class indices."""
    if objective == "lm":
        return collate(examples, pad_id, prompt_weight)
    batch = collate_weighted([(ids, np.zeros(len(ids), dtype=np.float32)) for ids, _ in examples], pad_id)
    batch["labels"] = torch.tensor([label for _, label in examples], dtype=torch.long)
    return batch


def head_loss(model, batch: dict[str, torch.Tensor], rows) -> torch.Tensor:
    """The head's objective for `loop.optimizer_step`: cross-entropy summed over the micro-batch's rows, divided by
    the step's rows."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return torch.nn.functional.cross_entropy(logits.float(), batch["labels"], reduction="sum") / rows


@torch.no_grad()
def dev_loss(model, examples: list, cfg: AdaptConfig, pad_id: int, device) -> float:
    """Mean dev loss: per answer token (lm, prompt weight 0) or per row (head)."""
    model.eval()
    total, weight = 0.0, 0.0
    for group in length_groups(examples, cfg.microbatch_tokens):
        batch = {k: v.to(device) for k, v in batch_of(group, cfg.objective, pad_id, 0.0).items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        if cfg.objective == "lm":
            w = answer_weight(batch)
            total += float(weighted_lm_loss(logits, batch["input_ids"], batch["loss_weights"], w)) * float(w)
            weight += float(w)
        else:
            total += float(torch.nn.functional.cross_entropy(logits.float(), batch["labels"], reduction="sum"))
            weight += len(group)
    model.train()
    return total / max(weight, 1e-8)


def save_checkpoint(model, opt, out: Path, step: int, state: dict) -> None:
    path = out / "checkpoints" / f"step-{step}"
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save_weights(model, tmp / "weights.safetensors")
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=1))
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)  # complete or absent: an interrupted save is never resumed from
    for old in checkpoints(out)[:-1]:
        shutil.rmtree(old)


def train(cfg: AdaptConfig, model, pad_id: int, train_ex: list, dev_ex: list, out: Path,
          progress: bool = True) -> tuple[object, dict]:
    """Train `model` (LoRA-wrapped or full) in place; returns (the model with its best dev weights, the run state).
    `cfg.steps` must be resolved (`resolve`)."""
    plan, epoch_steps = plan_steps([len(ids) for ids, _ in train_ex], cfg)
    eval_every = max(1, epoch_steps // max(1, cfg.evals_per_epoch))
    acc = Accelerator()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    model, opt = acc.prepare(model, opt)
    ckpt, start = latest_checkpoint(out)
    state = {"best_dev_loss": None, "best_step": 0, "bad_evals": 0, "stopped_early": False, "steps_done": start}
    best = out / "checkpoints" / "best" / "weights.safetensors"
    if ckpt:
        load_weights(acc.unwrap_model(model), ckpt / "weights.safetensors")
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location=acc.device))
        state = json.loads((ckpt / "state.json").read_text())
    logs = out / "training"
    logs.mkdir(parents=True, exist_ok=True)
    log, dev_log = logs / "log.jsonl", logs / "dev.jsonl"
    done = resume_log(log, start)
    if dev_log.is_file():  # evaluations past the checkpoint will be redone
        kept = [x for x in dev_log.read_text().splitlines() if x.strip() and json.loads(x)["step"] <= start]
        dev_log.write_text("".join(x + "\n" for x in kept))
    tokens0, cpu0 = done.get("tokens", 0), done.get("cpu_s", 0.0)
    cpu_start, t0, seen = time.process_time(), time.time(), 0
    model.train()
    bar = tqdm(range(start, len(plan)), initial=start, total=len(plan), disable=not progress, desc="finetune")
    for step in bar:
        if state["stopped_early"]:
            break
        torch.manual_seed(cfg.seed * 1_000_003 + step)  # dropout: the same masks on a resumed run
        groups = [batch_of(g, cfg.objective, pad_id, cfg.prompt_weight)
                  for g in length_groups([train_ex[i] for i in plan[step]], cfg.microbatch_tokens)]
        lr = lr_at(cfg, step)
        if cfg.objective == "lm":
            loss, tokens = optimizer_step(acc, model, opt, groups, sum(answer_weight(b) for b in groups), lr, params)
        else:
            rows = sum(len(b["labels"]) for b in groups)
            loss, tokens = optimizer_step(acc, model, opt, groups, rows, lr, params, loss_of=head_loss)
        seen += tokens
        log_row(log, step + 1, loss, lr, seen / (time.time() - t0), tokens0 + seen,
                cpu0 + time.process_time() - cpu_start)
        if (step + 1) % eval_every and step + 1 != len(plan):
            bar.set_postfix(loss=f"{loss:.3f}")
            continue
        d = dev_loss(model, dev_ex, cfg, pad_id, acc.device)
        improved = state["best_dev_loss"] is None or d < state["best_dev_loss"] - 1e-4
        if improved:
            state.update(best_dev_loss=d, best_step=step + 1, bad_evals=0)
            save_weights(acc.unwrap_model(model), best)
        else:
            state["bad_evals"] += 1
            state["stopped_early"] = state["bad_evals"] >= cfg.patience
        state["steps_done"] = step + 1
        with dev_log.open("a") as fh:
            fh.write(json.dumps({"step": step + 1, "epoch": round((step + 1) / epoch_steps, 3), "dev_loss": d,
                                 "best": improved}) + "\n")
        bar.set_postfix(loss=f"{loss:.3f}", dev=f"{d:.3f}", best=f"{state['best_dev_loss']:.3f}")
        save_checkpoint(acc.unwrap_model(model), opt, out, step + 1, state)
        plot_losses(log, logs / "loss.png", label="training loss (answer tokens)" if cfg.objective == "lm"
                    else "training loss (classification head)")
    model = acc.unwrap_model(model)
    load_weights(model, best)
    model.eval()
    state["epoch_steps"], state["planned_steps"] = epoch_steps, len(plan)
    return model, state


__all__ = ["AdaptConfig", "OBJECTIVES", "dev_loss", "plan_steps", "resolve", "train"]
