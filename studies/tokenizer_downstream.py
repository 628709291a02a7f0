"""Downstream check of tokenizer candidates: the same tiny model, the same CPU time, the same rows, per candidate.

Trains a small Llama-shaped causal LM (transformers' `LlamaForCausalLM`, so the comparison does not depend on our own
model code) on a balanced mix of GenomicLLM_GRCh38 train rows of four tasks, loss on the answer only, for a fixed
budget of *process CPU seconds* (fair when other work shares the machine), then answers held-out validation rows by
greedy generation; answers are parsed by the prompt grammar and an unparseable answer counts as wrong.

    python -m studies.tokenizer_downstream --candidates kmer3 char --cpu-seconds 1200
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from finetune.loop import weighted_lm_loss
from finetune.training.data import Source, collate, tokenize_rows
from tasks.grammar import parse_answer
from tasks.metrics import score
from tokenizer import corpus
from tokenizer.candidates import build_candidate, prepare

CONFIGS = ("gc_content", "reverse_complement", "nt2aa", "splice_site")
ROOT = corpus.DEFAULT_ROOT / "GenomicLLM_GRCh38" / "data"


def load_rows(split: str, per_config: int, seed: int) -> pd.DataFrame:
    frames = []
    for config in CONFIGS:
        df = pd.read_parquet(ROOT / config / f"{split}.parquet", columns=["task", "prompt", "answer"])
        frames.append(df.sample(n=min(per_config, len(df)), random_state=seed))
    return pd.concat(frames, ignore_index=True)


def encode(tok, rows: pd.DataFrame, max_len: int = 4096) -> Source:
    """Training examples exactly as `finetune` builds them: <s> prompt answer</s>, loss on the answer."""
    return tokenize_rows("downstream", rows["prompt"].tolist(), rows["answer"].tolist(), tok, max_len)


def tiny_model(tok, max_len: int, seed: int) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=192, intermediate_size=512, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=max_len,
                      tie_word_embeddings=True, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                      bos_token_id=tok.bos_token_id)
    return LlamaForCausalLM(cfg)


def train(model, examples: Source, cpu_seconds: float, tokens_per_batch: int, lr: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    model.train()
    start, steps, tokens, losses = time.process_time(), 0, 0, []
    order, pos = rng.permutation(len(examples)), 0
    while (used := time.process_time() - start) < cpu_seconds:
        frac = used / cpu_seconds  # schedule by CPU time: warm-up 5%, then cosine to 10%
        for g in opt.param_groups:
            g["lr"] = lr * (frac / 0.05 if frac < 0.05 else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        chosen, n = [], 0
        while n < tokens_per_batch:
            if pos == len(order):
                order, pos = rng.permutation(len(examples)), 0
            ex = examples.example(int(order[pos]))
            pos += 1
            chosen.append(ex)
            n += len(ex[0])
        b = collate(chosen, model.config.pad_token_id, prompt_weight=0.0)
        logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
        loss = weighted_lm_loss(logits, b["input_ids"], b["loss_weights"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        steps, tokens = steps + 1, tokens + n
        losses.append(loss.item())
    return {"steps": steps, "train_tokens": tokens, "final_loss": float(np.mean(losses[-20:])),
            "cpu_seconds": time.process_time() - start}


@torch.no_grad()
def evaluate(model, tok, rows: pd.DataFrame, batch_size: int = 16) -> dict:
    model.eval()
    tok.padding_side = "left"
    results: dict[str, list] = {}
    for start in range(0, len(rows), batch_size):
        chunk = rows.iloc[start : start + batch_size]
        enc = tok(chunk["prompt"].tolist(), return_tensors="pt", padding=True)
        longest = max(len(a) for a in tok([" " + a for a in chunk["answer"]], add_special_tokens=False)["input_ids"])
        out = model.generate(**enc, max_new_tokens=longest + 4, do_sample=False, eos_token_id=tok.eos_token_id,
                             pad_token_id=tok.pad_token_id)
        texts = tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        for task, answer, text in zip(chunk["task"], chunk["answer"], texts):
            results.setdefault(task, []).append((parse_answer(task, answer), parse_answer(task, text)))
    return {task: score(task, [g for g, _ in pairs], [p for _, p in pairs]) for task, pairs in sorted(results.items())}


def run(candidates: list[str], cpu_seconds: float, n_train: int, n_eval: int, seed: int,
        tokens_per_batch: int = 4096) -> dict:
    fit, _ = corpus.fit_and_eval(n_fit=20_000, n_eval=1, seed=seed)
    prepared = prepare(fit)
    train_rows, eval_rows = load_rows("train", n_train, seed), load_rows("validation", n_eval, seed)
    report = {}
    for name in candidates:
        tok = build_candidate(name, prepared=prepared)
        examples = encode(tok, train_rows)
        max_len = int(np.diff(examples.offsets).max()) + 64
        model = tiny_model(tok, max_len, seed)
        t0 = time.time()
        stats = train(model, examples, cpu_seconds, tokens_per_batch=tokens_per_batch, lr=2e-3, seed=seed)
        stats["wall_seconds"] = time.time() - t0
        stats["params"] = sum(p.numel() for p in model.parameters())
        stats["mean_train_tokens_per_row"] = float(np.diff(examples.offsets).mean())
        stats["eval"] = evaluate(model, tok, eval_rows)
        report[name] = stats
        print(json.dumps({name: stats}, indent=1), flush=True)
    return report


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--candidates", nargs="+", default=["kmer3", "kmer6"])
    p.add_argument("--cpu-seconds", type=float, default=1200)
    p.add_argument("--train-rows", type=int, default=6000, help="per task")
    p.add_argument("--eval-rows", type=int, default=100, help="per task, from validation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--tokens-per-batch", type=int, default=4096)
    p.add_argument("--out", type=Path, default=Path("build/tokenizer_downstream.json"))
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    report = run(args.candidates, args.cpu_seconds, args.train_rows, args.eval_rows, args.seed, args.tokens_per_batch)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
