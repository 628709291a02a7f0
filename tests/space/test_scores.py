"""modeling/scores.py on the shipped model: a task without a label head (here histone marks, their head taken away)
gets the softmax of its answer tokens' log-probabilities; every task's probabilities sum to 1 (label heads:
tests/finetune/training/test_label_heads.py)."""

import math

import pytest

CDS = "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTC"


def test_label_probabilities_are_the_softmax_of_answer_scores(loaded, monkeypatch):
    from modeling.scores import label_logprobs, label_probabilities

    tok, model = loaded
    heads = {k: v for k, v in (getattr(model.config, "label_heads", None) or {}).items() if k != "histone_mark"}
    monkeypatch.setattr(model.config, "label_heads", heads)
    lp = label_logprobs(model, tok, f"{CDS}, histone mark =", ("yes", "no"))
    probs = label_probabilities(model, tok, "histone_mark", CDS)
    assert all(v < 0 for v in lp.values())
    assert math.isclose(probs["yes"] / probs["no"], math.exp(lp["yes"] - lp["no"]), rel_tol=1e-6)
    assert math.isclose(sum(label_probabilities(model, tok, "splice_site", CDS).values()), 1.0, rel_tol=1e-9)


def test_only_classification_tasks_have_label_probabilities(loaded):
    from modeling.scores import label_probabilities

    tok, model = loaded
    with pytest.raises(ValueError, match="gc_content is not a classification task"):
        label_probabilities(model, tok, "gc_content", CDS)


def test_softmax():
    from modeling.scores import softmax

    p = softmax({"a": 0.0, "b": math.log(3)})
    assert math.isclose(p["a"], 0.25) and math.isclose(p["b"], 0.75)


def test_ask_by_one_benchmarks_head_and_refuse_a_name_it_has_not(loaded):
    from modeling.inference import ask
    from modeling.scores import label_probabilities, own_heads

    tok, model = loaded
    assert {"GUE/tf_0", "GUE/tf_2", "GUE/mouse_3"} <= set(own_heads(model, "tf_binding"))
    assert "GUE/emp_H3K4me3" in own_heads(model, "histone_mark") and own_heads(model, "gc_content") == []
    own = ask(tok, model, "tf_binding", CDS, benchmark="GUE/tf_2")
    assert own.probabilities == label_probabilities(model, tok, "tf_binding", CDS, benchmark="GUE/tf_2")
    assert own.probabilities != ask(tok, model, "tf_binding", CDS).probabilities  # another head, another reading
    with pytest.raises(ValueError, match=r"no head fitted on 'GUE/tf_9'.*GUE/tf_2"):
        ask(tok, model, "tf_binding", CDS, benchmark="GUE/tf_9")  # never answered by the pooled head unsaid
    with pytest.raises(ValueError, match="no benchmark has a head of its own for it"):
        ask(tok, model, "gc_content", CDS, benchmark="GUE/tf_2")


def test_score_a_file_by_one_benchmarks_head(shipped, loaded, tmp_path):
    from finetune.evaluation.evaluate import score_file
    from modeling.scores import label_probabilities

    tok, model = loaded
    rows = [CDS, CDS[::-1], CDS[10:80]]
    data = tmp_path / "marks.csv"
    want = [max(p, key=p.get) for p in (label_probabilities(model, tok, "histone_mark", s, benchmark="GUE/emp_H4")
                                          for s in rows)]
    data.write_text("sequence,label\n" + "".join(f"{s},{w}\n" for s, w in zip(rows, want)))
    assert score_file(shipped, "histone_mark", data, "GUE/emp_H4")["accuracy"] == 1.0  # its labels, its head
    with pytest.raises(SystemExit, match="no head fitted on 'GUE/emp_H9'"):
        score_file(shipped, "histone_mark", data, "GUE/emp_H9")
