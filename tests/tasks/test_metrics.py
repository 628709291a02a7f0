import pytest

from tasks.grammar import Unparseable, parse_answer
from tasks.metrics import classification, identity, regression, score

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


def test_agreement_with_the_rule_tolerates_rounding_only_for_numbers():
    from tasks.metrics import NUMBER_TOLERANCE, agrees

    assert agrees("gc_content", 0.5 + NUMBER_TOLERANCE / 2, 0.5) and not agrees("gc_content", 0.52, 0.5)
    assert agrees("reverse", "ACGT", "ACGT") and not agrees("reverse", "ACGA", "ACGT")
    assert not agrees("gc_content", U, 0.5)
