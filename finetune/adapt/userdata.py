"""A user's labelled file → checked, de-duplicated train / dev / test splits, or a message naming what is wrong.

Reads CSV, TSV, parquet, or FASTA with the label in the header (`>id label=yes [split=test]`), with a `sequence`
and a `label` column (other names: `sequence_column` / `label_column`; e.g. `label_name` of the built GUE parquet
files). Labels may be any strings, or integers: 0/1 become the answers `no`/`yes` unless `labels` names the classes
(`labels[i]` is the answer of class i), and with `labels` given, string labels must be among them (their order is
the class order).

Splits: a `split` column (train / dev / test; `validation`, `valid`, `val` read as dev), or separate dev / test
files; whatever split is missing is cut from train by the seed, stratified by label, keeping identical sequences
together. A sequence in more than one split is kept only in the highest (test > dev > train: the audit's rule,
`dataset_scripts.audit.dedup_across_splits`); repeats inside a split are dropped; both are counted.

Refused, each with a message naming it: a missing column, a non-DNA letter (row and position), one class only,
fewer than `min_per_class` rows of a class, a split without rows. Sequences longer than the model accepts are the
trainer's check (it knows the tokenizer): `windows` cuts them into windows when asked to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dataset_scripts.audit import dedup_across_splits
from tokenizer.tokenization_genomicllm import window_sequence

SPLITS = ("train", "dev", "test")
SPLIT_ALIASES = {"train": "train", "training": "train", "dev": "dev", "validation": "dev", "valid": "dev",
                 "val": "dev", "test": "test", "testing": "test"}
FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")
LETTERS = set("ACGTNU") | set("RYKMSWBDHV")  # nucleotides, RNA U (read as T), IUPAC ambiguity codes
MIN_PER_CLASS = 20
BINARY_NAMES = ("no", "yes")  # answers of labels 0 / 1 when no --labels names them


class UserDataError(ValueError):
    """A specific, friendly message about the user's file."""


@dataclass
class UserData:
    splits: dict[str, pd.DataFrame]  # train/dev/test: columns sequence, label (answer label), row, file
    labels: tuple[str, ...]
    label_map: dict[str, str]  # label as written in the file -> answer label
    summary: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ reading
def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_fasta(path: Path) -> pd.DataFrame:
    """Records with `key=value` words in their header lines (`>id label=yes split=train`) as a table."""
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    rows, current = [], None
    with opener(path, "rt") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                words = line[1:].split()
                current = {"id": words[0] if words else f"record_{len(rows) + 1}", "sequence": ""}
                current.update(w.split("=", 1) for w in words[1:] if "=" in w)
                rows.append(current)
            elif line and not line.startswith(";"):
                if current is None:
                    raise UserDataError(f"{path}: sequence text before the first '>' header line")
                current["sequence"] += line
    if not rows:
        raise UserDataError(f"{path}: no FASTA records ('>' header lines) found")
    return pd.DataFrame(rows)


def read_table(path: Path, sequence_column: str = "sequence", label_column: str = "label",
               split_column: str = "split") -> pd.DataFrame:
    """The file as a table with columns sequence, label (str), [split], row (1-based record number), file."""
    path = Path(path)
    if not path.is_file():
        raise UserDataError(f"{path}: no such file")
    kind = _suffix(path)
    if kind == ".parquet":
        df = pd.read_parquet(path)
    elif kind in FASTA_SUFFIXES:
        df = read_fasta(path)
    elif kind in (".csv", ".tsv", ".tab", ".txt"):
        df = pd.read_csv(path, sep="," if kind == ".csv" else "\t", dtype=str, keep_default_na=False)
    else:
        raise UserDataError(f"{path}: unknown file type {kind or '(none)'}; give CSV (.csv), TSV (.tsv), parquet "
                            f"or FASTA ({', '.join(FASTA_SUFFIXES)}) with `label=` in the headers")
    missing = [c for c in (sequence_column, label_column) if c not in df.columns]
    if missing:
        raise UserDataError(f"{path}: missing column(s) {missing}; need `{sequence_column}` and `{label_column}` "
                            f"(found: {', '.join(map(str, df.columns)) or 'none'}; --sequence-column / "
                            "--label-column name other ones)")
    out = pd.DataFrame({"sequence": df[sequence_column].astype(str), "label": _label_strings(df[label_column]),
                        "row": np.arange(1, len(df) + 1), "file": path.name})
    if split_column in df.columns:
        out["split"] = df[split_column].astype(str).str.strip().str.lower().values
    if not len(out):
        raise UserDataError(f"{path}: no rows")
    return out


