"""Your own task, end to end: a labelled file → a fine-tuned GenomicLLM in an adapter folder, evaluated on test.

    genomicllm finetune --data my.csv --task-name my_task --out adapters/my_task     # (+ the card: hub.adapter_card)

The folder then holds what the Hub repo holds — `adapter_config.json` + `adapter_model.safetensors` (LoRA), or a
model folder (`--full`); the tokenizer; `genomicllm_task.json` (the task's name, phrase and labels) — and
`training/`: `train_config.json`, `data_summary.json`, `log.jsonl`, `dev.jsonl`, `loss.png`, `results.json` (test
metrics beside the k-mer LR and majority baselines), `confusion.png`. While training, `checkpoints/` holds the
resumable state (rerun the same command to continue); it is removed once the folder is complete.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

from tasks import Task
from tasks.custom import TASK_FILE, write_task_file

from . import models
from .evaluate_adapter import evaluate_test
from .examples import encode, fit_to_context
from .train_adapter import AdaptConfig, plan_steps, resolve, train
from .userdata import UserData

TRAINING = "training"


class RunFolderError(ValueError):
    """The output folder holds something this run must not overwrite or cannot resume."""


def prepare_folder(out: Path, settings: dict, overwrite: bool) -> bool:
    """Whether to resume; refuses to mix a finished or different run into `out` unless `overwrite`."""
    saved = out / TRAINING / "train_config.json"
    finished = (out / TASK_FILE).is_file()
    resumable = (out / "checkpoints").is_dir() and saved.is_file()
    if overwrite and out.exists():
        shutil.rmtree(out)
        return False
    if finished:
        raise RunFolderError(f"{out} already holds a finished adapter; pass --overwrite to train it again, or "
                             "choose another --out")
    if resumable:
        before = json.loads(saved.read_text())
        if before != settings:
            changed = sorted(k for k in set(before) | set(settings) if before.get(k) != settings.get(k))
            raise RunFolderError(f"{out} holds an unfinished run with other settings ({', '.join(changed)}); rerun "
                                 "it with the same ones to resume, or pass --overwrite")
        return True
    if out.exists() and any(out.iterdir()):
        raise RunFolderError(f"{out} is not empty and holds no run of `genomicllm finetune`; choose another --out")
    return False


def finetune(data: UserData, task: Task, out: Path, cfg: AdaptConfig, base: str | Path, *,
             base_revision: str | None = None, base_id: str | None = None, window: int | None = None,
             overwrite: bool = False, progress: bool = True) -> dict:
    """Train, export, evaluate; returns the test results (also in `out/training/results.json`)."""
    out = Path(out)
    if (out / TASK_FILE).is_file() and not overwrite:  # before minutes of loading: the folder is done
        prepare_folder(out, {}, overwrite)
    tok, model = models.load_base(base, cfg.objective, task.labels, base_revision)
    limit = model.config.max_position_embeddings
    data = fit_to_context(tok, task, data, limit, window)
    train_ex = encode(tok, task, data.splits["train"], cfg.objective, limit)
    dev = data.splits["dev"]
    if len(dev) > cfg.max_dev_rows:
        dev = dev.sample(n=cfg.max_dev_rows, random_state=cfg.seed)
    dev_ex = encode(tok, task, dev, cfg.objective, limit)
    run_cfg = resolve(cfg, len(plan_steps([len(ids) for ids, _ in train_ex], cfg)[0]))
    settings = {"config": asdict(run_cfg), "task": {"name": task.name, "phrase": task.phrase,
                                                   "labels": list(task.labels)},
                "data": {k: data.summary[k] for k in ("files", "rows_read", "splits", "seed")},
                "base": str(base), "window": window}
    resume = prepare_folder(out, settings, overwrite)
    (out / TRAINING).mkdir(parents=True, exist_ok=True)
    if not resume:
        (out / TRAINING / "train_config.json").write_text(json.dumps(settings, indent=1))
    facts = models.base_facts(base, model)
    data.summary["tokens"] = {"train": int(sum(len(ids) for ids, _ in train_ex)),
                              "dev_rows_for_early_stopping": len(dev)}
    (out / TRAINING / "data_summary.json").write_text(json.dumps(data.summary, indent=1))

    model = models.wrap(model, run_cfg.mode, run_cfg.objective, run_cfg.r, run_cfg.alpha, run_cfg.dropout, run_cfg.seed)
    model, state = train(run_cfg, model, tok.pad_token_id, train_ex, dev_ex, out, progress)

    hub_base = models.base_hub_id(base, base_id)
    files = models.export(model, tok, out, run_cfg.mode, hub_base)
    model = model.cpu()  # answered as users answer (modeling.inference.generate feeds CPU tensors)
    if run_cfg.mode == "lora":
        model = model.merge_and_unload()  # the same function, fewer matmuls for the test answers
    results = evaluate_test(model, tok, task, data, run_cfg.objective, out / TRAINING)
    results.update(training=state, files=files)
    (out / TRAINING / "results.json").write_text(json.dumps(results, indent=1))
    write_task_file(out, task, objective=run_cfg.objective, mode=run_cfg.mode, label_map=data.label_map,
                    base_model=hub_base, base=facts, window=window)
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return results


__all__ = ["RunFolderError", "TRAINING", "finetune", "prepare_folder"]
