"""Turn a finished training run into the folder the repository ships (`release/GenomicLLM`).

The run's release folder (safetensors, config, tokenizer, remote code; written by `modeling.release.write_release`)
plus what a reader needs to trust it: the training config, the mixture table, a summary of the log (steps, tokens,
CPU seconds, final loss, where it ran) and the loss plot. Written to a staging folder, size-checked, then moved into
place, so a failed ship never leaves a half-written folder. A run started from another (`init_from`) adds that run's
summary and the chain's totals; a pointer phase (`pointer_heads`), which only adds heads, ships its base run's
files and summary with its own beside them (`pointer_*` files, `pointer_heads` in the summary) and in the totals.

    python -m finetune.training.ship --run build/train/genomicllm --to release/GenomicLLM
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
from pathlib import Path

import numpy as np
import torch

from finetune.training.folder_config import edited_config
from modeling.configuration_genomicllm import STORED_DTYPES
from modeling.modeling_genomicllm import stored_weights
from modeling.release import MAX_MB, weights_mb

RUN_FILES = ("train_config.json", "mixture.json", "loss.png")
SUMMARY_KEYS = ("steps", "tokens", "cpu_s", "wall_s_logged", "final_loss_mean_last_50_steps", "tokens_per_s_last",
                "init_from", "total_tokens", "total_cpu_s")
POINTER_PREFIX = "pointer_"  # a pointer phase's own run files, beside its base run's


def log_summary(run: Path) -> dict:
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{run}/log.jsonl is empty: nothing was trained")
    last = rows[-1]
    tail = [r["loss"] for r in rows[-50:]]
    return {
        "steps": last["step"],
        "tokens": last.get("tokens"),  # real (non-padding) tokens, all processes
        "cpu_s": last.get("cpu_s"),  # process CPU seconds (all threads, all processes), summed over resumes
        "wall_s_logged": round(last["time"] - rows[0]["time"], 1),
        "final_loss_mean_last_50_steps": float(np.mean(tail)),
        "tokens_per_s_last": last["tokens_per_s"],
    }


def run_summary(run: Path) -> dict:
    """A finished run's summary with the totals of the runs it started from: from its log, or, for a run rebuilt
    from its shipped folder, the summary ship wrote then."""
    if (run / "log.jsonl").is_file():
        own = log_summary(run)
        return {**own, **init_summary(run, own)}
    return json.loads((run / "release" / "training_summary.json").read_text())


def init_summary(run: Path, this: dict) -> dict:
    """For a run started from another run's weights (`init_from`): that run's summary and the totals of the whole
    chain of runs (`this`: the run's own `log_summary`; the run before it may itself have started from another)."""
    init = train_config(run).get("init_from")
    if not init:
        return {}
    first = {k: v for k, v in run_summary(Path(init)).items() if k in SUMMARY_KEYS}
    return {"init_from": {"run": init, **first}, **totals(first, this)}


def pointer_summary(run: Path, base: Path) -> dict:
    """A pointer phase only adds heads to `base`'s model (`pointer_heads.py`): the model's training is `base`'s,
    with the phase beside it (`pointer_heads`) and in the totals."""
    own, first = log_summary(run), run_summary(base)
    return {**first, "pointer_heads": {"run": str(run), "heads_per_layer": train_config(run)["pointer_heads"], **own},
            **totals(first, own)}


def totals(first: dict, then: dict) -> dict:
    """Tokens and CPU seconds of a run (`then`) and of everything before it (`first`, itself maybe a chain)."""
    return {"total_tokens": first.get("total_tokens", first["tokens"]) + then["tokens"],
            "total_cpu_s": first.get("total_cpu_s", first["cpu_s"]) + then["cpu_s"]}


def train_config(run: Path) -> dict:
    config = run / "train_config.json"
    return json.loads(config.read_text()) if config.is_file() else {}


def store_as(folder: Path, dtype: str | None) -> None:
    """Rewrite the folder's weights file in `dtype` (the model's `stored_dtype`: float16 halves it; loading casts
    back to float32) and say so in its config, as `save_pretrained` would have written them; None leaves both."""
    from safetensors.torch import load_file, save_file

    if not dtype:
        return
    weights = folder / "model.safetensors"
    save_file(stored_weights(load_file(weights), dtype), weights, metadata={"format": "pt"})
    with edited_config(folder) as config:
        config["stored_dtype"] = dtype


def ship(run: Path, to: Path, where: str | None = None, extra: dict | None = None,
         stored_dtype: str | None = None) -> Path:
    release = run / "release"
    if not (release / "model.safetensors").is_file():
        raise FileNotFoundError(f"{release} has no model.safetensors: the run has not finished (see {run}/log.jsonl)")
    stage = to.with_name(to.name + ".staging")
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(release, stage)
    store_as(stage, stored_dtype)
    config = train_config(run)
    base = Path(config["init_from"]) if config.get("pointer_heads") else None
    for name in RUN_FILES:
        if base is not None:  # the model's training is the base run's; the pointer phase's files sit beside
            found = [p for p in (base / name, base / "release" / name) if p.is_file()]
            if found:
                shutil.copy2(found[0], stage / name)
        if (run / name).is_file():
            shutil.copy2(run / name, stage / ((POINTER_PREFIX if base is not None else "") + name))
    own = log_summary(run)
    summary = {**(pointer_summary(run, base) if base is not None else {**own, **init_summary(run, own)}),
               **(extra or {}),
               "trained_on": where or f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CPU",
               "torch": torch.__version__}
    (stage / "training_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    mb = weights_mb(stage)
    if mb > MAX_MB:
        shutil.rmtree(stage)
        raise ValueError(f"{run}: the shipped weights would be {mb:.1f} MB, over the {MAX_MB} MB the repository allows")
    shutil.rmtree(to, ignore_errors=True)
    stage.rename(to)
    return to


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--to", type=Path, default=Path("release/GenomicLLM"))
    p.add_argument("--where", help="where it was trained (default: this machine)")
    p.add_argument("--extra", type=json.loads, default={}, help="JSON object merged into training_summary.json")
    p.add_argument("--stored-dtype", choices=[d for d in STORED_DTYPES if d],
                   help="store the shipped weights in this floating type (default: as trained, float32; float16 "
                        "changes some heads' answers: studies/results/weight_precision.md)")
    args = p.parse_args(argv)
    print(f"shipped {ship(args.run, args.to, args.where, args.extra, args.stored_dtype)}")


if __name__ == "__main__":
    main()