def _label_strings(col: pd.Series) -> pd.Series:
    """Labels as text: integers (and floats that are integers, e.g. 1.0) without decimals, strings stripped."""
    if pd.api.types.is_float_dtype(col) and col.dropna().apply(float.is_integer).all():
        col = col.astype("Int64")
    return col.astype(str).str.strip()


# ------------------------------------------------------------------------------------------------ checks
def clean_sequences(df: pd.DataFrame) -> pd.DataFrame:
    """Upper-case, whitespace removed, U read as T; every row with a non-DNA letter named (row and position)."""
    seqs = df["sequence"].str.replace(r"\s+", "", regex=True).str.upper()
    problems = []
    for row, file, seq in zip(df["row"], df["file"], seqs):
        if not seq:
            problems.append(f"{file} row {row}: the sequence is empty")
            continue
        bad = next((i for i, ch in enumerate(seq) if ch not in LETTERS), None)
        if bad is not None:
            problems.append(f"{file} row {row}, column `sequence`, position {bad + 1}: {seq[bad]!r} is not a "
                            "nucleotide letter")
    if problems:
        more = f" (and {len(problems) - 5} more rows)" if len(problems) > 5 else ""
        raise UserDataError("; ".join(problems[:5]) + more + ". Allowed: A C G T N (either case), U (read as T), "
                            "IUPAC codes R Y K M S W B D H V; spaces are ignored.")
    return df.assign(sequence=seqs.str.replace("U", "T").values)


def resolve_labels(values: list[str], labels: list[str] | None = None) -> tuple[tuple[str, ...], dict[str, str]]:
    """(answer labels in class order, {file label: answer label})."""
    present = set(values)
    if present & {"", "nan", "None", "<NA>"}:
        raise UserDataError("some rows have no label (empty cells); label every row or leave it out")
    integers = all(v.isdigit() for v in present)
    present = sorted(present, key=int) if integers else sorted(present)
    if labels:
        labels = [str(x).strip() for x in labels]
        if set(present) <= set(labels):
            mapping = {v: v for v in present}
        elif integers and all(int(v) < len(labels) for v in present):
            mapping = {v: labels[int(v)] for v in present}  # class i is labels[i]
        else:
            raise UserDataError(f"labels {[v for v in present if v not in labels]} of the file are not among "
                                f"--labels {','.join(labels)} (integer labels i name class labels[i])")
        unused = [lab for lab in labels if lab not in mapping.values()]
        if unused:
            raise UserDataError(f"--labels names {unused}, which no row of the file has")
        return tuple(labels), mapping
    if set(present) == {"0", "1"}:
        return BINARY_NAMES, dict(zip(("0", "1"), BINARY_NAMES))
    return tuple(present), {v: v for v in present}


