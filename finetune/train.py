"""Train GenomicLLM from scratch on the multitask mixture (`make train`), with accelerate.

Runs unchanged on CPU, one GPU, or `accelerate launch --num_processes N` (each process draws its own batches from
the seeded mixture; gradients are averaged by DDP). Checkpoints every `checkpoint_every` steps into
`<out>/checkpoints/step-N` (model, optimiser, scheduler, RNG) and resumes from the newest one; writes
`<out>/log.jsonl` and a loss-curve PNG; the final model goes to `<out>/release` through the release-folder writer.

    python -m finetune.train --config finetune/configs/small.json --out build/train/small
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from .data import answer_weight, collate, length_groups, load_mixture, weighted_lm_loss


class JsonConfig:
    """A dataclass config read from a JSON file, with overrides (None = keep); unknown keys are an error."""

    @classmethod
    def load(cls, path: Path | None, overrides: dict):
        values = json.loads(Path(path).read_text()) if path else {}
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown training config keys in {path}: {sorted(unknown)}")
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})


@dataclass
class TrainConfig(JsonConfig):
    tokenizer: str = "build/tokenizer"
    datasets: str = "build/datasets"
    model: dict = field(default_factory=lambda: {"hidden_size": 256, "intermediate_size": 688, "num_layers": 4,
                                                 "num_attention_heads": 4})
    max_len: int = 512
    tokens_per_batch: int = 8192  # per process and step, padding excluded
    microbatch_tokens: int = 4096  # padded tokens per forward pass (length-grouped micro-batches)
    steps: int = 3000
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.01
    prompt_weight: float = 0.0
    temperature: float = 0.5
    max_rows_per_source: int | None = None
    only_sources: list[str] | None = None
    checkpoint_every: int = 250
    keep_checkpoints: int = 2
    seed: int = 0


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def build_model(cfg: TrainConfig, tok):
    from modeling.configuration_genomicllm import GenomicLLMConfig
    from modeling.modeling_genomicllm import GenomicLLMForCausalLM

    config = GenomicLLMConfig(vocab_size=len(tok), max_position_embeddings=cfg.max_len, pad_token_id=tok.pad_token_id,
                              bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **cfg.model)
    torch.manual_seed(cfg.seed)
    return GenomicLLMForCausalLM(config)


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


def train(cfg: TrainConfig, out: Path, progress: bool = True) -> Path:
    acc = Accelerator()
    out.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(cfg.tokenizer)
    mixture = load_mixture(Path(cfg.datasets), tok, cfg.max_len, cfg.temperature, cfg.max_rows_per_source,
                           cfg.only_sources, cfg.seed)
    model = build_model(cfg, tok)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    model, opt = acc.prepare(model, opt)
    ckpt, start = latest_checkpoint(out)
    if ckpt:
        acc.load_state(str(ckpt))
    if acc.is_main_process:
        (out / "train_config.json").write_text(json.dumps(asdict(cfg), indent=1))
        (out / "mixture.json").write_text(json.dumps(mixture.table(), indent=1))
    log = out / "log.jsonl"
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not (progress and acc.is_main_process),
               desc="train")
    t0, seen = time.time(), 0
    # totals carried across resumes: the last logged step's tokens and CPU seconds (all threads of this process)
    done = resume_log(log, start) if acc.is_main_process else {}
    tokens0, cpu0, cpu_start = done.get("tokens", 0), done.get("cpu_s", 0.0), time.process_time()
    for step in bar:
        rng = np.random.default_rng([cfg.seed, step, acc.process_index])
        groups = [collate(g, tok.pad_token_id, cfg.prompt_weight)
                  for g in length_groups(mixture.sample(rng, cfg.tokens_per_batch), cfg.microbatch_tokens)]
        total = sum(answer_weight(b) for b in groups)
        lr = lr_at(cfg, step)
        loss, tokens = optimizer_step(acc, model, opt, groups, total, lr, model.parameters())
        seen += tokens
        if acc.is_main_process:
            rate = seen / (time.time() - t0)
            bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:,.0f}")
            log_row(log, step + 1, loss, lr, rate, tokens0 + seen, cpu0 + time.process_time() - cpu_start)
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            save_checkpoint(acc, out, step + 1, cfg.keep_checkpoints)
            if acc.is_main_process:
                plot_losses(log, out / "loss.png")
    acc.wait_for_everyone()
    release = out / "release"
    if acc.is_main_process:
        from modeling.release import write_release

        write_release(acc.unwrap_model(model), tok, release, overwrite=True)
    return release


def optimizer_step(acc: Accelerator, model, opt, groups: list[dict], total, lr: float, params) -> tuple[float, int]:
    """One optimizer step over a step's micro-batches (gradient accumulation, the loss normalised by the whole step's
    weight `total`); returns (the step's loss, real tokens seen)."""
    for g in opt.param_groups:
        g["lr"] = lr
    loss, seen = 0.0, 0
    for i, batch in enumerate(groups):
        batch = {k: v.to(acc.device) for k, v in batch.items()}
        # gradients are all-reduced once per step, on each process's last micro-batch
        sync = contextlib.nullcontext() if i == len(groups) - 1 else acc.no_sync(model)
        with sync:
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            part = weighted_lm_loss(logits, batch["input_ids"], batch["loss_weights"], total)
            acc.backward(part)
        loss += part.item()
        seen += int(batch["attention_mask"].sum())
    acc.clip_grad_norm_(params, 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss, seen


def log_row(log: Path, step: int, loss: float, lr: float, rate: float, tokens: int, cpu_s: float) -> None:
    with log.open("a") as f:
        f.write(json.dumps({"step": step, "loss": loss, "lr": lr, "tokens_per_s": rate, "tokens": tokens,
                            "cpu_s": cpu_s, "time": time.time()}) + "\n")


def resume_log(log: Path, start: int) -> dict:
    """Drop log rows past the checkpoint being resumed (they will be redone); return the last row kept."""
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.is_file() else []
    rows = [r for r in rows if r["step"] <= start]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows[-1] if rows else {}


def save_checkpoint(acc: Accelerator, out: Path, step: int, keep: int) -> None:
    acc.save_state(str(out / "checkpoints" / f"step-{step}"))
    if acc.is_main_process:
        for old in checkpoints(out)[:-keep]:
            shutil.rmtree(old)


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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int)
    p.add_argument("--tokenizer")
    p.add_argument("--datasets")
    p.add_argument("--ship", type=Path, help="when done, copy the release + run summary here (finetune.ship)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON",
                   help="override config values, e.g. --set prompt_weight=0.2 'model={\"num_layers\": 2}'")
    args = p.parse_args(argv)
    overrides = {"steps": args.steps, "tokenizer": args.tokenizer, "datasets": args.datasets}
    overrides.update(parse_sets(args.set))
    cfg = TrainConfig.load(args.config, overrides)
    release = train(cfg, args.out)
    print(f"release folder: {release}")
    if args.ship:
        from .ship import ship

        print(f"shipped: {ship(args.out, args.ship)}")


if __name__ == "__main__":
    main()
