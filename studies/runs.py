"""How a study trains a candidate and scores it: the product trainer, then the product evaluation on dev, each in a
child process pinned to one thread (two candidates then share the two cores), logs appended in the candidate's
folder: `out/config.json` -> `out/run` (train.log) -> `out/eval` (eval.log)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def train_then_score(out: Path, rows: int, only: list[str]) -> None:
    """Train (resumable: a spent budget does no step) from `out/config.json`, then score `only` on dev."""
    env = {**os.environ, **ONE_THREAD}
    for args, log in ((["finetune.training.train", "--config", str(out / "config.json"), "--out", str(out / "run")],
                       "train.log"),
                      (["finetune.evaluation.evaluate", "--model", str(out / "run/release"), "--split", "dev",
                        "--max-rows", str(rows), "--only", *only, "--out", str(out / "eval")], "eval.log")):
        with (out / log).open("a") as f:
            subprocess.run([sys.executable, "-m", *args], env=env, stdout=f, stderr=subprocess.STDOUT, check=True)
