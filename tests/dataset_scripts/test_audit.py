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
