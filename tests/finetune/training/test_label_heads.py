"""Label heads: fitted by finetune.training.label_heads, stored in config.json, read by modeling.scores and `ask`."""

import json
import shutil

import numpy as np
import pytest

from finetune.training.label_heads import (PROFILE_SCALE, benchmark_rows, fit_head, fit_heads, profile_columns,
                                           task_benchmarks, write_heads)
from modeling.inference import ask, load
from modeling.scores import class_probabilities, head_probabilities, label_probabilities, task_states
from tasks.rules import reverse_complement

SEQ = "ACGTTGCAGGCTAGCTAGGATCGATCGGGATCGATCGATCGGATTTAGCGCGCGATATAGCGCGC"


def test_a_head_is_the_standardised_regression_folded_into_one_linear_map():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, size=(300, 6))
    for labels in (("yes", "no"), ("donor", "acceptor", "none")):
        y = [labels[i] for i in (x[:, 0] > 3).astype(int) + (x[:, 1] > 6).astype(int) * (len(labels) - 2)]
        head = fit_head(x, y, labels)
        assert np.array(head["weight"]).shape == (len(labels), 6) and head["rows"] == 300
        ref = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=2000))
        ref.fit(x, [labels.index(a) for a in y])
        np.testing.assert_allclose(head_probabilities(head, x), ref.predict_proba(x), atol=1e-4)
    with pytest.raises(ValueError, match=r"no training rows answer \['no'\]"):
        fit_head(x, ["yes"] * 300, ("yes", "no"))


def test_a_kmer_profile_is_fitted_as_read_times_ten_beside_standardised_states(tiny_release):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    _, model = load(tiny_release)
    features = ["last", "kmers:1-2"]
    as_is = profile_columns(model.config, features)
    d = model.config.hidden_size
    assert as_is.shape == (d + 4 + 16,) and not as_is[:d].any() and as_is[d:].all()
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(3.0, 5.0, size=(300, d)), rng.dirichlet(np.ones(20), size=300)], 1)
    y = ["yes" if a > 0.05 else "no" for a in x[:, d + 1]]  # the second base's share decides
    head = fit_head(x, y, ("yes", "no"), as_is)
    scaled = np.concatenate([StandardScaler().fit_transform(x[:, :d]), x[:, d:] / PROFILE_SCALE], 1)
    ref = LogisticRegression(class_weight="balanced", max_iter=2000).fit(scaled, [a == "no" for a in y])
    np.testing.assert_allclose(head_probabilities(head, x), ref.predict_proba(scaled), atol=1e-4)


def test_training_rows_pool_every_benchmark_of_the_task(datasets_root):
    from finetune.training.label_heads import _columns

    def training_rows(task, rows):  # what fit_heads pools: each benchmark's fit rows
        benches = task_benchmarks(task, datasets_root)
        parts = [_columns(benchmark_rows(b, task, rows, datasets_root)[0]) for b in benches]
        return tuple([x for part in parts for x in part[i]] for i in range(3))

    seqs, fields, gold = training_rows("tf_binding", 5)
    assert len(seqs) == len(fields) == len(gold) == 10 and set(gold) <= {"yes", "no"}  # tf_0 and mouse_0, 5 each
    seqs, fields, gold = training_rows("splice_site", 5)
    assert len(seqs) == 5 and all(f and "strand" in f for f in fields)  # the corpus' rows keep their fields


@pytest.fixture(scope="module")
def headed(tiny_release, datasets_root, tmp_path_factory):
    """The tiny release with heads for a strand-symmetric task and one that is not, fitted on 30 rows a set."""
    folder = tmp_path_factory.mktemp("headed") / "model"
    shutil.copytree(tiny_release, folder)
    tok, model = load(folder)
    write_heads(folder, fit_heads(tok, model, 30, datasets_root, tasks=["tf_binding", "promoter"]))
    return folder


