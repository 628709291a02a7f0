"""Train GenomicLLM from scratch on the multitask mixture (`make train`), with accelerate.

Runs unchanged on CPU, one GPU, or several processes (each draws its own batches from the seeded mixture; gradients
are averaged by DDP). Two CPU processes: `ACCELERATE_USE_CPU=true OMP_NUM_THREADS=1 torchrun --nproc_per_node 2
-m finetune.training.train ...` (`accelerate launch --cpu --num_processes 2` starts ONE process: checked).
Checkpoints every `checkpoint_every` steps into `<out>/checkpoints/step-N` (model, optimiser, scheduler, RNG) and
resumes from the newest one; writes `<out>/log.jsonl` and a loss-curve PNG; the final model goes to `<out>/release`
through the release-folder writer.

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

from modeling.inference import dna_kmer
from tasks.grammar import FIELD_SEP, KEY_SEP, SEP
from tokenizer import rule

from ..loop import (
    JsonConfig,
    answer_weight,
    checkpoints,
    latest_checkpoint,
    length_groups,
    lm_loss,
    log_row,
    lr_at,
    optimizer_step,
    parse_sets,
    plot_losses,
    resume_log,
)
from .data import collate, load_mixture
from .pointer_heads import grow, train_only_pointer_heads
from .loss import NarrowPromptDNALoss

ANSWER_MARKER = SEP.rstrip()  # " =": the token that ends every question


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
    cpu_budget_s: float | None = None  # stop at this many process CPU-seconds (all threads, over resumes); the lr
    # schedule then runs on CPU time, `steps` is only an upper bound. For comparisons at equal compute.
    wall_budget_s: float | None = None  # the same on wall-clock seconds (a GPU lease)
    mixed_precision: str = "no"  # "bf16" on GPUs (accelerate's autocast); CPUs here have no bf16: fp32
    max_shard_size: str = "2GB"  # the release's safetensors shards (the GPU run writes <= 15 MB files)
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.01
    prompt_weight: float = 0.0
    row_balance: float = 0.0  # 0: every loss token alike; 1: every row's answer alike, whatever its length (collate)
    narrow_prompt_dna: bool = False  # prompt bases predicted over the DNA letters alone (loss.py: ~1/4 less compute)
    temperature: float = 0.5
    source_weights: dict = field(default_factory=dict)  # {"dataset/config": factor} on top of the temperature
    crops: list[str] = field(default_factory=list)  # exact tasks also drawn as crops of train sequences (data.py)
    max_rows_per_source: int | None = None
    only_sources: list[str] | None = None
    checkpoint_every: int = 250
    keep_checkpoints: int = 2
    seed: int = 0
    init_from: str | None = None  # a finished run folder whose release/ weights start this run (a second phase with
    # its own mixture and schedule; the model shape must match); ship adds that run's totals to the summary
    pointer_heads: int = 0  # a phase that adds this many heads per layer on the pointer stream to init_from's model
    # and trains only them (pointer_heads.py; `model` is then init_from's, and weight_decay must be 0)

    def __post_init__(self):
        if self.pointer_heads and not self.init_from:
            raise ValueError("pointer_heads are added to a trained model: set init_from")
        if self.pointer_heads and self.weight_decay:
            raise ValueError("pointer_heads: weight_decay must be 0 (it would shrink the frozen weights)")


# Parts a second phase may add to the first phase's model: they start as their own initialisation says (the k-mer
# embedding's projection at zero, so the phase starts from the first phase's function).
ADDABLE_PREFIXES = ("model.kmer_embed.",)


def load_release(run: Path):
    """The model `run` released (fp32)."""
    from modeling.modeling_genomicllm import GenomicLLMForCausalLM

    release = run / "release"
    if not (release / "config.json").is_file():
        raise FileNotFoundError(f"init_from {run}: no release/ folder there (the run has not finished)")
    return GenomicLLMForCausalLM.from_pretrained(release, dtype=torch.float32)


def load_init_weights(model, run: Path) -> None:
    """`run`'s released weights into `model` (same shape; only ADDABLE_PREFIXES parts may be new): where a second
    training phase starts."""
    weights = load_release(run).state_dict()
    try:
        result = model.load_state_dict(weights, strict=False)
    except RuntimeError as e:  # a tensor of another size
        raise ValueError(f"init_from {run}: the model shapes differ ({str(e).splitlines()[1].strip()} ...)") from e
    missing = [k for k in result.missing_keys if not k.startswith(ADDABLE_PREFIXES)]
    if missing or result.unexpected_keys:
        raise ValueError(f"init_from {run}: the model shapes differ (missing {missing}, unexpected "
                         f"{result.unexpected_keys})")


def stream_token_ids(tok) -> dict[str, list[int]]:
    """What the run-relative position streams read from the tokenizer: the ids of its nucleotide tokens (the run
    letters, and the k-mers of a k-mer scheme; text merges such as "CAT" are not) and of the grammar's
    question/answer separator " =", and the field tokens (`field_token_ids`)."""
    letters, k = set(rule.RUN_LETTERS + rule.IUPAC_UPPER), dna_kmer(tok)
    dna = sorted(i for t, i in tok.get_vocab().items() if t and set(t) <= letters and len(t) in (1, k))
    marker = tok.convert_tokens_to_ids(ANSWER_MARKER)
    if not dna or marker in (None, tok.unk_token_id):
        raise ValueError(f"{tok.name_or_path}: no nucleotide tokens, or no {ANSWER_MARKER!r} token")
    return {"dna_token_ids": dna, "answer_marker_token_ids": [marker], **field_token_ids(tok)}


def field_token_ids(tok) -> dict[str, list]:
    """What opens a field's value ("=", and merges that begin with it, such as "=+," for "strand=+,"), what closes it
    ("," and the merges that end with it), the key aliases (" symbol" names the key "symbol": a key opens the prompt
    without a space, a question names it with one), and how the copy writes what it reads: "," as the end of the
    answer, "=+," as "+"."""
    vocab, close = tok.get_vocab(), FIELD_SEP.strip()
    if KEY_SEP not in vocab or close not in vocab:
        raise ValueError(f"{tok.name_or_path}: no {KEY_SEP!r} or {close!r} token")
    openers = sorted(i for t, i in vocab.items() if t.startswith(KEY_SEP))
    closers = sorted({vocab[close]} | {i for t, i in vocab.items() if t.startswith(KEY_SEP) and t.endswith(close)})
    aliases = sorted([i, vocab[t[1:]]] for t, i in vocab.items() if t[:1] == " " and t[1:].isalpha() and t[1:] in vocab)
    merged = {i: t[len(KEY_SEP):-len(close)] for t, i in vocab.items() if t.startswith(KEY_SEP) and t.endswith(close)}
    copies = sorted([[i, tok.eos_token_id] for i in closers if i not in merged]
                    + [[i, vocab[v]] for i, v in merged.items() if v in vocab])  # how the copy writes them
    return {"field_open_token_ids": openers, "field_close_token_ids": closers, "field_key_aliases": aliases,
            "field_copy_ids": copies}


def base_token_ids(tok) -> list[int]:
    """The ids of the single-base tokens A, C, G, T (the k-mer embedding's letters)."""
    ids = tok.convert_tokens_to_ids(list("ACGT"))
    if None in ids or tok.unk_token_id in ids or len(set(ids)) != 4:
        raise ValueError(f"{tok.name_or_path}: no single-base tokens A, C, G, T (the k-mer embedding needs them)")
    return ids


def build_model(cfg: TrainConfig, tok):
    from modeling.configuration_genomicllm import GenomicLLMConfig
    from modeling.modeling_genomicllm import GenomicLLMForCausalLM

    shape = dict(cfg.model)
    if shape.get("position_streams"):
        shape = {**stream_token_ids(tok), **shape}
    if shape.get("kmer_sizes") or shape.get("phased_kmer_sizes"):
        shape = {"kmer_base_token_ids": base_token_ids(tok), **shape}
    config = GenomicLLMConfig(vocab_size=len(tok), max_position_embeddings=cfg.max_len, pad_token_id=tok.pad_token_id,
                              bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, **shape)
    torch.manual_seed(cfg.seed)
    return GenomicLLMForCausalLM(config)


def initial_model(cfg: TrainConfig, tok):
    """The model a run starts from: built from `cfg.model` (with `init_from`'s weights for a second phase), or, for a
    pointer phase, `init_from`'s model grown by the pointer heads."""
    if cfg.pointer_heads:
        return grow(load_release(Path(cfg.init_from)), cfg.pointer_heads, field_token_ids(tok), cfg.seed)
    model = build_model(cfg, tok)
    if cfg.init_from:
        load_init_weights(model, Path(cfg.init_from))
    return model


def train(cfg: TrainConfig, out: Path, progress: bool = True) -> Path:
    acc = Accelerator(mixed_precision=cfg.mixed_precision)
    out.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(cfg.tokenizer)
    mixture = load_mixture(Path(cfg.datasets), tok, cfg.max_len, cfg.temperature, cfg.max_rows_per_source,
                           cfg.only_sources, cfg.seed, cfg.source_weights, cfg.crops)
    model = initial_model(cfg, tok)
    params = train_only_pointer_heads(model) if cfg.pointer_heads else list(model.parameters())
    loss_of = (NarrowPromptDNALoss(stream_token_ids(tok)["dna_token_ids"], model.config.vocab_size)
               if cfg.narrow_prompt_dna else lm_loss)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    model, opt = acc.prepare(model, opt)
    ckpt, start = latest_checkpoint(out)
    if ckpt:
        acc.load_state(str(ckpt))
    if acc.is_main_process:
        (out / "train_config.json").write_text(json.dumps(asdict(cfg), indent=1))
        (out / "mixture.json").write_text(json.dumps(mixture.table(), indent=1))
        (out / "run_info.json").write_text(json.dumps({  # how this (latest) session of the run was laid out
            "processes": acc.num_processes, "distributed_type": str(acc.distributed_type),
            "threads_per_process": torch.get_num_threads(), "device": str(acc.device)}, indent=1))
    log = out / "log.jsonl"
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not (progress and acc.is_main_process),
               desc="train")
    t0, seen = time.time(), 0
    # totals carried across resumes: the last logged step's tokens and CPU seconds (all threads of all processes;
    # only the main process reads the log, the others start from 0, so summing over processes gives the run's total)
    done = resume_log(log, start) if acc.is_main_process else {}
    tokens0, cpu0, cpu_start = done.get("tokens", 0), done.get("cpu_s", 0.0), time.process_time()
    wall0 = done.get("wall_s", 0.0)
    cpu_total, tokens_total = run_totals(acc, cpu0, tokens0)
    for step in bar:
        used = {"cpu": cpu_total, "wall": wall0 + time.time() - t0}
        progress = budget_progress(cfg, used)
        if progress is not None and budget_spent(acc, progress):
            if step > start:  # the budget ran out in this session: keep where it stopped
                save_checkpoint(acc, out, step, cfg.keep_checkpoints)
            break
        rng = np.random.default_rng([cfg.seed, step, acc.process_index])
        fraction = progress if progress is not None else step / cfg.steps
        groups = [collate(g, tok.pad_token_id, cfg.prompt_weight, cfg.row_balance)
                  for g in length_groups(mixture.sample(rng, cfg.tokens_per_batch, fraction), cfg.microbatch_tokens)]
        total = sum(answer_weight(b) for b in groups)
        lr = lr_at(cfg, step, progress)
        loss, tokens = optimizer_step(acc, model, opt, groups, total, lr, params, loss_of)
        seen += tokens
        cpu_total, tokens_total = run_totals(acc, cpu0 + time.process_time() - cpu_start, tokens0 + seen)
        if acc.is_main_process:
            rate = (tokens_total - tokens0) / (time.time() - t0)
            bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:,.0f}")
            log_row(log, step + 1, loss, lr, rate, int(tokens_total), cpu_total, wall0 + time.time() - t0)
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            save_checkpoint(acc, out, step + 1, cfg.keep_checkpoints)
            if acc.is_main_process:
                plot_losses(log, out / "loss.png")
    if acc.is_main_process:
        plot_losses(log, out / "loss.png")
    acc.wait_for_everyone()
    release = out / "release"
    if acc.is_main_process:
        from modeling.release import write_release

        write_release(acc.unwrap_model(model), tok, release, overwrite=True, max_shard_size=cfg.max_shard_size)
    return release


def run_totals(acc: Accelerator, cpu_s: float, tokens: int) -> tuple[float, int]:
    """(process CPU-seconds, real tokens) summed over all processes: what a budget and the log count."""
    if acc.num_processes == 1:
        return cpu_s, tokens
    both = acc.reduce(torch.tensor([cpu_s, float(tokens)], dtype=torch.float64, device=acc.device), reduction="sum")
    return float(both[0]), int(both[1])


def budget_progress(cfg: TrainConfig, used: dict[str, float]) -> float | None:
    """Fraction of the CPU or wall budget used (the larger), or None for a run bounded by steps alone."""
    parts = [used[clock] / budget for clock, budget in (("cpu", cfg.cpu_budget_s), ("wall", cfg.wall_budget_s))
             if budget]
    return max(parts) if parts else None


def budget_spent(acc: Accelerator, progress: float) -> bool:
    """Whether the budget is spent, decided alike by every process (the furthest one decides)."""
    spent = torch.tensor([float(progress >= 1.0)], device=acc.device)
    return bool(acc.reduce(spent, reduction="max").item()) if acc.num_processes > 1 else bool(spent.item())


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
