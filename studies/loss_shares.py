"""Each source's share of a training config's rows, tokens and answer loss weight (issue 15): how much of the step's
gradient each task gets, with every token weighed alike (`row_balance` 0) or every row's answer alike (1).

Samples `--steps` batches of the config's mixture at mid-run (the crops' length curriculum at `--progress`) and
collates them as the trainer does (`finetune.training.data.collate`); no model is run.

    python -m studies.loss_shares --config finetune/training/configs/genomicllm.json
        # -> studies/results/loss_shares-genomicllm.{md,json} (one table per config)
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from transformers import AutoTokenizer

from finetune.training.data import collate, load_mixture
from finetune.training.train import TrainConfig

from .tables import write_results

RESULTS = Path("studies/results")
BALANCES = (0.0, 1.0)


def shares(config: Path, steps: int, progress: float, datasets: Path) -> dict[str, dict[str, float]]:
    """{source: {"rows", "tokens", "answer weight b=<b>" ...}} as fractions of all sampled."""
    cfg = TrainConfig(**json.loads(config.read_text()))
    tok = AutoTokenizer.from_pretrained(cfg.tokenizer)
    mixture = load_mixture(datasets, tok, cfg.max_len, cfg.temperature, cfg.max_rows_per_source, cfg.only_sources,
                           cfg.seed, cfg.source_weights, cfg.crops)
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rng = np.random.default_rng(0)
    for _ in range(steps):
        batch = mixture.sample_named(rng, cfg.tokens_per_batch, progress)
        for name, example in batch:
            totals[name]["rows"] += 1
            totals[name]["tokens"] += len(example[0])
            for b in BALANCES:
                w = collate([example], tok.pad_token_id, cfg.prompt_weight, b)["loss_weights"][0]
                totals[name][f"answer weight b={b:g}"] += float(w[example[1]:].sum())
    columns = ["rows", "tokens"] + [f"answer weight b={b:g}" for b in BALANCES]
    sums = {c: sum(t[c] for t in totals.values()) for c in columns}
    return {name: {c: t[c] / sums[c] for c in columns} for name, t in sorted(totals.items())}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, default=Path("finetune/training/configs/genomicllm.json"))
    p.add_argument("--steps", type=int, default=300, help="batches sampled")
    p.add_argument("--progress", type=float, default=0.5, help="where in the run (0..1): the crops' lengths")
    p.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    args = p.parse_args(argv)
    table = shares(args.config, args.steps, args.progress, args.datasets)
    columns = list(next(iter(table.values())))
    lines = ["| source | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{100 * v[c]:.1f}%" for c in columns) + " |"
              for name, v in sorted(table.items(), key=lambda kv: -kv[1]["answer weight b=0"])]
    write_results(RESULTS / f"loss_shares-{args.config.stem}", table,
                  f"Each source's share of `{args.config}`'s sampled rows, tokens and answer loss weight, every token "
                  f"alike (b=0, `row_balance` 0, as shipped) or every row's answer alike (b=1); {args.steps} batches "
                  f"at progress {args.progress} (`python -m studies.loss_shares --config {args.config}`).\n\n"
                  + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
