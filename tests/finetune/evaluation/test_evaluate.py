"""Evaluation through a release folder, as users load it."""

from pathlib import Path

import pytest


def test_evaluate_through_the_release_folder(tiny_setup, tiny_release, tmp_path):
    from finetune.evaluation.evaluate import evaluate_all, markdown, score_file

    release = tiny_release
    results = evaluate_all(release, tmp_path / "eval", root=Path(tiny_setup.datasets), max_rows=4, split="validation",
                           only=["GenomicLLM_GRCh38/splice_site", "GenomicLLM_GRCh38/reverse_complement"])
    assert "GenomicLLM_GRCh38/splice_site" in results
    ops = [r for k, r in results.items() if k.startswith("GenomicLLM_GRCh38/reverse_complement:")]
    assert ops and all(r["exact_rule"]["exact_match"] == 1.0 for r in ops)  # the rule column agrees with the gold
    splice = results["GenomicLLM_GRCh38/splice_site"]["ours"]
    assert splice["n"] == 4 and 0 <= splice["unparseable_rate"] <= 1 and "mcc" in splice
    assert results["GenomicLLM_GRCh38/splice_site"]["without_fields"]["n"] == 4  # also asked as users ask it
    assert results["GenomicLLM_GRCh38/splice_site"]["fit_split"] == "train"
    assert all("without_fields" not in r for r in ops)  # generation is not read by heads
    assert (tmp_path / "eval" / "confusion" / "GenomicLLM_GRCh38__splice_site.png").is_file()
    assert results["GenomicLLM_GRCh38/splice_site"]["split_rows"] > 4  # a sample: the table says of how many
    assert "ours on a sample of 4 of the" in markdown(results, {})
    assert "| GenomicLLM_GRCh38/splice_site | splice_site |" in markdown(results, {})
    assert "asked without its fields: mcc" in markdown(results, {})
    data = tmp_path / "mine.csv"
    data.write_text("sequence,label\nACGTACGTAC,yes\nTTTTGGGGCC,no\n")
    assert score_file(release, "promoter", data)["n"] == 2
    data.write_text("sequence,label\nACGT,maybe\n")
    with pytest.raises(SystemExit, match="not labels of promoter"):
        score_file(release, "promoter", data)



def test_the_table_says_what_each_result_was_fitted_on():
    from finetune.evaluation.evaluate import fit_note

    assert fit_note({"trained_on": True, "fit_split": "train"}) == ""
    assert fit_note({"trained_on": True}) == ""  # results written before the fit split was recorded
    assert fit_note({"trained_on": True, "fit_split": "dev"}) == \
        "no upstream train split in the mirror: baselines fitted on its dev split, heads fitted there too where they " \
        "read a held-out quarter of it better"
    assert "zero-shot" in fit_note({"trained_on": False, "fit_split": None})


def test_the_summary_counts_dev_fitted_benchmarks_apart():
    from finetune.evaluation.evaluate import baseline_summary

    base = {"kmer_lr": {"mcc": 0.5}, "cnn": {"mcc": 0.4}}
    results = {"GUE/tf_0": {"task": "tf_binding", "ours": {"mcc": 0.6}, "fit_split": "train"},
               "GUE/mouse_1": {"task": "tf_binding", "ours": {"mcc": 0.45}, "fit_split": "dev"},
               "GUE/emp_H3": {"task": "histone_mark", "ours": {"mcc": 0.7}, "fit_split": "dev"}}
    text = baseline_summary(results, {n: base for n in results})
    assert "ours above both on 2 of 3 (GUE/tf_0, GUE/emp_H3)." in text
    assert "above both on 1 of 2; with a train split: on 1 of 1." in text


def test_runs_over_a_few_benchmarks_merge_into_one_table(tmp_path):
    import json

    from finetune.evaluation.evaluate import main

    table, part = tmp_path / "table", tmp_path / "part"
    table.mkdir(), part.mkdir()
    sampled = {"task": "tf_binding", "split": "test", "ours": {"mcc": 0.5, "n": 100, "unparseable_rate": 0.0}}
    other = {"task": "promoter", "split": "test", "ours": {"mcc": 0.7, "n": 50, "unparseable_rate": 0.0}}
    (table / "results.json").write_text(json.dumps({"GUE/tf_0": sampled, "GUE/prom_300_all": other}))
    (table / "baselines.json").write_text(json.dumps({"GUE/tf_0": {"n_test": 1000, "kmer_lr": {"mcc": 0.6}}}))
    whole = dict(sampled, ours={"mcc": 0.65, "n": 1000, "unparseable_rate": 0.0})
    (part / "results.json").write_text(json.dumps({"GUE/tf_0": whole}))
    main(["--out", str(table), "--render"])
    assert "ours on a sample of 100 of the 1000 test rows, which the baselines read whole" in \
        (table / "results.md").read_text()
    main(["--out", str(table), "--merge", str(part)])
    results = json.loads((table / "results.json").read_text())
    assert results == {"GUE/tf_0": whole, "GUE/prom_300_all": other}  # replaced where run again, the rest kept
    text = (table / "results.md").read_text()
    assert "| GUE/tf_0 | tf_binding | mcc | 0.650 | 0.600 |" in text and "a sample of" not in text
    (part / "results.json").write_text(json.dumps({"GUE/tf_0": dict(whole, split="dev")}))
    with pytest.raises(SystemExit, match="GUE/tf_0 was scored on dev, the table on test"):
        main(["--out", str(table), "--merge", str(part)])
    with pytest.raises(SystemExit, match="no results.json there"):
        main(["--out", str(table), "--merge", str(tmp_path / "nowhere")])