def test_heads_travel_in_config_json_and_answer_classification(headed):
    tok, model = load(headed)
    assert set(model.config.label_heads) == {"tf_binding", "promoter"}
    assert set(json.loads((headed / "config.json").read_text())["label_heads"]) == {"tf_binding", "promoter"}
    head = model.config.label_heads["promoter"]
    want = head_probabilities(head, task_states(model, tok, "promoter", [SEQ]))[0]
    probs = label_probabilities(model, tok, "promoter", SEQ)
    np.testing.assert_allclose([probs["yes"], probs["no"]], want, rtol=1e-9)
    assert ask(tok, model, "promoter", SEQ).text == max(probs, key=probs.get)


def test_a_strand_symmetric_head_gives_both_strands_one_answer(headed):
    tok, model = load(headed)
    both = class_probabilities(model, tok, "tf_binding", [SEQ, reverse_complement(SEQ)])
    np.testing.assert_allclose(both[0], both[1], rtol=1e-5)
    one = class_probabilities(model, tok, "promoter", [SEQ, reverse_complement(SEQ)])  # a promoter faces its gene
    assert not np.allclose(one[0], one[1])


def test_a_task_without_a_head_reads_the_label_scores(headed):
    from modeling.scores import label_logprobs, softmax

    tok, model = load(headed)
    want = softmax(label_logprobs(model, tok, f"{SEQ}, splice site =", ("donor", "acceptor", "none")))
    got = label_probabilities(model, tok, "splice_site", SEQ)
    assert got == pytest.approx(want)


def test_question_states_read_each_feature_and_ignore_padding(tiny_release):
    from modeling.scores import question_states

    tok, model = load(tiny_release)
    hidden = model.config.hidden_size
    prompts = [f"{SEQ}, promoter?", f"{SEQ[:20]}, promoter?"]  # unequal lengths: the short one is padded
    both = question_states(model, tok, prompts, ("last", "mean", "mean@0"))
    assert both.shape == (2, 3 * hidden)
    for i, p in enumerate(prompts):
        alone = question_states(model, tok, [p], ("last", "mean", "mean@0"))[0]
        np.testing.assert_allclose(both[i], alone, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(both[:, :hidden], question_states(model, tok, prompts)[:, :], rtol=1e-6)
    ids = tok(prompts[1], add_special_tokens=False)["input_ids"]  # mean@0: the embeddings' average, bos included
    emb = model.get_input_embeddings().weight.detach().numpy()[[tok.bos_token_id] + ids].mean(0)
    np.testing.assert_allclose(both[1, 2 * hidden :], emb, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="unknown state feature 'max'"):
        question_states(model, tok, prompts, ("max",))


def test_phase_features_average_the_dna_runs_bases_per_codon_position():
    from finetune.training.label_heads import head_features
    from modeling.scores import question_states
    from tasks.paths import SHIPPED_MODEL

    tok, model = load(SHIPPED_MODEL)  # per-base DNA tokens (the tiny test model's config names no DNA tokens)
    hidden, emb = model.config.hidden_size, model.get_input_embeddings().weight.detach().numpy()
    prompts = [f"{SEQ}, coding frame =", "what is a promoter? ="]  # the second has no DNA run: zeros
    got = question_states(model, tok, prompts, ("phase@0",))
    assert got.shape == (2, 3 * hidden) and not got[1].any()
    bases = tok(SEQ, add_special_tokens=False)["input_ids"]
    assert len(bases) == len(SEQ)  # one token per base: the r-th block averages bases r, r + 3, ... (not " =")
    for r in range(3):
        np.testing.assert_allclose(got[0, r * hidden : (r + 1) * hidden], emb[bases[r::3]].mean(0), atol=1e-5)
    layers = model.config.num_layers
    assert head_features(model, "orf_frame")[-1] == f"phase@{layers}"
    assert not any(f.startswith("phase") for f in head_features(model, "promoter"))


def test_a_head_reads_the_features_it_names_and_heads_are_merged(headed, datasets_root, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(headed, folder)
    tok, model = load(folder)
    write_heads(folder, fit_heads(tok, model, 30, datasets_root, tasks=["promoter"], features=("last", "mean")))
    tok, model = load(folder)
    head = model.config.label_heads["promoter"]
    assert head["features"] == ["last", "mean"] and np.array(head["weight"]).shape[1] == 2 * model.config.hidden_size
    assert model.config.label_heads["tf_binding"]["features"] == ["last"]  # the other task's head is kept
    want = head_probabilities(head, task_states(model, tok, "promoter", [SEQ], features=("last", "mean")))[0]
    np.testing.assert_allclose(class_probabilities(model, tok, "promoter", [SEQ])[0], want, rtol=1e-9)


def test_a_value_head_is_the_standardised_ridge_folded_into_one_linear_map():
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from finetune.training.label_heads import fit_value_head
    from modeling.scores import head_values

    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(200, 5))
    y = 0.1 * x[:, 0] - 0.05 * x[:, 3] + rng.normal(0, 0.01, 200)
    head = fit_value_head(x, [f"{v:.4f}" for v in y])
    ref = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13))).fit(x, [float(f"{v:.4f}") for v in y])
    np.testing.assert_allclose(head_values(head, x), ref.predict(x), atol=1e-4)
    assert head["rows"] == 200 and head["alpha"] == ref[-1].alpha_


