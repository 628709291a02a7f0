import pandas as pd

from dataset_scripts.audit import LEAK_THRESHOLD, audit_fields, cross_split_duplicates, dedup_across_splits


def splits_with(strand_leaks: bool):
    """OCR-like data where `strand` is '+' for every positive (the original GenomicLLM's defect) or random."""
    rows = []
    for i in range(400):
        label = "yes" if i % 2 else "no"
        strand = ("+" if label == "yes" else "-") if strand_leaks else "+-"[(i // 2) % 2]
        rows.append({"sequence": f"S{i}", "label": label, "strand": strand, "chrom": str(i % 3)})
    df = pd.DataFrame(rows)
    return {"train": df.iloc[:300].reset_index(drop=True), "test": df.iloc[300:].reset_index(drop=True)}


def test_a_field_that_gives_the_label_is_flagged():
    leaks = {x.field: x for x in audit_fields(splits_with(True), ["strand", "chrom"], ["strand", "chrom"])}
    assert leaks["strand"].leaks and leaks["strand"].field_accuracy == 1.0
    assert not leaks["chrom"].leaks and abs(leaks["chrom"].gain) <= LEAK_THRESHOLD


def test_an_uninformative_field_passes():
    (leak,) = audit_fields(splits_with(False), ["strand"], ["strand"])
    assert not leak.leaks


def test_unique_ids_do_not_look_like_leaks():
    # learnt on train, scored on held-out: unseen values fall back to the majority, so an id column cannot "predict"
    (leak,) = audit_fields(splits_with(False), ["sequence"], [])
    assert leak.gain == 0 and not leak.in_prompt


def test_dedup_keeps_test_and_removes_from_train():
    splits = {"train": pd.DataFrame({"sequence": ["A", "B", "C"]}), "test": pd.DataFrame({"sequence": ["C", "D"]})}
    assert cross_split_duplicates(splits) == 1
    new, removed = dedup_across_splits(splits)
    assert removed == {"test": 0, "train": 1} and list(new["test"].sequence) == ["C", "D"]
    assert cross_split_duplicates(new) == 0


# --- class coverage: the build gate

def tiny_config(train_answers: list[str], evaluation_only: bool = False, tmp_path=None):
    """A two-split classification config of synthetic rows, written like a builder writes one."""
    from dataset_scripts.hub_folder import ConfigReport, write_config

    df = lambda answers: pd.DataFrame({"sequence": [f"ACGT{i}{a}" for i, a in enumerate(answers)],  # noqa: E731
                                       "label": answers, "answer": answers})
    report = ConfigReport("tiny_promoters", labels=("yes", "no"), evaluation_only=evaluation_only)
    write_config(tmp_path, report, {"train": df(train_answers), "test": df(["yes", "no"] * 5)})
    return report


def test_coverage_gate_fails_a_build_naming_the_config(tmp_path):
    import pytest

    from dataset_scripts.audit import ClassCoverageError
    from dataset_scripts.hub_folder import check_coverage

    one_class = tiny_config(["yes"] * 20, tmp_path=tmp_path / "a")
    assert one_class.coverage["train"] == {"yes": 20, "no": 0}  # the missing label is counted, as 0
    with pytest.raises(ClassCoverageError, match=r"config tiny_promoters: train split misses label\(s\) \['no'\]"):
        check_coverage([one_class])
    thin = tiny_config(["yes"] * 19 + ["no"], tmp_path=tmp_path / "b")  # 5% < 10%
    with pytest.raises(ClassCoverageError, match=r"tiny_promoters: train split holds under 10% of \['no'\]"):
        check_coverage([thin])
    check_coverage([tiny_config(["yes"] * 9 + ["no"], tmp_path=tmp_path / "c")])  # exactly 10% passes
    check_coverage([tiny_config(["yes"] * 20, evaluation_only=True, tmp_path=tmp_path / "d")])


def test_coverage_gate_wants_a_train_split_unless_evaluation_only():
    import pytest

    from dataset_scripts.audit import ClassCoverageError, check_class_coverage

    test_only = {"test": {"yes": 5, "no": 5}}
    with pytest.raises(ClassCoverageError, match="config emp_H3: train split no train split"):
        check_class_coverage("emp_H3", test_only, ("yes", "no"))
    check_class_coverage("emp_H3", test_only, ("yes", "no"), evaluation_only=True)


def test_card_lists_every_label_per_split(tmp_path):
    from dataset_scripts.hub_folder import report_tables

    text = report_tables([tiny_config(["yes"] * 20, tmp_path=tmp_path),
                          tiny_config(["yes"] * 20, evaluation_only=True, tmp_path=tmp_path)])
    assert "| tiny_promoters | train | yes: 20, no: 0 | misses label(s) ['no'] |" in text
    assert "| tiny_promoters | test | yes: 5, no: 5 | – |" in text
    assert "| tiny_promoters | train | yes: 20, no: 0 | evaluation-only |" in text