def check_classes(df: pd.DataFrame, labels: tuple[str, ...], min_per_class: int, where: str,
                  written: dict[str, str] | None = None) -> dict[str, int]:
    """Rows per answer label; refused: one class only, or a class under `min_per_class` rows. Labels are named as
    the file writes them (`written`: answer label -> file label)."""
    counts = {lab: int((df["label"] == lab).sum()) for lab in labels}
    name = lambda lab: repr(written.get(lab, lab)) if written else repr(lab)  # noqa: E731
    if sum(c > 0 for c in counts.values()) < 2:
        only = next(lab for lab, c in counts.items() if c)
        raise UserDataError(f"{where}: one class only ({name(only)}, {counts[only]} rows); a classifier needs rows of "
                            "at least two labels")
    few = {lab: c for lab, c in counts.items() if c < min_per_class}
    if few:
        raise UserDataError(f"{where}: fewer than {min_per_class} rows for label(s) "
                            + ", ".join(f"{name(lab)} ({c})" for lab, c in few.items())
                            + f"; each class needs at least {min_per_class} (--min-per-class) to be split into "
                            "train, dev and test and learnt")
    return counts


# ------------------------------------------------------------------------------------------------ splits
def seeded_split(df: pd.DataFrame, fractions: dict[str, float], seed: int) -> pd.Series:
    """A split name per row: unique sequences shuffled within each label, the first `fractions[s]` of each label
    to split s (at least one each when the label has 3 or more sequences), the rest to train."""
    rng = np.random.default_rng(seed)
    first = df.drop_duplicates("sequence")
    assign: dict[str, str] = {}
    for _, group in first.groupby("label", sort=True):
        seqs = group["sequence"].to_numpy()[rng.permutation(len(group))]
        start = 0
        for name, frac in fractions.items():
            n = max(1, round(len(seqs) * frac)) if len(seqs) >= 3 else 0
            assign.update((s, name) for s in seqs[start : start + n])
            start += n
        assign.update((s, "train") for s in seqs[start:])
    return df["sequence"].map(assign)


def make_splits(df: pd.DataFrame, seed: int, dev_fraction: float, test_fraction: float) -> tuple[dict, dict]:
    """(splits, how each was made): the user's where given, the rest cut from train by the seed."""
    given = set(df["split"]) if "split" in df.columns else set()
    made = {}
    if given:
        unknown = sorted(given - set(SPLIT_ALIASES))
        if unknown:
            raise UserDataError(f"column `split` has values {unknown}; use train, dev (or validation) and test")
        df = df.assign(split=df["split"].map(SPLIT_ALIASES))
        given = set(df["split"])
        if "train" not in given:
            raise UserDataError("column `split` names no train rows")
        made = {s: "given" for s in given}
    else:
        df = df.assign(split="train")
    missing = {"dev": dev_fraction, "test": test_fraction}
    cut = {s: f for s, f in missing.items() if s not in given}
    if cut:
        train = df[df["split"] == "train"]
        parts = seeded_split(train, cut, seed)  # fractions of the train rows (of all rows when none are given)
        df.loc[train.index, "split"] = parts.values
        made.update({s: f"cut from train by seed {seed}" for s in cut})
        made.setdefault("train", "given" if given else f"the rest, seed {seed}")
    return {s: df[df["split"] == s].drop(columns="split").reset_index(drop=True) for s in SPLITS}, made


def dedup(splits: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict]:
    """Drop sequences already in a higher split, then repeats inside each split; counts of both, and how many
    repeated sequences carried another label (label noise)."""
    conflicting = int(pd.concat(splits.values()).groupby("sequence")["label"].nunique().gt(1).sum())
    splits, across = dedup_across_splits(splits, key="sequence")
    within = {}
    for name, df in splits.items():
        keep = ~df["sequence"].duplicated(keep="first")
        within[name] = int((~keep).sum())
        splits[name] = df[keep].reset_index(drop=True)
    return splits, {"duplicates_across_splits_removed": across, "duplicates_within_split_removed": within,
                    "sequences_with_conflicting_labels": conflicting}