@pytest.fixture(scope="module")
def valued(headed, datasets_root, tmp_path_factory):
    """The headed release with a value head for GC content, fitted on 40 corpus train rows."""
    folder = tmp_path_factory.mktemp("valued") / "model"
    shutil.copytree(headed, folder)
    tok, model = load(folder)
    write_heads(folder, fit_heads(tok, model, 40, datasets_root, tasks=["gc_content"]))
    return folder


def test_a_value_head_answers_gc_content_in_the_grammars_digits(valued):
    from modeling.scores import head_values, values

    tok, model = load(valued)
    config = json.loads((valued / "config.json").read_text())
    assert set(config["value_heads"]) == {"gc_content"} and "gc_content" not in config["label_heads"]
    entry = model.config.value_heads["gc_content"]
    raw = head_values(entry, task_states(model, tok, "gc_content", [SEQ], features=entry["features"]))
    assert values(model, tok, "gc_content", [SEQ])[0] == pytest.approx(min(max(raw[0], 0.0), 1.0))
    answer = ask(tok, model, "gc_content", SEQ.lower())
    assert answer.ok and answer.text == f"{values(model, tok, 'gc_content', [SEQ])[0]:.3f}"
    with pytest.raises(ValueError, match="promoter has no value head"):
        values(model, tok, "promoter", [SEQ])


def test_evaluation_reads_gc_content_from_the_value_head_and_keeps_the_greedy_text(valued, datasets_root, tmp_path):
    from finetune.evaluation.evaluate import evaluate_all

    results = evaluate_all(valued, tmp_path, datasets_root, max_rows=6, only=["GenomicLLM_GRCh38/gc_content"],
                           split="dev")  # the small corpus has no test rows of it
    r = results["GenomicLLM_GRCh38/gc_content"]
    assert set(r) >= {"ours", "greedy"} and r["ours"]["n"] == 6 and r["ours"]["unparseable_rate"] == 0.0
    from modeling.scores import values
    from tasks.benchmarks import discover

    bench = next(b for b in discover(datasets_root, ("regress",)) if b.task == "gc_content")
    rows = bench.load("validation", datasets_root).sample(n=6, random_state=0)
    tok, model = load(valued)
    read = np.round(values(model, tok, "gc_content", rows["sequence"].tolist()), 3)
    assert r["ours"]["mae"] == pytest.approx(np.abs(read - rows["answer"].astype(float)).mean(), abs=1e-9)


