"""GUE (DNABERT-2's Genome Understanding Evaluation) as a Hub dataset folder, one config per task present.

Upstream layout `<group>/<task>/{train,dev,test}.csv` with header `sequence,label`. Config names: `tf_0`,
`prom_core_all`, `splice_reconstructed`, `emp_H3`, `mouse_0`, … Splits are kept as present (`dev` stays `dev`);
a config missing its train split says so in the card. Train rows whose sequence also occurs in dev/test (and dev rows
also in test) are removed, so no sequence crosses splits; the counts are in the card.

Where upstream's train is missing, `build` adds a reconstructed one (gue_reconstruction.py; `source` says
`GUE` or `reconstructed`) or marks the config evaluation-only (yeast EMP, mouse_1: no train split). Every config passes
the class-coverage gate (hub_folder.check_coverage) or the build fails naming it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from tasks.benchmarks import GUE_GROUPS, RECONSTRUCTED_TRAIN, gue_group
from tasks.grammar import render_example
from tasks.registry import get_task

from . import gue_reconstruction as recon
from .audit import dedup_across_splits
from .hub_folder import ConfigReport, check_coverage, reset_folder, write_card, write_config
from .sources import source_files, source_path

ROOT = "benchmarks/GUE/"
SPLITS = ("train", "dev", "test")
# group -> (config prefix, task, answer per integer label). Splice: 0 = acceptor (AG just before the centre),
# 1 = donor (GT at the centre), 2 = neither, as read off the sequences' consensus at positions 198-201.
VALID_BASES = set("ACGTN")


def discover() -> dict[str, dict[str, str]]:
    """config name -> {split: relative source path}, from the mirror's checksum listing."""
    found: dict[str, dict[str, str]] = {}
    for rel in source_files(ROOT):
        parts = rel[len(ROOT):].split("/")
        if len(parts) != 3 or not parts[2].endswith(".csv"):
            continue
        group, task, split = parts[0], parts[1], parts[2][:-4]
        if group not in GUE_GROUPS or split not in SPLITS:
            raise ValueError(f"unexpected GUE file {rel}: known groups {sorted(GUE_GROUPS)}, splits {SPLITS}")
        found.setdefault(GUE_GROUPS[group][0] + task, {})[split] = rel
    return dict(sorted(found.items()))



def read_split(rel: str, names: dict[int, str], task: str, limit: int | None = None) -> pd.DataFrame:
    df = pd.read_csv(source_path(rel), nrows=limit, dtype={"sequence": str, "label": "int64"})
    if list(df.columns) != ["sequence", "label"]:
        raise ValueError(f"{rel}: expected columns sequence,label, got {list(df.columns)}")
    if df.empty:
        raise ValueError(f"{rel}: split is empty")
    unknown = set(df["label"]) - set(names)
    if unknown:
        raise ValueError(f"{rel}: labels {sorted(unknown)} not in {names}")
    df["sequence"] = df["sequence"].str.upper()
    bad = df["sequence"].map(lambda s: not set(s) <= VALID_BASES)
    if bad.any():
        raise ValueError(f"{rel}: {int(bad.sum())} sequences contain letters other than A, C, G, T, N")
    df["label_name"] = df["label"].map(names)
    return render(df, task, "GUE")


def render(df: pd.DataFrame, task: str, source: str) -> pd.DataFrame:
    pa = [render_example(task, s, a) for s, a in zip(df["sequence"], df["label_name"])]
    return df.assign(prompt=[p for p, _ in pa], answer=[a for _, a in pa], source=source)


def build_config(config: str, files: dict[str, str], limit: int | None = None) -> tuple[ConfigReport, dict[str, pd.DataFrame]]:
    _, task, names = GUE_GROUPS[gue_group(config)]
    splits = {s: read_split(files[s], names, task, limit) for s in SPLITS if s in files}
    splits, removed = dedup_across_splits(splits)
    report = ConfigReport(config, duplicates_removed=removed)
    report.notes.append(f"task `{task}`; labels " + ", ".join(f"{k} = {v}" for k, v in names.items()))
    if "train" not in files:
        report.notes.append("no train split: upstream train was not obtainable in the sources mirror (dev/test only)")
    return report, splits