def windows(df: pd.DataFrame, size: int, align: int = 1) -> pd.DataFrame:
    """Rows longer than `size` bases cut into consecutive windows (no overlap; starts at multiples of `align`),
    each keeping its row's label and number; `window` is the window's 0-based start (0 for uncut rows)."""
    out = []
    for rec in df.to_dict("records"):
        pieces = window_sequence(rec["sequence"], size, 0, align) if len(rec["sequence"]) > size else [(0, 0, None)]
        for start, _, seq in pieces:
            out.append({**rec, "sequence": seq or rec["sequence"], "window": start})
    return pd.DataFrame(out, columns=[*df.columns, "window"])


# ------------------------------------------------------------------------------------------------ all of it
def load_user_data(data: Path, *, dev: Path | None = None, test: Path | None = None, labels: list[str] | None = None,
                   sequence_column: str = "sequence", label_column: str = "label", split_column: str = "split",
                   seed: int = 0, dev_fraction: float = 0.1, test_fraction: float = 0.1,
                   min_per_class: int = MIN_PER_CLASS) -> UserData:
    """Read, check, label, split and de-duplicate a user's file (and optional separate dev / test files)."""
    if not (0 < dev_fraction < 0.5 and 0 < test_fraction < 0.5):
        raise UserDataError("dev and test fractions must each be between 0 and 0.5")
    read = lambda p: read_table(p, sequence_column, label_column, split_column)  # noqa: E731
    parts = [read(data)]
    for name, extra in (("dev", dev), ("test", test)):
        if extra is not None:
            parts.append(read(extra).assign(split=name))
    if len(parts) > 1:
        parts[0] = parts[0].assign(split=parts[0]["split"] if "split" in parts[0].columns else "train")
    df = clean_sequences(pd.concat(parts, ignore_index=True))
    answer_labels, mapping = resolve_labels(df["label"].tolist(), labels)
    df["label"] = df["label"].map(mapping)
    counts = check_classes(df, answer_labels, min_per_class, "the file" if len(parts) == 1 else "the files",
                           {v: k for k, v in mapping.items()})
    splits, made = make_splits(df, seed, dev_fraction, test_fraction)
    splits, dups = dedup(splits)
    for name, part in splits.items():
        if not len(part):
            raise UserDataError(f"the {name} split has no rows (after removing duplicates); give more rows or "
                                "other split fractions")
    present = set(splits["train"]["label"])
    if len(present) < 2:
        raise UserDataError(f"the train split holds one class only ({sorted(present)}); check the `split` column")
    lengths = pd.concat(splits.values())["sequence"].str.len()
    summary = {
        "files": [Path(p).name for p in (data, dev, test) if p is not None], "rows_read": int(len(df)),
        "label_column": label_column, "label_map": mapping, "labels": list(answer_labels), "rows_per_label": counts,
        "splits": {s: {"rows": int(len(p)), "how": made.get(s, "given"),
                       "per_label": {lab: int((p["label"] == lab).sum()) for lab in answer_labels}}
                   for s, p in splits.items()},
        **dups, "seed": seed,
        "sequence_length": {"min": int(lengths.min()), "median": float(lengths.median()), "max": int(lengths.max())},
    }
    return UserData(splits, answer_labels, mapping, summary)


def read_labelled(path: Path, label_map: dict[str, str], labels: tuple[str, ...], sequence_column: str = "sequence",
                  label_column: str = "label") -> pd.DataFrame:
    """A file to score with an existing task: cleaned, its labels mapped as the task's training file's were."""
    df = clean_sequences(read_table(path, sequence_column, label_column))
    if not set(df["label"]) <= set(label_map) | set(labels):
        bad = sorted(set(df["label"]) - set(label_map) - set(labels))
        raise UserDataError(f"{path}: labels {bad} are not labels of this task ({', '.join(labels)})")
    return df.assign(label=df["label"].map(lambda v: label_map.get(v, v)))


__all__ = ["MIN_PER_CLASS", "SPLITS", "UserData", "UserDataError", "check_classes", "clean_sequences",
           "load_user_data", "make_splits", "read_labelled", "read_table", "resolve_labels", "windows"]