def test_a_benchmark_keeps_its_own_head_only_where_it_beats_the_pooled_one():
    from finetune.training.label_heads import benchmark_heads

    rng = np.random.default_rng(0)
    labels = ("yes", "no")

    def rows(n, column, sign):  # a benchmark whose label is the sign of one feature
        x = rng.normal(size=(n, 4))
        return x, ["yes" if sign * v > 0 else "no" for v in x[:, column]]

    fits = {"a": rows(200, 0, 1), "b": rows(200, 1, -1), "c": rows(200, 0, 1)}
    pooled = {**fit_head(np.concatenate([fits[k][0] for k in "ac"]), fits["a"][1] + fits["c"][1], labels),
              "features": ["last"]}
    kept = benchmark_heads(labels, pooled, fits, {k: rows(100, *spec) for k, spec in
                                                  (("a", (0, 1)), ("b", (1, -1)), ("c", (0, 1)))})
    assert "b" in kept  # the pooled head never saw b's rule: b's own head wins and is kept
    assert kept["b"]["selection"]["mcc"] > 0.9 > kept["b"]["selection"]["pooled_mcc"]
    assert kept["b"]["features"] == ["last"] and np.array(kept["b"]["weight"]).shape == (2, 4)
    assert all(v["selection"]["mcc"] > v["selection"]["pooled_mcc"] for v in kept.values())


def test_a_benchmark_head_answers_when_named_and_the_pooled_one_otherwise(headed):
    from modeling.scores import head

    tok, model = load(headed)
    pooled = model.config.label_heads["tf_binding"]
    own = {**pooled, "weight": [[0.0] * len(pooled["weight"][0]), [1e-3] * len(pooled["weight"][0])],
           "bias": [0.0, 5.0]}
    model.config.label_heads = {**model.config.label_heads, "tf_binding": {**pooled, "benchmarks": {"GUE/tf_0": own}}}
    assert head(model, "tf_binding", "GUE/tf_0") is own and head(model, "tf_binding") is not own
    assert head(model, "tf_binding", "GUE/mouse_0") is model.config.label_heads["tf_binding"]  # none of its own
    named = class_probabilities(model, tok, "tf_binding", [SEQ], benchmark="GUE/tf_0")[0]
    np.testing.assert_allclose(named, head_probabilities(own, task_states(model, tok, "tf_binding", [SEQ]))[0])
    assert not np.allclose(named, class_probabilities(model, tok, "tf_binding", [SEQ])[0])
    from finetune.evaluation.evaluate import head_used  # what results.json records as the head that answered

    assert [head_used(model, t, b) for t, b in (("tf_binding", "GUE/tf_0"), ("tf_binding", "GUE/mouse_0"),
                                                 ("enhancer", "GenomicBenchmarks/human_enhancers_cohn"))] == \
        ["benchmark", "task", None]


def test_fit_heads_selects_benchmark_heads_on_rows_apart_from_their_fit(tiny_release, datasets_root):
    tok, model = load(tiny_release)
    heads = fit_heads(tok, model, 30, datasets_root, tasks=["tf_binding"], select_rows=20)
    kept = heads["tf_binding"]["benchmarks"]
    assert set(kept) <= {"GUE/tf_0", "GUE/mouse_0"}
    for entry in kept.values():
        assert entry["selection"]["rows"] == 20 and entry["selection"]["mcc"] > entry["selection"]["pooled_mcc"]
        assert entry["features"] == heads["tf_binding"]["features"] and entry["rows"] == 30


def test_selection_rows_without_a_dev_split_are_train_rows_held_out_from_the_fit():
    import pandas as pd

    class NoDev:  # a GenomicBenchmarks set: train and test only
        dev, fit, selection = None, "train", None

        def load(self, split, root=None):
            assert split == "train"
            return pd.DataFrame({"sequence": [f"ACGT{i}" for i in range(60)], "answer": ["yes", "no"] * 30})

    fitted, chosen = benchmark_rows(NoDev(), "enhancer", 30, None, select_rows=10)
    assert len(fitted) == 30 and len(chosen) == 10 and not set(chosen.index) & set(fitted.index)
    fitted, chosen = benchmark_rows(NoDev(), "enhancer", 100, None, select_rows=100)
    assert len(chosen) == 15 and len(fitted) == 45  # a quarter held out, the rest fitted: none lost, none shared
    assert not set(chosen.index) & set(fitted.index)
    assert len(benchmark_rows(NoDev(), "enhancer", 100, None)[0]) == 60  # no selection: every row fits
    few = benchmark_rows(NoDev(), "enhancer", 100, None, select_rows=5)  # a step choosing on fewer rows
    assert set(few[1].index) <= set(chosen.index) and not set(few[0].index) & set(chosen.index)


