"""`make bench-model`: throughput and peak memory of the GenomicLLM shapes considered, on this machine's CPU.

Every config runs in its own fresh process (so peak RSS is that config's own), fp32, randomly initialised weights,
sdpa attention, one torch thread unless `--threads` says otherwise (per-core numbers: what a CPU-hour buys; and on a
shared machine two threads competing with another job can run 10x slower). Columns:
- params: parameter count (tied embeddings counted once).
- batch: sequences x tokens per forward / training step (per config, `--batch` / `--seq` override).
- fwd tok/s: inference forward (no grad) over that batch.
- train tok/s: one AdamW training step (forward + backward + update) on that batch, fp32.
- gen tok/s: new tokens per second of greedy `generate()` with the KV cache, batch 1, a `--prompt`-token prompt and
  `--new` new tokens (prefill included in the time); gen8 tok/s: the same with 8 prompts at once.
- peak RSS: the process's maximum resident memory (MiB) after all of the above (model, AdamW state, activations).
Each number comes from the fastest of at least 3 timed calls (more while `--budget` seconds last) after one warm-up
call: on a shared machine other processes only ever add time. Still, compare rows of one run, not runs.

    python -m studies.model_shapes                       # the default table (~1.5 min)
    python -m studies.model_shapes --threads 0           # all cores (only meaningful on an idle machine)
    python -m studies.model_shapes --configs 3.5M original --seq 512 --json build/bench_model.json
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

from tasks.anchors import ORIGINAL_SHAPE

# name -> (hidden_size, num_layers, num_attention_heads, intermediate_size, batch); vocab 512, context 512 throughout.
# The batch shrinks for the big shapes so the default run stays under ~3 minutes; tokens/s is per token either way.
CONFIGS: dict[str, tuple[int, int, int, int, int]] = {
    "1M": (128, 4, 4, 384, 8),
    "3.5M": (256, 4, 4, 768, 8),
    "3.5M-deep": (192, 8, 6, 576, 8),
    "12M": (384, 6, 6, 1152, 4),
    "original": (*(ORIGINAL_SHAPE[k] for k in ("hidden_size", "num_layers", "num_attention_heads",
                                               "intermediate_size")), 1),  # the GenomicLLM paper's shape
}
DEFAULT_CONFIGS = ("1M", "3.5M", "3.5M-deep", "12M", "original")
CONTEXT = 512


def build(name: str, vocab: int = 512):
    import torch

    from modeling.configuration_genomicllm import GenomicLLMConfig
    from modeling.modeling_genomicllm import GenomicLLMForCausalLM

    hidden, layers, heads, ffn, _ = CONFIGS[name]
    config = GenomicLLMConfig(
        vocab_size=vocab, hidden_size=hidden, num_layers=layers, num_attention_heads=heads, intermediate_size=ffn,
        max_position_embeddings=CONTEXT,
    )
    torch.manual_seed(0)
    return GenomicLLMForCausalLM(config)


def timed(fn, budget: float, min_calls: int = 3, max_calls: int = 200) -> float:
    """Best seconds per call: one warm-up call, then at least `min_calls` calls and until `budget` seconds passed.
    The minimum, not the mean: on a shared machine other processes only ever add time."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < min_calls or (time.perf_counter() - start < budget and len(times) < max_calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(name: str, seq: int, prompt: int, new: int, budget: float, vocab: int, batch: int | None = None) -> dict:
    import torch

    model = build(name, vocab)
    params = sum(p.numel() for p in model.parameters())
    batch = batch or CONFIGS[name][4]
    ids = torch.randint(3, vocab, (batch, seq))
    row = {"config": name, "params": params, "batch": batch, "seq": seq, "threads": torch.get_num_threads()}

    model.eval()
    with torch.no_grad():
        row["fwd_tok_s"] = batch * seq / timed(lambda: model(ids, use_cache=False), budget)

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def train_step():
        loss = model(ids, labels=ids, use_cache=False).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    row["train_tok_s"] = batch * seq / timed(train_step, budget)

    model.eval()
    for label, n in (("gen_tok_s", 1), ("gen8_tok_s", 8)):
        prompt_ids = torch.randint(3, vocab, (n, prompt))
        kwargs = dict(max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=0)
        with torch.no_grad():
            row[label] = n * new / timed(lambda: model.generate(prompt_ids, **kwargs), budget)

    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def table(rows: list[dict]) -> str:
    header = ["config", "layers x width", "params", "batch", "fwd tok/s", "train tok/s", "gen tok/s", "gen8 tok/s",
              "peak RSS MiB"]
    lines = [header]
    for r in rows:
        hidden, layers = CONFIGS[r["config"]][:2]
        lines.append([
            r["config"], f"{layers} x {hidden}", f"{r['params'] / 1e6:.2f}M", f"{r['batch']}x{r['seq']}",
            f"{r['fwd_tok_s']:,.0f}",
            f"{r['train_tok_s']:,.0f}", f"{r['gen_tok_s']:,.0f}", f"{r['gen8_tok_s']:,.0f}",
            f"{r['peak_rss_mib']:,.0f}",
        ])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for k, line in enumerate(lines):
        cells = (c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
        out.append("| " + " | ".join(cells) + " |")
        if k == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m studies.model_shapes", description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=list(DEFAULT_CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--batch", type=int, help="sequences per forward / training step (default: per config)")
    ap.add_argument("--seq", type=int, default=256, help="tokens per sequence (<= 512)")
    ap.add_argument("--vocab", type=int, default=512, help="vocabulary size (the original's 512)")
    ap.add_argument("--prompt", type=int, default=32, help="prompt tokens for generation")
    ap.add_argument("--new", type=int, default=32, help="new tokens per generation")
    ap.add_argument("--budget", type=float, default=1.5, help="seconds of repeated calls per measurement")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads per run; 0 = torch's default (all cores). Default 1: tokens per core-second "
                         "(what CPU-hours buy), and robust on a shared machine, where 2 spinning threads competing "
                         "with another job run up to 10x slower")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one config in this process, print JSON
    args = ap.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.one:
        print(json.dumps(measure(args.one, args.seq, args.prompt, args.new, args.budget, args.vocab, args.batch)))
        return

    load = os.getloadavg()[0]
    print(f"GenomicLLM micro-benchmark: fp32, CPU, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores, load avg {load:.2f}; vocab {args.vocab}, seq {args.seq}; "
          f"generation: prompt {args.prompt} + {args.new} new tokens, greedy, KV cache", flush=True)
    if load > 0.5 * (os.cpu_count() or 1) and torch.get_num_threads() > 1:
        print(f"warning: the machine is busy (load {load:.1f}); multi-threaded numbers will be far too low. "
              "Rerun when idle, or with --threads 1.", flush=True)
    rows = []
    for name in args.configs:
        start = time.perf_counter()
        cmd = [sys.executable, "-m", "studies.model_shapes", "--one", name, "--seq", str(args.seq),
               "--vocab", str(args.vocab), "--prompt", str(args.prompt), "--new", str(args.new),
               "--budget", str(args.budget), "--threads", str(args.threads)]
        if args.batch:
            cmd += ["--batch", str(args.batch)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True,
                              env={**os.environ, "TRANSFORMERS_VERBOSITY": "error"})
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
