"""Writes one Hugging Face dataset repository folder: `data/<config>/<split>.parquet` + `README.md` dataset card.

The card's YAML `configs:` block lets `datasets.load_dataset(folder, config)` read the folder offline. Parquet is
written with fixed options and no pandas index, so the same rows give byte-identical files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from .audit import (
    FieldLeak,
    check_class_coverage,
    coverage_problem,
    cross_split_duplicates,
    label_balance,
    label_counts,
)


@dataclass
class ConfigReport:
    """What the card says about one config."""

    name: str
    rows: dict[str, int] = field(default_factory=dict)
    balance: dict[str, dict[str, int]] = field(default_factory=dict)
    unobtainable: dict[str, int] = field(default_factory=dict)  # reason -> rows not built
    duplicates_removed: dict[str, int] = field(default_factory=dict)
    cross_split_duplicates: int = 0
    leakage: list[FieldLeak] = field(default_factory=list)
    prompt_fields: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    labels: tuple[str, ...] = ()  # a classification config's answer labels (from tasks): its coverage is audited
    evaluation_only: bool = False  # no train split can be built: exempt from the coverage rule, dev and test only
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> count of every label


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd", compression_level=9, row_group_size=50_000, write_statistics=True)


def write_config(out: Path, report: ConfigReport, splits: dict[str, pd.DataFrame], label: str | None = "label") -> None:
    """Write every split of a config and fill the report's row counts, balance and duplicate check."""
    for split, df in splits.items():
        if not len(df):
            raise ValueError(f"config {report.name}: split {split!r} is empty")
        write_parquet(df, out / "data" / report.name / f"{split}.parquet")
        report.rows[split] = len(df)
        if label and label in df:
            report.balance[split] = label_balance(df, label)
        if report.labels and "answer" in df:
            report.coverage[split] = label_counts(df["answer"], report.labels)
    if all("sequence" in df for df in splits.values()):
        report.cross_split_duplicates = cross_split_duplicates(splits)


def check_coverage(reports: list[ConfigReport]) -> None:
    """The build's class-coverage gate: fails (naming the config) unless every classification train split holds
    every label at >= 10%, or the config is marked evaluation-only."""
    for r in reports:
        if r.labels:
            check_class_coverage(r.name, r.coverage, r.labels, r.evaluation_only)


def reset_folder(out: Path) -> None:
    if (out / "data").exists():
        shutil.rmtree(out / "data")
    out.mkdir(parents=True, exist_ok=True)


SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                   (10**10, "1B<n<10B"), (10**11, "10B<n<100B"), (10**12, "100B<n<1T"))


def size_category(rows: int) -> str:
    """The Hub's `size_categories` value for a dataset of `rows` examples (all configs and splits)."""
    return next((name for limit, name in SIZE_CATEGORIES if rows < limit), "n>1T")


def _yaml_header(reports: list[ConfigReport], meta: dict) -> str:
    configs = [
        {"config_name": r.name,
         "data_files": [{"split": s, "path": f"data/{r.name}/{s}.parquet"} for s in r.rows]}
        for r in reports
    ]
    header = dict(meta)
    header.setdefault("size_categories", [size_category(sum(n for r in reports for n in r.rows.values()))])
    header["configs"] = configs
    return "---\n" + yaml.safe_dump(header, sort_keys=False, width=120) + "---\n"


def _fmt_counts(d: dict) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in d.items()) or "–"


def report_tables(reports: list[ConfigReport]) -> str:
    lines = ["## Configs, rows and label balance", "",
             "| config | rows per split | label balance per split | rows not obtainable (reason: n) | duplicates removed |",
             "|---|---|---|---|---|"]
    for r in reports:
        bal = "; ".join(f"{s}: {_fmt_counts(b)}" for s, b in r.balance.items()) or "–"
        lines.append(f"| {r.name} | {_fmt_counts(r.rows)} | {bal} | {_fmt_counts(r.unobtainable)} | "
                     f"{_fmt_counts({k: v for k, v in r.duplicates_removed.items() if v})} |")
    covered = [r for r in reports if r.labels]
    if covered:
        lines += ["", "## Class coverage", "",
                  "Count of every answer label per split. The build fails when a classification train split misses a "
                  "label or holds under 10% of one, unless the config is evaluation-only (no train split).",
                  "", "| config | split | label counts | verdict |", "|---|---|---|---|"]
        for r in covered:
            for s, counts in r.coverage.items():
                verdict = ("evaluation-only" if r.evaluation_only else
                           (coverage_problem(counts, r.labels) or "ok") if s == "train" else "–")
                lines.append(f"| {r.name} | {s} | {_fmt_counts(counts)} | {verdict} |")
            if r.evaluation_only and "train" not in r.coverage:
                lines.append(f"| {r.name} | train | – | evaluation-only: no train split |")
    lines += ["", "## Leakage audit", "",
              "Cross-split duplicates: distinct sequences present in more than one split, after de-duplication "
              "(a sequence seen in several splits is kept only in the highest of test > validation/dev > train).",
              "Field leakage: majority label per field value learnt on train, scored on the held-out split, versus "
              "the base rate (always the train majority); a field beating the base rate by more than 5 points is "
              "left out of prompts.", "",
              "| config | cross-split duplicates | field | in prompt | base rate | field-alone accuracy | gain | verdict |",
              "|---|---|---|---|---|---|---|---|"]
    for r in reports:
        if not r.leakage:
            lines.append(f"| {r.name} | {r.cross_split_duplicates} | – | – | – | – | – | no metadata fields audited |")
        for leak in r.leakage:
            verdict = "LEAK: left out of prompts" if leak.leaks else "ok"
            lines.append(f"| {r.name} | {r.cross_split_duplicates} | {leak.field} | {'yes' if leak.in_prompt else 'no'} | "
                         f"{leak.base_rate:.3f} | {leak.field_accuracy:.3f} | {leak.gain:+.3f} | {verdict} |")
    notes = [(r.name, n) for r in reports for n in r.notes]
    if notes:
        lines += ["", "## Notes per config", ""] + [f"- **{name}**: {n}" for name, n in notes]
    return "\n".join(lines) + "\n"


def write_card(out: Path, reports: list[ConfigReport], meta: dict, title: str, body: str) -> Path:
    text = _yaml_header(reports, meta) + f"\n# {title}\n\n{body.strip()}\n\n" + report_tables(reports)
    path = out / "README.md"
    path.write_text(text)
    return path