def test_a_set_without_a_train_split_is_fitted_on_dev_with_a_quarter_held_out(tmp_path):
    import pandas as pd

    from tasks.benchmarks import Benchmark

    folder = tmp_path / "GUE" / "data" / "emp_H3"
    folder.mkdir(parents=True)
    dev = pd.DataFrame({"sequence": [f"ACGT{i}" for i in range(40)], "answer": ["yes", "no"] * 20})
    dev.to_parquet(folder / "dev.parquet")
    emp = Benchmark("GUE", "emp_H3", "histone_mark", ("dev", "test"))
    assert (emp.fit, emp.selection) == ("dev", None)
    fitted, chosen = benchmark_rows(emp, "histone_mark", 100, tmp_path, select_rows=100)
    assert len(chosen) == 10 and len(fitted) == 30 and not set(chosen.index) & set(fitted.index)
    assert (Benchmark("GUE", "tf_0", "tf_binding", ("train", "dev", "test")).fit,
            Benchmark("GUE", "tf_0", "tf_binding", ("train", "dev", "test")).selection) == ("train", "dev")
    assert Benchmark("GUE", "x", "tf_binding", ("test",)).fit is None  # nothing to fit on: zero-shot
    # a rebuilt train split trains the language model, but heads read GUE's own dev rows, drawn as test was
    rebuilt = Benchmark("GUE", "splice_reconstructed", "splice_site", ("train", "dev", "test"))
    assert rebuilt.reconstructed_train and (rebuilt.fit, rebuilt.selection) == ("dev", None)
    assert not Benchmark("GUE", "prom_300_tata", "promoter", ("train", "dev", "test")).reconstructed_train


def test_corpus_rows_are_fitted_as_asked_with_their_fields_and_without(tiny_release, datasets_root):
    from finetune.training.label_heads import fit_states

    tok, model = load(tiny_release)
    splice = {b.dataset: b for b in task_benchmarks("splice_site", datasets_root)}["GenomicLLM_GRCh38"]
    rows = benchmark_rows(splice, "splice_site", 6, datasets_root)[0]
    states, answers = fit_states(model, tok, "splice_site", rows, ("last",))
    assert states.shape[0] == 12 and answers == rows["answer"].tolist() * 2
    np.testing.assert_allclose(states[6:], task_states(model, tok, "splice_site", rows["sequence"].tolist()))
    assert not np.allclose(states[:6], states[6:])  # the fields change the states: both forms are fitted
    tf = {b.name: b for b in task_benchmarks("tf_binding", datasets_root)}["GUE/tf_0"]
    rows = benchmark_rows(tf, "tf_binding", 6, datasets_root)[0]
    assert fit_states(model, tok, "tf_binding", rows, ("last",))[0].shape[0] == 6  # no fields: asked once


