"""Which (dataset, config) pairs are evaluated, with their task and splits: the one list the evaluators share.

Derived from the builders' own tables (GUE groups, GenomicBenchmarks config->task, corpus configs), over whatever
configs a built `build/datasets` holds. Split roles: `train` for fitting, `dev` for model selection (GUE `dev`,
corpus `validation`, none for GenomicBenchmarks), `test` for the reported number. Gold answers are the `answer`
column, i.e. the model's own output space (label names as the grammar writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dataset_scripts import build_genomic_benchmarks as gb
from dataset_scripts import build_grch38, build_gue
from dataset_scripts.tasks import get_task

DATASETS_DIR = Path("build/datasets")
DATASETS = ("GenomicLLM_GRCh38", "GUE", "GenomicBenchmarks")  # the three Hub datasets, in this order everywhere


@dataclass(frozen=True)
class Benchmark:
    dataset: str
    config: str
    task: str
    splits: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.config}"

    @property
    def dev(self) -> str | None:
        return next((s for s in ("dev", "validation") if s in self.splits), None)

    def load(self, split: str, root: Path = DATASETS_DIR, columns: list[str] | None = None) -> pd.DataFrame:
        if split not in self.splits:
            raise KeyError(f"{self.name} has no {split!r} split (has {self.splits})")
        return pd.read_parquet(root / self.dataset / "data" / self.config / f"{split}.parquet", columns=columns)


def _task_of(dataset: str, config: str) -> str | None:
    if dataset == "GUE":
        return build_gue.GROUPS[build_gue.group_of(config)][1]
    if dataset == "GenomicBenchmarks":
        entry = gb.CONFIG_TASKS.get(config)
        return entry[0] if entry else None
    tasks = build_grch38.CONFIGS.get(config, ())
    return tasks[0] if tasks else None  # a multi-task config (reverse/complement/…) is named by its first task


def discover(root: Path = DATASETS_DIR, kinds: tuple[str, ...] = ("classify",)) -> list[Benchmark]:
    """Benchmarks present under `root` whose task kind is in `kinds`."""
    out = []
    for dataset in DATASETS:
        for folder in sorted((root / dataset / "data").glob("*")):
            task = _task_of(dataset, folder.name)
            if task is None or get_task(task).kind not in kinds:
                continue
            splits = tuple(s for s in ("train", "dev", "validation", "test") if (folder / f"{s}.parquet").exists())
            out.append(Benchmark(dataset, folder.name, task, splits))
    if not out:
        raise FileNotFoundError(f"no built datasets under {root}: run `make datasets` first")
    return out
