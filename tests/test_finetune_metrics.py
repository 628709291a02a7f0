import numpy as np
import pytest

from dataset_scripts import build_gue
from dataset_scripts.grammar import Unparseable, parse_answer
from finetune import baselines
from finetune.metrics import classification, identity, regression, score

U = Unparseable("??", "test")


def test_unparseable_classification_counts_as_wrong():
    gold = ["yes", "no", "yes", "no"]
    assert classification(gold, gold)["accuracy"] == 1.0
    with_bad = classification(gold, ["yes", "no", U, "no"])
    assert with_bad["accuracy"] == 0.75 and with_bad["mcc"] < 1.0


def test_unparseable_regression_costs_the_most():
    out = regression([0.2, 0.9], [0.2, U])
    assert out["mae"] == pytest.approx((0 + 0.9) / 2)


def test_generation_metrics():
    assert identity("MFEA", "MFEV") == 0.75 and identity("MFEA", "MFE") == 0.75
    s = score("nt2aa", ["MFEA", "MK"], [parse_answer("nt2aa", "MetPheGluAla"), parse_answer("nt2aa", "nonsense")])
    assert s["exact_match"] == 0.5 and s["unparseable_rate"] == 0.5 and s["identity"] == pytest.approx(0.5)
    d = score("gene_description", ["the cat sat"], ["the cat sat"])
    assert d["rouge_l"] == 1.0 and d["exact_match"] == 1.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="gold values"):
        score("promoter", ["yes"], [])


@pytest.fixture(scope="module")
def prom_tata():
    files = build_gue.discover()["prom_core_tata"]
    read = lambda split, n: build_gue.read_split(files[split], {0: "no", 1: "yes"}, "promoter", limit=n)  # noqa: E731
    return read("train", 1500), read("test", 300)


def test_kmer_baseline_learns_a_real_task(prom_tata):
    train, test = prom_tata
    model = baselines.kmer_lr(train.sequence.tolist(), train.answer.tolist())
    acc = np.mean(model.predict(test.sequence.tolist()) == test.answer.to_numpy())
    assert acc > 0.65  # chance is ~0.5 on this balanced task


def test_cnn_baseline_runs_and_predicts_labels(prom_tata):
    train, test = prom_tata
    fitted = baselines.cnn(train.sequence.tolist()[:300], train.answer.tolist()[:300], test.sequence.tolist()[:50],
                           test.answer.tolist()[:50], epochs=1)
    assert set(baselines.predict_cnn(fitted, test.sequence.tolist()[:50])) <= {"yes", "no"}


def test_exact_rule_is_independent_of_the_builders():
    from finetune.exact import exact_answer

    assert exact_answer("gc_content", "GGCA") == "0.750"
    assert exact_answer("reverse_complement", "AACG") == "CGTT"
    assert exact_answer("complement", "AACG") == "TTGC"
    assert exact_answer("nt2aa", "ATGTTTTAA") == "MetPheTer"
    assert exact_answer("reading_comprehension", "ACGT", '{"strand": "-"}', "strand") == "-"
    assert exact_answer("splice_site", "ACGT") is None
