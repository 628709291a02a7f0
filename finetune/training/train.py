"""Train GenomicLLM from scratch on the multitask mixture (`make train`), with accelerate.

Runs unchanged on CPU, one GPU, or `accelerate launch --num_processes N` (each process draws its own batches from
the seeded mixture; gradients are averaged by DDP). Checkpoints every `checkpoint_every` steps into
`<out>/checkpoints/step-N` (model, optimiser, scheduler, RNG) and resumes from the newest one; writes
`<out>/log.jsonl` and a loss-curve PNG; the final model goes to `<out>/release` through the release-folder writer.

    python -m finetune.training.train --config finetune/training/configs/genomicllm.json --out build/train/genomicllm
    python -m finetune.training.train --config finetune/training/configs/tiny.json --out /tmp/tiny   # a quick check
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from ..loop import (
    JsonConfig,
    answer_weight,
    checkpoints,
    latest_checkpoint,
    length_groups,
    log_row,
    lr_at,
    optimizer_step,
    parse_sets,
    plot_losses,
    resume_log,
)
from .data import collate, load_mixture


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


def build_model(cfg: TrainConfig, tok):
    from modeling.configuration_genomicllm import GenomicLLMConfig
    from modeling.modeling_genomicllm import GenomicLLMForCausalLM

    config = GenomicLLMConfig(vocab_size=len(tok), max_position_embeddings=cfg.max_len, pad_token_id=tok.pad_token_id,
                              bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **cfg.model)
    torch.manual_seed(cfg.seed)
    return GenomicLLMForCausalLM(config)


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


def save_checkpoint(acc: Accelerator, out: Path, step: int, keep: int) -> None:
    acc.save_state(str(out / "checkpoints" / f"step-{step}"))
    if acc.is_main_process:
        for old in checkpoints(out)[:-keep]:
            shutil.rmtree(old)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int)
    p.add_argument("--tokenizer")
    p.add_argument("--datasets")
    p.add_argument("--ship", type=Path, help="when done, copy the release + run summary here (finetune.training.ship)")
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