def test_refitting_one_benchmark_head_leaves_every_other_head_as_it_was(headed, datasets_root, tmp_path):
    from finetune.training.label_heads import main, put_label_head, refit_benchmark_heads

    folder = tmp_path / "model"
    shutil.copytree(headed, folder)
    config = json.loads((folder / "config.json").read_text())
    pooled = config["label_heads"]["tf_binding"]
    width = len(pooled["weight"][0])
    always_no = {**pooled, "weight": [[0.0] * width, [0.0] * width], "bias": [5.0, 0.0], "rows": 1}  # MCC 0
    put_label_head(config, "tf_binding", "GUE/tf_0", always_no)
    put_label_head(config, "tf_binding", "GUE/mouse_0", always_no)
    (folder / "config.json").write_text(json.dumps(config))
    tok, model = load(folder)
    kept = refit_benchmark_heads(tok, model, "tf_binding", ["GUE/tf_0"], 30, datasets_root, select_rows=20)
    assert set(kept) <= {"GUE/tf_0"}
    for entry in kept.values():  # fitted on the set's own rows, reading what the head it replaces read
        assert entry["rows"] == 30 and entry["features"] == pooled["features"]
        assert entry["selection"]["rows"] == 20 and entry["selection"]["mcc"] > entry["selection"]["replaced_mcc"]
    main(["--model", str(folder), "--tasks", "tf_binding", "--benchmark", "GUE/tf_0", "--rows", "30",
          "--select-rows", "20", "--datasets", str(datasets_root)])
    after = json.loads((folder / "config.json").read_text())["label_heads"]
    assert after["promoter"] == config["label_heads"]["promoter"]
    assert {k: v for k, v in after["tf_binding"].items() if k != "benchmarks"} == \
        {k: v for k, v in pooled.items() if k != "benchmarks"}
    assert after["tf_binding"]["benchmarks"]["GUE/mouse_0"] == config["label_heads"]["tf_binding"]["benchmarks"][
        "GUE/mouse_0"]
    assert after["tf_binding"]["benchmarks"]["GUE/tf_0"] == \
        kept.get("GUE/tf_0", config["label_heads"]["tf_binding"]["benchmarks"]["GUE/tf_0"])
    with pytest.raises(ValueError, match="no benchmark"):
        refit_benchmark_heads(tok, model, "tf_binding", ["GUE/tf_9"], 30, datasets_root)
    model.config.label_heads["tf_binding"]["benchmarks"]["GUE/tf_0"]["features"] = ["last", "conv:tf_binding__GUE_tf_0"]
    with pytest.raises(ValueError, match="motif reader"):  # its reader would be lost: conv_heads refits those
        refit_benchmark_heads(tok, model, "tf_binding", ["GUE/tf_0"], 30, datasets_root)
    with pytest.raises(SystemExit):  # one task, named
        main(["--model", str(folder), "--benchmark", "GUE/tf_0", "--datasets", str(datasets_root)])


def test_a_benchmark_head_is_refitted_to_a_recipe_other_features_and_penalty(headed, datasets_root, tmp_path):
    from finetune.training.label_heads import main, refit_benchmark_heads

    folder = tmp_path / "model"
    shutil.copytree(headed, folder)
    tok, model = load(folder)
    before = model.config.label_heads["tf_binding"]
    reads = ("last", "mean")
    assert tuple(before["features"]) != reads
    heads = {c: refit_benchmark_heads(tok, model, "tf_binding", ["GUE/tf_0", "GUE/mouse_0"], 30, datasets_root,
                                      select_rows=20, features=reads, c=c, replace=True) for c in (0.01, 1.0)}
    for kept in heads.values():  # with replace every refitted head is written, whatever its selection MCC
        assert set(kept) == {"GUE/tf_0", "GUE/mouse_0"}
        assert all(e["features"] == list(reads) and e["rows"] == 30 for e in kept.values())
    norm = {c: np.abs(np.asarray(kept["GUE/tf_0"]["weight"])).sum() for c, kept in heads.items()}
    assert norm[0.01] < norm[1.0]  # a stronger penalty, smaller weights
    main(["--model", str(folder), "--tasks", "tf_binding", "--benchmark", "GUE/tf_0", "--rows", "30",
          "--select-rows", "20", "--datasets", str(datasets_root), "--features", *reads, "--c", "0.01", "--replace"])
    after = json.loads((folder / "config.json").read_text())["label_heads"]["tf_binding"]
    assert after["benchmarks"]["GUE/tf_0"]["features"] == list(reads)
    assert after["weight"] == before["weight"]  # the pooled head is not touched
    with pytest.raises(SystemExit):  # replacing is for benchmarks' heads
        main(["--model", str(folder), "--replace", "--datasets", str(datasets_root)])
