"""Prompt bases scored over the DNA letters alone (`TrainConfig.narrow_prompt_dna`): how much faster, and is it as good
per CPU-second? (issue 15, lever 4: a smaller output vocabulary)

1. Throughput: the shipped model's shape, batches of its classification phase's mixture, `--steps` optimizer steps
   each way on one thread; real tokens per process CPU-second.
2. Quality at equal compute: the shipped model continues on the nine GUE TF sets and GC content (rows + crops) for
   `--budget` process CPU-seconds, plain loss vs narrow, one thread each, side by side; dev MCC (TF) and MAE (GC).

    python -m studies.narrow_softmax --budget 600     # -> studies/results/narrow_softmax.{md,json}
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from finetune.evaluation.evaluate import main_metric
from tasks.paths import DATASETS_DIR

from .runs import SHIPPED, focus_config, shipped_start, train_and_read
from .tables import write_results
from .tf_sets import tf_benchmarks

OUT = Path("build/studies/narrow_softmax")
TABLE = Path("studies/results/narrow_softmax")
PHASE = Path("finetune/training/configs/genomicllm-classify.json")
GC = "GenomicLLM_GRCh38/gc_content"


def throughput(steps: int) -> dict:
    """Tokens per process CPU-second of the shipped shape, plain vs narrow, on the same batches (one thread)."""
    import numpy as np
    import torch
    from accelerate import Accelerator
    from transformers import AutoTokenizer

    from finetune.loop import answer_weight, length_groups, lm_loss, optimizer_step
    from finetune.training.data import collate, load_mixture
    from finetune.training.loss import NarrowPromptDNALoss
    from finetune.training.train import TrainConfig, build_model, stream_token_ids

    torch.set_num_threads(1)
    cfg = TrainConfig.load(PHASE, {"tokenizer": str(SHIPPED)})
    tok = AutoTokenizer.from_pretrained(cfg.tokenizer)
    mix = load_mixture(Path(cfg.datasets), tok, cfg.max_len, cfg.temperature, None, None, cfg.seed,
                       cfg.source_weights, cfg.crops)
    model = build_model(cfg, tok)
    acc = Accelerator()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    losses = {"plain": lm_loss,
              "narrow": NarrowPromptDNALoss(stream_token_ids(tok)["dna_token_ids"], model.config.vocab_size)}
    out = {}
    for name, loss_of in losses.items():
        cpu, tokens = 0.0, 0
        for step in range(steps + 1):  # the first step warms up, uncounted
            rng = np.random.default_rng([cfg.seed, step])
            groups = [collate(g, tok.pad_token_id, cfg.prompt_weight)
                      for g in length_groups(mix.sample(rng, cfg.tokens_per_batch, 0.5), cfg.microbatch_tokens)]
            total = sum(answer_weight(b) for b in groups)
            t0 = time.process_time()
            _, seen = optimizer_step(acc, model, opt, groups, total, 1e-5, model.parameters(), loss_of)
            if step:
                cpu, tokens = cpu + time.process_time() - t0, tokens + seen
        out[name] = {"tokens": tokens, "cpu_s": round(cpu, 1), "tokens_per_cpu_s": round(tokens / cpu, 1)}
    return out


def run(name: str, start: Path, sources: list[str], budget: float, rows: int) -> dict:
    config = focus_config(start, sources, ["gc_content"], budget, seed=6, narrow_prompt_dna=name == "narrow")
    last, results = train_and_read(OUT / f"{name}-{budget:.0f}s", config, rows, sources)
    return {"candidate": name, "cpu_s": round(last["cpu_s"], 1), "steps": last["step"], "tokens": last["tokens"],
            "metrics": {k: v["ours"][main_metric(v["task"])] for k, v in results.items()}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=600.0, help="process CPU-seconds per candidate")
    p.add_argument("--steps", type=int, default=6, help="throughput: optimizer steps each way")
    p.add_argument("--rows", type=int, default=400, help="dev rows per benchmark")
    args = p.parse_args(argv)
    speed = throughput(args.steps)
    sources = [b.name for b in tf_benchmarks(DATASETS_DIR)] + [GC]
    start = shipped_start(OUT)
    with ThreadPoolExecutor(2) as pool:
        rows = list(pool.map(lambda name: run(name, start, sources, args.budget, args.rows), ("plain", "narrow")))
    lines = ["| | " + " | ".join(speed) + " |", "|---|" + "---|" * len(speed),
             "| tokens per CPU-s (throughput) | " + " | ".join(f"{v['tokens_per_cpu_s']:,.0f}" for v in speed.values())
             + " |"]
    lines += ["| CPU-s / steps / tokens (quality run) | " + " | ".join(
        f"{r['cpu_s']:.0f} / {r['steps']} / {r['tokens']:,}" for r in rows) + " |"]
    for s in sources:
        metric = "MAE" if s == GC else "MCC"
        lines.append(f"| {s} ({metric}) | " + " | ".join(f"{r['metrics'][s]:.3f}" for r in rows) + " |")
    tf = [s for s in sources if s != GC]
    lines.append("| mean TF MCC | " + " | ".join(f"{sum(r['metrics'][s] for s in tf) / len(tf):.3f}" for r in rows)
                 + " |")
    write_results(TABLE, {"throughput": speed, "runs": rows},
                  f"Prompt bases over the DNA letters alone (`narrow`) vs the whole vocabulary (`plain`). Throughput: "
                  f"the shipped shape on {args.steps} steps of the classification phase's batches, one thread. "
                  f"Quality: {args.budget:.0f} process CPU-seconds from the shipped model on the nine GUE TF sets + "
                  f"GC content (rows + crops), one thread each, side by side; dev, {args.rows} rows per benchmark "
                  f"(`python -m studies.narrow_softmax --budget {args.budget:.0f}`).\n\n" + "\n".join(lines) + "\n")
    print(json.dumps(speed))


if __name__ == "__main__":
    main()
