"""`make bench`: what an answer costs with the shipped model vs the original GenomicLLM architecture, on this CPU.

Both models answer the same questions (a seeded sample of test prompts over every benchmark), each through its own
tokenizer: ours is the shipped hybrid k-mer tokenizer, the original's is a 512-piece SentencePiece unigram trained here
on train-split text as the paper did (the original's shape: dim 768, 12 layers, 12 heads, FFN 2304, vocab 512,
context 512; random weights, since only cost is measured). Both generate exactly `--new` tokens per answer (greedy,
KV cache). Each model runs in its own fresh process so that its peak RSS is its own, with `--threads` torch threads
(default 1: per-core cost, and robust on a busy machine).

Reported per model: p50 / p95 latency of one answer (batch 1), batch throughput (answers/s, `--batch` prompts at
once, left-padded), training tokens/s (forward + backward + AdamW on batches of the same prompts), prompt tokens
(p50), parameters and peak RSS; then ours / original ratios.

    python -m finetune.evaluation.cost --model release/GenomicLLM [--prompts 48] [--new 16] [--json build/eval/bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tasks.anchors import ORIGINAL_SHAPE
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.paths import EVAL_DIR, MODEL_DIR

RESULT = "bench-result: "


def sample_prompts(n: int, seed: int = 0, root: Path = DATASETS_DIR, split: str = "test") -> list[str]:
    """`n` prompts of `split` spread evenly over the benchmarks (seeded); each benchmark's file is read once."""
    from tasks.registry import KINDS

    benches = [b for b in discover(root, KINDS) if split in b.splits]
    if not benches:
        raise FileNotFoundError(f"no {split} splits under {root}: run `make datasets`")
    rng = np.random.default_rng(seed)
    frames = {}
    prompts = []
    for i in range(n):
        b = benches[i % len(benches)]
        if b.name not in frames:
            frames[b.name] = b.load(split, root, ["prompt"])["prompt"]
        column = frames[b.name]
        prompts.append(column.iloc[int(rng.integers(len(column)))])
    return prompts


def original_tokenizer(root: Path = DATASETS_DIR, n_texts: int = 20_000, seed: int = 0):
    """The original's tokenizer: SentencePiece unigram, 512 pieces, trained on the same train-split text sample as
    the project's tokenizer and the tokenizer benchmark's spm512 baseline (`tokenizer.corpus.fit_and_eval`)."""
    from tokenizer import corpus, spm_baseline

    texts, _ = corpus.fit_and_eval(root, n_fit=n_texts, n_eval=0, seed=seed)
    return spm_baseline.processor(spm_baseline.train(texts))


def encode(which: str, model_dir: Path, prompts: list[str]) -> tuple[list[list[int]], int]:
    """Token ids of each prompt (bos first) and the pad id, with `which` model's tokenizer."""
    if which == "ours":
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_dir)
        return tok(prompts)["input_ids"], tok.pad_token_id
    sp = original_tokenizer()
    return [[1] + sp.encode(p) for p in prompts], 0


def build_model(which: str, model_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM

    if which == "ours":
        return AutoModelForCausalLM.from_pretrained(model_dir, trust_remote_code=True).eval()
    from modeling.configuration_genomicllm import GenomicLLMConfig
    from modeling.modeling_genomicllm import GenomicLLMForCausalLM

    torch.manual_seed(0)
    return GenomicLLMForCausalLM(GenomicLLMConfig(pad_token_id=0, bos_token_id=1, eos_token_id=2, **ORIGINAL_SHAPE)).eval()


def left_pad(rows: list[list[int]], pad: int):
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r)
        mask[i, width - len(r) :] = 1
    return ids, mask


