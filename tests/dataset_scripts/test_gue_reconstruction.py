"""GUE train splits rebuilt where upstream's is missing: no sequence shared with GUE dev/test, coverage passes."""

import pandas as pd
import pytest

from dataset_scripts import build_gue
from dataset_scripts import gue_reconstruction as recon
from dataset_scripts.hub_folder import check_coverage, write_config


@pytest.fixture(scope="module")
def notata():
    found = build_gue.discover()
    report, splits = build_gue.build_config("prom_300_notata", found["prom_300_notata"])
    return report, build_gue.complete_train("prom_300_notata", report, splits), splits


def test_reconstructed_train_shares_no_sequence_with_gue_dev_test(notata, tmp_path):
    report, splits, upstream = notata
    held_out = set(upstream["dev"].sequence) | set(upstream["test"].sequence)
    train = splits["train"]
    assert not set(train.sequence) & held_out
    assert set(train.source) == {"reconstructed"} and set(splits["dev"].source) == {"GUE"}
    assert (train.sequence.str.len() == 300).all() and set(train.label_name) == {"yes", "no"}
    assert "train is a reconstruction" in report.notes[-1]
    write_config(tmp_path, report, splits)
    check_coverage([report])
    assert min(report.coverage["train"].values()) > 0.4 * sum(report.coverage["train"].values())


def test_a_promoter_in_dev_test_is_dropped_with_its_negative():
    rows = recon.promoter_rows("prom_300_notata")
    first = rows.iloc[0]
    partner = rows[(rows.pair == first.pair) & (rows.label_name == "no")].sequence.iloc[0]
    train, dropped = recon.reconstruct_train("prom_300_notata", {first.sequence})
    assert dropped == 2 and first.sequence not in set(train.sequence) and partner not in set(train.sequence)
    # GUE's negative rule: the negative keeps 8 of 20 parts of its promoter in place
    same = sum(first.sequence[i * 15 : (i + 1) * 15] == partner[i * 15 : (i + 1) * 15] for i in range(20))
    assert 8 <= same <= 9


def test_yeast_and_mouse_sets_stay_evaluation_only():
    found = build_gue.discover()
    for config in ("emp_H3", "mouse_1"):
        report, splits = build_gue.build_config(config, found[config], limit=50)
        splits = build_gue.complete_train(config, report, splits)
        assert "train" not in splits and report.evaluation_only and "evaluation-only (no train split)" in report.notes[-1]
        check_coverage([report])  # exempt
    report, splits = build_gue.build_config("tf_0", found["tf_0"], limit=50)
    assert set(build_gue.complete_train("tf_0", report, splits)) == {"train", "dev", "test"} and not report.evaluation_only
