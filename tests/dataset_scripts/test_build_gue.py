import datasets
import pandas as pd
import pytest

from dataset_scripts import build_gue
from dataset_scripts.hub_folder import write_card, write_config


@pytest.fixture(scope="module")
def gue_slice(tmp_path_factory):
    """Three real GUE configs (one without a train split), 300 rows per split."""
    out = tmp_path_factory.mktemp("gue")
    found = build_gue.discover()
    reports = []
    for name in ("tf_0", "splice_reconstructed", "prom_core_tata"):
        report, splits = build_gue.build_config(name, found[name], limit=300)
        write_config(out, report, splits)
        reports.append(report)
    write_card(out, reports, build_gue.META, "GUE test", build_gue.CARD_BODY)
    return out, reports


def test_discovers_every_task_in_the_mirror():
    found = build_gue.discover()
    assert {"tf_0", "tf_4", "prom_core_all", "prom_300_all", "splice_reconstructed", "emp_H3", "mouse_0"} <= set(found)
    assert "train" not in found["splice_reconstructed"] and set(found["tf_0"]) == {"train", "dev", "test"}


def test_loads_offline_with_label_names(gue_slice):
    out, _ = gue_slice
    ds = datasets.load_dataset(str(out), "splice_reconstructed")
    assert set(ds) == {"dev", "test"}
    row = ds["test"][0]
    assert {"sequence", "label", "label_name", "prompt", "answer"} <= set(row)
    assert row["prompt"].endswith("splice site =") and row["answer"] == row["label_name"]


def test_splice_label_meanings_match_the_sequences(gue_slice):
    out, _ = gue_slice
    df = pd.read_parquet(out / "data" / "splice_reconstructed" / "test.parquet")
    donors = df[df.label_name == "donor"].sequence.str[200:202]
    acceptors = df[df.label_name == "acceptor"].sequence.str[198:200]
    assert (donors == "GT").mean() > 0.9 and (acceptors == "AG").mean() > 0.9


def test_no_sequence_crosses_splits_and_card_says_missing_train(gue_slice):
    out, reports = gue_slice
    assert all(r.cross_split_duplicates == 0 for r in reports)
    card = (out / "README.md").read_text()
    assert "config_name: tf_0" in card and "no train split" in card


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="labels"):
        names = {0: "no"}  # label 1 unknown
        build_gue.read_split("benchmarks/GUE/tf/0/dev.csv", names, "tf_binding", limit=50)


def test_build_is_byte_identical(tmp_path):
    import hashlib

    files = build_gue.discover()["prom_core_tata"]
    digests = []
    for run in ("a", "b"):
        report, splits = build_gue.build_config("prom_core_tata", files, limit=200)
        write_config(tmp_path / run, report, splits)
        digests.append(sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / run).rglob("*.parquet")))
    assert digests[0] == digests[1] and len(digests[0]) == 3