def complete_train(config: str, report: ConfigReport, splits: dict[str, pd.DataFrame],
                   seed: int = 0) -> dict[str, pd.DataFrame]:
    """Give a config without upstream train a reconstructed one, or mark it evaluation-only (with the reason)."""
    group = gue_group(config)
    task = GUE_GROUPS[group][1]
    report.labels = get_task(task).labels
    if "train" in splits:
        return splits
    if config not in RECONSTRUCTED_TRAIN:
        report.evaluation_only = True
        report.notes.append(f"evaluation-only (no train split): {recon.NOT_RECONSTRUCTABLE[group]}, so no train "
                            "split can be rebuilt; a model is fitted on dev, if at all")
        return splits
    held_out = set().union(*(set(df.sequence) for df in splits.values()))
    train, dropped = recon.reconstruct_train(config, held_out, seed)
    pair = "" if config == "splice_reconstructed" else " (a promoter together with its negative)"
    report.notes.append(f"{recon.NOTES[config]}; {len(train):,} rows, {dropped:,} dropped for sharing a sequence "
                        f"(exact string) with GUE dev/test{pair}")
    rebuilt, removed = dedup_across_splits({"train": render(train, task, "reconstructed"),
                                            **splits})
    report.duplicates_removed = {s: report.duplicates_removed.get(s, 0) + n for s, n in removed.items()}
    return rebuilt


def build(out: Path, limit: int | None = None, progress: bool = True) -> list[ConfigReport]:
    reset_folder(out)
    reports = []
    for config, files in tqdm(discover().items(), desc="GUE configs", disable=not progress):
        report, splits = build_config(config, files, limit)
        splits = complete_train(config, report, splits)
        write_config(out, report, splits)
        reports.append(report)
    check_coverage(reports)
    missing = "covid (virus/covid) is absent from the sources mirror and not built."
    write_card(out, reports, META, "GUE (Genome Understanding Evaluation) for GenomicLLM", CARD_BODY + f"\n\n{missing}")
    return reports


META = {"license": "apache-2.0", "pretty_name": "GUE for GenomicLLM", "task_categories": ["text-classification"],
        "tags": ["biology", "genomics", "dna"]}
CARD_BODY = """
The Genome Understanding Evaluation benchmark of DNABERT-2 (Zhou et al., 2023), repackaged as parquet with the
GenomicLLM prompt rendering of every row (`prompt`, `answer`).

**Provenance**: GitHub `wds-seu/DeepGene` `data/GUE/` (a copy of the GUE release), Apache-2.0, read from the sources
mirror (`benchmarks/GUE/`, each file checked against `SHA256SUMS`). Sequences upper-cased; no other change.

**Columns**: `sequence`, `label` (upstream integer), `label_name` (its meaning), `prompt`, `answer`, `source`
(`GUE`, or `reconstructed` for rebuilt train rows).

**Reconstructed train splits** (`prom_300_all`, `prom_300_notata`, `splice_reconstructed`: upstream train was not
obtainable): rebuilt from the genome pieces of the sources mirror (GRCh37 chr20, chrX 1-70M, chr22:20-21M; GRCh38
chr2:1-2.33M) and their GENCODE-derived / SpliceAI annotation, the way GUE built the task. Promoters: -249..+50
around the TSS of each gene's canonical transcript, on its strand (GUE took TSSs from EPDnew); non-TATA means no
TATAWAW box starting at -40..-15; negatives as GUE's (DeePromoter, Oubounyt et al. 2019): each promoter cut into 20
parts, 8 kept in place and 12 replaced by random bases (GUE's dev/test negatives share exactly 8 of 20 parts with a
positive); for TATA promoters (`prom_300_all` only) non-promoter gene fragments after the first exon, >= 1 kb from any
annotated TSS, holding a TATA box (GUE's TATA negatives share no part with a promoter). Splice sites: 400 nt windows
of canonical transcripts with the junction between index 199 and 200 (donor GT at 200-201, acceptor AG at 198-199),
"none" decoys >= 10 nt from every annotated exon boundary with the same central dinucleotide. Only loci of the
GenomicLLM_GRCh38 train blocks are used, and rows equal (exact string) to a GUE dev/test sequence are dropped, so no
sequence is shared with dev/test. These train rows are a reconstruction, not GUE's train: scores of models trained
on them are not GUE's published protocol. The yeast EMP sets and `mouse_1` cannot be rebuilt (no yeast or mouse
genome in the mirror): they are evaluation-only, dev and test as published.

**Build**: `make dataset-gue` (or `python -m dataset_scripts build gue --out build/datasets`).
"""
