"""How a study trains a candidate and scores it: the product trainer, then the product evaluation on dev, each in a
child process pinned to one thread (two candidates then share the two cores), logs appended in the candidate's
folder: `out/config.json` -> `out/run` (train.log) -> `out/eval` (eval.log)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from finetune.evaluation.evaluate import main_metric

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def train_then_score(out: Path, rows: int, only: list[str], datasets: Path | None = None) -> None:
    """Train (resumable: a spent budget does no step) from `out/config.json`, then score `only` on dev (of the
    built datasets, or of those under `datasets`)."""
    env = {**os.environ, **ONE_THREAD}
    where = ["--datasets", str(datasets)] if datasets else []
    for args, log in ((["finetune.training.train", "--config", str(out / "config.json"), "--out", str(out / "run")],
                       "train.log"),
                      (["finetune.evaluation.evaluate", "--model", str(out / "run/release"), "--split", "dev",
                        "--max-rows", str(rows), "--only", *only, "--out", str(out / "eval"), *where], "eval.log")):
        with (out / log).open("a") as f:
            subprocess.run([sys.executable, "-m", *args], env=env, stdout=f, stderr=subprocess.STDOUT, check=True)


SHIPPED = Path("release/GenomicLLM")
SHIPPED_KEEP = ("model", "max_len", "microbatch_tokens", "min_lr_ratio", "weight_decay", "prompt_weight", "temperature")


def shipped_start(out: Path) -> Path:
    """A run folder at `out` whose release/ is the shipped model: what a focus study's `init_from` reads."""
    (out / "from").mkdir(parents=True, exist_ok=True)
    shutil.copytree(SHIPPED, out / "from" / "release", dirs_exist_ok=True)
    return out / "from"


def shipped_model(heads: dict[int, str] | None = None) -> dict:
    """The shipped model's shape (its training config's `model`), with head i reading stream `heads[i]` instead."""
    model = json.loads((SHIPPED / "train_config.json").read_text())["model"]
    model["position_streams"] = [(heads or {}).get(i, s) for i, s in enumerate(model["position_streams"])]
    return model


def focus_config(start: Path, sources: list[str], crops: list[str], budget: float, seed: int, **overrides) -> dict:
    """The shipped model's shape and objective, continued from `start` on `sources` (+ `crops`, weight 1 unless
    overridden) alone for `budget` process CPU-seconds: a focus study's training config."""
    shipped = json.loads((SHIPPED / "train_config.json").read_text())
    return {**{k: shipped[k] for k in SHIPPED_KEEP}, "tokenizer": str(SHIPPED), "init_from": str(start),
            "only_sources": sources, "crops": crops, "source_weights": {f"crops/{c}": 1.0 for c in crops},
            "tokens_per_batch": 4096, "steps": 100_000, "cpu_budget_s": budget, "lr": 6e-4, "warmup_steps": 20,
            "checkpoint_every": 50, "keep_checkpoints": 1, "seed": seed, **overrides}


def dev_values(results: dict) -> dict:
    """{benchmark: {"metric", "value"}}: each benchmark's main metric (`evaluate.main_metric`) in an evaluation's
    results, what a study's table shows."""
    return {b: {"metric": main_metric(r["task"]), "value": r["ours"][main_metric(r["task"])]}
            for b, r in results.items()}


def train_and_read(out: Path, config: dict, rows: int, only: list[str],
                   datasets: Path | None = None) -> tuple[dict, dict]:
    """Write `config`, train then score (`train_then_score`); return the last log row and {benchmark: results}."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config, indent=1))
    train_then_score(out, rows, only, datasets)
    last = json.loads((out / "run/log.jsonl").read_text().splitlines()[-1])
    return last, json.loads((out / "eval/results.json").read_text())
