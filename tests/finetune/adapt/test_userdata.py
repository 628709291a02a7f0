"""finetune/adapt/userdata.py: a labelled file in any of its formats becomes train/dev/test splits with no sequence
in two splits; bad input gets a message naming the problem (column, row and position, class, count)."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from finetune.adapt.userdata import UserDataError, load_user_data, read_table, resolve_labels, windows


def rows(n_per_class: int = 30, labels=("0", "1"), seed: int = 0, length: int = 30) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [("".join(rng.choice("ACGT") for _ in range(length)), lab) for lab in labels for _ in range(n_per_class)]


def csv(path, data, header="sequence,label", extra=None):
    lines = [header] + [f"{s},{y}" + (f",{extra[i]}" if extra else "") for i, (s, y) in enumerate(data)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_file_is_split_by_seed_stratified_and_reproducibly(tmp_path):
    f = csv(tmp_path / "a.csv", rows(50))
    a, b = load_user_data(f, seed=3), load_user_data(f, seed=3)
    assert {k: len(v) for k, v in a.splits.items()} == {"train": 80, "dev": 10, "test": 10}
    for name in ("train", "dev", "test"):
        assert a.splits[name]["sequence"].tolist() == b.splits[name]["sequence"].tolist()
        assert a.splits[name]["label"].value_counts().nunique() == 1  # the same count of each class
    assert a.labels == ("no", "yes") and a.label_map == {"0": "no", "1": "yes"}
    other = load_user_data(f, seed=4)
    assert other.splits["test"]["sequence"].tolist() != a.splits["test"]["sequence"].tolist()


def test_duplicates_across_given_splits_are_removed_and_counted(tmp_path):
    data = rows(30)
    split = ["train"] * 40 + ["validation"] * 10 + ["test"] * 10
    data[0] = data[55]  # a test sequence also in train (same label)
    data[1] = data[45]  # a dev sequence also in train
    data[2] = data[3]  # a repeat inside train
    u = load_user_data(csv(tmp_path / "s.csv", data, "sequence,label,split", split))
    s = u.summary
    assert s["duplicates_across_splits_removed"] == {"test": 0, "dev": 0, "train": 2}
    assert s["duplicates_within_split_removed"]["train"] == 1
    assert {k: v["how"] for k, v in s["splits"].items()} == {"train": "given", "dev": "given", "test": "given"}
    seen = [set(u.splits[n]["sequence"]) for n in ("train", "dev", "test")]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])


def test_identical_sequences_stay_in_one_split_when_cut_by_seed(tmp_path):
    data = rows(30)
    data += data[:20]  # every one of these twice
    u = load_user_data(csv(tmp_path / "d.csv", data))
    assert sum(u.summary["duplicates_across_splits_removed"].values()) == 0
    assert sum(u.summary["duplicates_within_split_removed"].values()) == 20


def test_separate_dev_and_test_files_and_the_gue_label_name_column(tmp_path):
    df = pd.DataFrame(rows(30), columns=["sequence", "label"])
    df["label_name"] = df["label"].map({"0": "no", "1": "yes"})
    df.iloc[:40].to_parquet(tmp_path / "train.parquet")
    df.iloc[40:50].to_parquet(tmp_path / "dev.parquet")
    df.iloc[50:].to_parquet(tmp_path / "test.parquet")
    u = load_user_data(tmp_path / "train.parquet", dev=tmp_path / "dev.parquet", test=tmp_path / "test.parquet",
                       label_column="label_name")
    assert {k: len(v) for k, v in u.splits.items()} == {"train": 40, "dev": 10, "test": 10}
    assert u.labels == ("no", "yes") and u.summary["label_column"] == "label_name"


def test_fasta_and_tsv_with_labels(tmp_path):
    data = rows(25, labels=("enhancer", "other"))
    fa = tmp_path / "x.fa"
    fa.write_text("".join(f">r{i} label={y}\n{s[:15]}\n{s[15:].lower()}\n" for i, (s, y) in enumerate(data)))
    u = load_user_data(fa)
    assert u.labels == ("enhancer", "other") and u.summary["rows_read"] == 50
    assert set(pd.concat(u.splits.values())["sequence"]) == {s for s, _ in data}
    tsv = tmp_path / "x.tsv"
    tsv.write_text("sequence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in data))
    assert read_table(tsv)["label"].tolist() == [y for _, y in data]


def test_labels_option_names_integer_classes_and_orders_string_ones():
    assert resolve_labels(["0", "1", "2"], ["none", "weak", "strong"]) == (
        ("none", "weak", "strong"), {"0": "none", "1": "weak", "2": "strong"})
    assert resolve_labels(["b", "a"], ["b", "a"]) == (("b", "a"), {"b": "b", "a": "a"})
    assert resolve_labels(["x", "y"]) == (("x", "y"), {"x": "x", "y": "y"})
    with pytest.raises(UserDataError, match=r"labels \['c'\] of the file are not among --labels a,b"):
        resolve_labels(["a", "c"], ["a", "b"])
    with pytest.raises(UserDataError, match=r"--labels names \['c'\], which no row"):
        resolve_labels(["a", "b"], ["a", "b", "c"])


# --- bad input: each message names the problem ---------------------------------------------------------------

def test_missing_column_names_it_and_the_ones_found(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("seq,class\nACGT,1\n")
    with pytest.raises(UserDataError, match=r"missing column\(s\) \['sequence', 'label'\].*found: seq, class"):
        load_user_data(f)


def test_a_non_dna_letter_is_named_with_its_row_and_position(tmp_path):
    data = rows(30)
    data[6] = ("ACGTAXCGT", data[6][1])
    with pytest.raises(UserDataError, match=r"bad.csv row 7, column `sequence`, position 6: 'X' is not a nucleotide"):
        load_user_data(csv(tmp_path / "bad.csv", data))


def test_one_class_only_is_refused(tmp_path):
    with pytest.raises(UserDataError, match=r"one class only \('yes', 40 rows\)"):
        load_user_data(csv(tmp_path / "one.csv", rows(40, labels=("yes",))))


def test_too_few_rows_of_a_class_are_refused_with_the_counts(tmp_path):
    data = rows(30, labels=("a",)) + rows(7, labels=("b",), seed=1)
    with pytest.raises(UserDataError, match=r"fewer than 20 rows for label\(s\) 'b' \(7\)"):
        load_user_data(csv(tmp_path / "few.csv", data))
    assert len(load_user_data(csv(tmp_path / "few.csv", data), min_per_class=5).splits["test"]) >= 2


def test_unknown_split_values_and_empty_labels_are_refused(tmp_path):
    data = rows(30)
    with pytest.raises(UserDataError, match=r"split` has values \['holdout'\]"):
        load_user_data(csv(tmp_path / "s.csv", data, "sequence,label,split", ["train"] * 59 + ["holdout"]))
    data[3] = (data[3][0], "")
    with pytest.raises(UserDataError, match="no label"):
        load_user_data(csv(tmp_path / "e.csv", data))


def test_long_rows_are_cut_into_labelled_windows():
    df = pd.DataFrame({"sequence": ["A" * 25, "C" * 7], "label": ["yes", "no"], "row": [1, 2], "file": "f"})
    out = windows(df, 10, align=5)
    assert out["sequence"].str.len().tolist() == [10, 10, 5, 7]
    assert out["label"].tolist() == ["yes", "yes", "yes", "no"] and out["window"].tolist() == [0, 10, 20, 0]
    assert out["row"].tolist() == [1, 1, 1, 2]