def measure(which: str, model_dir: Path, n_prompts: int, new: int, batch: int, train_steps: int,
            root: Path = DATASETS_DIR, split: str = "test") -> dict:
    import torch

    prompts = sample_prompts(n_prompts, root=root, split=split)
    ids, pad = encode(which, model_dir, prompts)
    model = build_model(which, model_dir)
    limit = model.config.max_position_embeddings
    too_long = sum(len(r) + new > limit for r in ids)
    if too_long:
        raise ValueError(f"{which}: {too_long} of {len(ids)} prompts + {new} new tokens exceed the {limit}-token "
                         "context; choose other prompts or fewer new tokens")
    gen = dict(max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=pad, eos_token_id=None)

    def answer(rows):
        x, m = left_pad(rows, pad)
        with torch.no_grad():
            model.generate(input_ids=x, attention_mask=m, **gen)

    answer(ids[:1])  # warm-up
    single = []
    for r in ids:
        t0 = time.perf_counter()
        answer([r])
        single.append(time.perf_counter() - t0)
    order = np.argsort([len(r) for r in ids])  # batches of similar length, as a server would form them
    t0 = time.perf_counter()
    for s in range(0, len(ids), batch):
        answer([ids[i] for i in order[s : s + batch]])
    batch_s = time.perf_counter() - t0

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    tokens, t0 = 0, None
    for step in range(train_steps + 1):  # step 0 is a warm-up, not timed
        if step == 1:
            t0, tokens = time.perf_counter(), 0
        rows = [ids[i] for i in order[(step * 8) % len(ids) :][:8]] or ids[:8]
        x, m = left_pad(rows, pad)
        loss = model(input_ids=x, attention_mask=m, labels=x.masked_fill(m == 0, -100)).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(m.sum())
    train_s = time.perf_counter() - t0
    return {
        "model": which, "params": sum(p.numel() for p in model.parameters()), "threads": torch.get_num_threads(),
        "prompts": len(ids), "prompt_tokens_p50": float(np.median([len(r) for r in ids])), "new_tokens": new,
        "latency_p50_s": float(np.percentile(single, 50)), "latency_p95_s": float(np.percentile(single, 95)),
        "batch": batch, "answers_per_s": len(ids) / batch_s, "train_tokens_per_s": tokens / train_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def report(ours: dict, orig: dict) -> str:
    rows = [("parameters", "params", "{:,.0f}", False), ("prompt tokens (p50)", "prompt_tokens_p50", "{:.0f}", False),
            ("latency p50, one answer (s)", "latency_p50_s", "{:.3f}", False),
            ("latency p95, one answer (s)", "latency_p95_s", "{:.3f}", False),
            (f"batch throughput (answers/s, batch {ours['batch']})", "answers_per_s", "{:.2f}", True),
            ("training tokens/s", "train_tokens_per_s", "{:,.0f}", True), ("peak RSS (MiB)", "peak_rss_mib", "{:,.0f}", False)]
    lines = ["| | ours | original GenomicLLM shape | ours vs original |", "|---|---|---|---|"]
    for label, key, fmt, higher_better in rows:
        a, b = ours[key], orig[key]
        ratio = f"{a / b:.1f}x more" if a >= b else f"{b / a:.1f}x less"  # the larger over the smaller
        ratio += "" if (a >= b) == higher_better or a == b else " (worse)"
        lines.append(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=MODEL_DIR)
    p.add_argument("--prompts", type=int, default=48)
    p.add_argument("--new", type=int, default=16, help="new tokens per answer, the same for both models")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--train-steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads per model (0 = torch's default)")
    p.add_argument("--json", type=Path, default=EVAL_DIR / "bench.json")
    p.add_argument("--one", choices=("ours", "original"), help=argparse.SUPPRESS)  # internal: one model, print JSON
    args = p.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        row = measure(args.one, args.model, args.prompts, args.new, args.batch, args.train_steps)
        print(RESULT + json.dumps(row))  # marked: libraries may print to stdout too
        return
    print(f"make bench: {args.prompts} test prompts, {args.new} new tokens each, {args.threads or 'all'} thread(s), "
          f"{os.cpu_count()} cores, load avg {os.getloadavg()[0]:.2f}", flush=True)
    rows = {}
    for which in ("ours", "original"):
        cmd = [sys.executable, "-m", "finetune.evaluation.cost", "--one", which, "--model", str(args.model), "--prompts",
               str(args.prompts), "--new", str(args.new), "--batch", str(args.batch), "--train-steps",
               str(args.train_steps), "--threads", str(args.threads)]
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TRANSFORMERS_VERBOSITY": "error"})
        if done.returncode:
            raise SystemExit(f"{which}: failed\n{done.stderr[-3000:]}")
        marked = [line[line.index(RESULT):] for line in done.stdout.splitlines() if RESULT in line]
        if not marked:
            raise SystemExit(f"{which}: no result printed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        rows[which] = json.loads(marked[-1][len(RESULT) :])
    print(report(rows["ours"], rows["original"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
