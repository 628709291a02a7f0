"""The benchmark list: which (dataset, config) pairs exist, the task each answers, how source labels map to answers.

The dataset builders write these configs and the evaluators read them; both import the tables from here. Split
roles: `train` for fitting, `dev` for model selection (GUE `dev`, corpus `validation`, none for GenomicBenchmarks),
`test` for the reported number; where the mirror has no train split, or only a rebuilt one, heads and baselines are
fitted on dev (`Benchmark.fit`). The language model itself trains on train splits alone. Gold answers are the
`answer` column, i.e. the model's own output space (label names as the grammar writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .paths import DATASETS_DIR
from .registry import get_task

DATASETS = ("GenomicLLM_GRCh38", "GUE", "GenomicBenchmarks")  # the three Hub datasets, in this order everywhere

# GenomicLLM_GRCh38: config -> the tasks its rows hold
CORPUS_CONFIGS: dict[str, tuple[str, ...]] = {
    "splice_site": ("splice_site",), "orf_frame": ("orf_frame",), "sequence_direction": ("sequence_direction",),
    "gene_biotype": ("gene_biotype",), "gc_content": ("gc_content",), "nt2aa": ("nt2aa",),
    "reverse_complement": ("reverse", "complement", "reverse_complement"),
    "gene_description": ("gene_description", "gene_name"), "reading_comprehension": ("reading_comprehension",),
}
# GUE: upstream folder -> (config name prefix, task, upstream integer label -> answer)
GUE_GROUPS: dict[str, tuple[str, str, dict[int, str]]] = {
    "tf": ("tf_", "tf_binding", {0: "no", 1: "yes"}),
    "mouse": ("mouse_", "tf_binding", {0: "no", 1: "yes"}),
    "prom": ("", "promoter", {0: "no", 1: "yes"}),
    "splice": ("splice_", "splice_site", {0: "acceptor", 1: "donor", 2: "none"}),
    "EMP": ("emp_", "histone_mark", {0: "no", 1: "yes"}),
}
# GUE configs whose upstream train split is missing from the sources mirror and is rebuilt from its genome pieces
# (`dataset_scripts/gue_reconstruction.py`): the language model trains on the rebuild, heads and baselines are fitted
# on GUE's own dev rows (`Benchmark.fit`), which are drawn as test was
RECONSTRUCTED_TRAIN = ("prom_300_all", "prom_300_notata", "splice_reconstructed")
# GenomicBenchmarks: dataset -> (task, upstream class folder -> answer), None for the demo sets no task fits
_POS_NEG = {"positive": "yes", "negative": "no"}
GB_CONFIG_TASKS: dict[str, tuple[str, dict[str, str]] | None] = {
    "human_enhancers_cohn": ("enhancer", _POS_NEG),
    "human_enhancers_ensembl": ("enhancer", _POS_NEG),
    "human_ensembl_regulatory": ("regulatory", {"enhancer": "enhancer", "promoter": "promoter", "ocr": "ocr"}),
    "human_nontata_promoters": ("promoter", _POS_NEG),
    "human_ocr_ensembl": ("open_chromatin", _POS_NEG),
    "drosophila_enhancers_stark": ("enhancer", _POS_NEG),
    "dummy_mouse_enhancers_ensembl": ("enhancer", _POS_NEG),
    "demo_coding_vs_intergenomic_seqs": None,
    "demo_human_or_worm": None,
}


def gue_group(config: str) -> str:
    """The GUE upstream folder a config name comes from."""
    for group, (prefix, _, _) in GUE_GROUPS.items():
        if prefix and config.startswith(prefix):
            return group
    return "prom"


def config_tasks(dataset: str, config: str) -> tuple[str, ...]:
    """The tasks a config's rows hold (empty: no task fits, or an unknown config)."""
    if dataset == "GUE":
        return (GUE_GROUPS[gue_group(config)][1],)
    if dataset == "GenomicBenchmarks":
        entry = GB_CONFIG_TASKS.get(config)
        return (entry[0],) if entry else ()
    return CORPUS_CONFIGS.get(config, ())


@dataclass(frozen=True)
class Benchmark:
    dataset: str
    config: str
    task: str  # a multi-task config (reverse/complement/…) is named by its first task
    splits: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.config}"

    @property
    def tasks(self) -> tuple[str, ...]:
        return config_tasks(self.dataset, self.config)

    @property
    def dev(self) -> str | None:
        return next((s for s in ("dev", "validation") if s in self.splits), None)

    @property
    def fit(self) -> str | None:
        """The split heads and baselines are fitted on: train, or where the mirror has none (GUE's yeast histone marks
        and mouse_1: upstream train was not obtainable) or only a rebuild (`RECONSTRUCTED_TRAIN`) the dev split, so
        that no benchmark is answered blind, heads read rows drawn as test was, and test is never fitted on."""
        own_train = "train" in self.splits and not self.reconstructed_train
        return "train" if own_train else self.dev

    @property
    def reconstructed_train(self) -> bool:
        """Whether the train split is a rebuild of the upstream one (`RECONSTRUCTED_TRAIN`), not its own rows."""
        return self.dataset == "GUE" and self.config in RECONSTRUCTED_TRAIN

    @property
    def selection(self) -> str | None:
        """The split candidates are chosen on: dev, unless heads are fitted on it (`fit`); None: rows held out of the
        fit split instead."""
        return self.dev if self.dev != self.fit else None

    def load(self, split: str, root: Path = DATASETS_DIR, columns: list[str] | None = None):
        import pandas as pd

        if split not in self.splits:
            raise KeyError(f"{self.name} has no {split!r} split (has {self.splits})")
        return pd.read_parquet(root / self.dataset / "data" / self.config / f"{split}.parquet", columns=columns)


def discover(root: Path = DATASETS_DIR, kinds: tuple[str, ...] = ("classify",)) -> list[Benchmark]:
    """Benchmarks present under `root` whose task kind is in `kinds`."""
    out = []
    for dataset in DATASETS:
        for folder in sorted((root / dataset / "data").glob("*")):
            tasks = config_tasks(dataset, folder.name)
            if not tasks or get_task(tasks[0]).kind not in kinds:
                continue
            splits = tuple(s for s in ("train", "dev", "validation", "test") if (folder / f"{s}.parquet").exists())
            out.append(Benchmark(dataset, folder.name, tasks[0], splits))
    if not out:
        raise FileNotFoundError(f"no built datasets under {root}: run `make datasets` first")
    return out
