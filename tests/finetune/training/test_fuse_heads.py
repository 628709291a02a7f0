"""A second head fused into a label head (finetune.training.fuse_heads): one linear map whose logits are the two
heads' weighted sum, chosen on the selection rows, read alike by `ask` and `generate`."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from finetune.training.fuse_heads import PENALTIES, SHARES, fit_fused_head, fuse, letters_features, main
from finetune.training.head_questions import add_questions
from finetune.training.label_heads import (_columns, benchmark_rows, fit_heads, task_benchmarks, write_heads,
                                           write_label_heads)
from modeling.heads_genomicllm import feature_width, head_logits
from modeling.inference import answer_tokens, ask, generate, load
from modeling.scores import class_probabilities, head, reading_probabilities, task_states
from tasks.grammar import render_prompt
from tasks.metrics import classification
from tasks.registry import get_task

LETTERS = ["phased:2", "free:TAA,TAG,TGA"]  # what the second head reads: codon usage and the stop-free frames
pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def fused(per_base_release, datasets_root, tmp_path_factory):
    """The per-base tiny model with an ORF frame head, and a letters-only head fused into it (kept whatever it
    gains: min_gain -1), written with its questions."""
    folder = tmp_path_factory.mktemp("fused") / "model"
    shutil.copytree(per_base_release, folder)
    tok, model = load(folder)
    write_heads(folder, fit_heads(tok, model, 30, datasets_root, tasks=["orf_frame", "tf_binding"], features=None))
    before = json.loads((folder / "config.json").read_text())["label_heads"]["orf_frame"]
    tok, model = load(folder)
    fitted = fit_fused_head(model, tok, "orf_frame", LETTERS, rows=40, select_rows=16, root=datasets_root,
                            min_gain=-1.0)
    write_label_heads(folder, "orf_frame", {None: fitted["entry"]}, model.config.kmer_base_token_ids)
    add_questions(folder)
    tok, model = load(folder)
    tf = fit_fused_head(model, tok, "tf_binding", ["kmers:2"], "GUE/tf_0", rows=40, select_rows=16,
                        root=datasets_root, min_gain=-1.0)
    write_label_heads(folder, "tf_binding", {"GUE/tf_0": tf["entry"]}, model.config.kmer_base_token_ids)
    return folder, fitted, before


def test_a_benchmark_gets_its_own_fused_head_and_the_pooled_one_stays(fused):
    folder, _, _ = fused
    tok, model = load(folder)
    pooled, own = head(model, "tf_binding"), head(model, "tf_binding", "GUE/tf_0")
    assert own["features"] == pooled["features"] + ["kmers:2"] and own["fused"]["features"] == ["kmers:2"]
    assert "question_ids" in pooled and "question_ids" not in own  # generate reads the pooled head
    assert "fused" not in pooled and head(model, "tf_binding", "GUE/tf_1") is pooled


def test_fused_logits_are_the_weighted_sum_of_both_heads(per_base_release):
    _, model = load(per_base_release)
    config, rng = model.config, np.random.default_rng(0)
    first_features, second_features = ["last", "mean@0"], ["mean@0", "kmers:2"]  # "mean@0" read by both
    width = {f: feature_width(config, f) for f in ("last", "mean@0", "kmers:2")}
    first = {"features": first_features, "weight": rng.normal(size=(4, width["last"] + width["mean@0"])).tolist(),
             "bias": rng.normal(size=4).tolist(), "readings": {"x": [1, 0, 2, 3]}}
    second = {"features": second_features, "weight": rng.normal(size=(4, width["mean@0"] + width["kmers:2"])).tolist(),
              "bias": rng.normal(size=4).tolist()}
    x = {f: torch.from_numpy(rng.normal(size=(5, w))).float() for f, w in width.items()}
    logits = lambda e: head_logits(e, torch.cat([x[f] for f in e["features"]], 1))
    for share in (0.0, 0.3, 1.0):
        entry = fuse(config, first, second, share)
        assert entry["features"] == ["last", "mean@0", "kmers:2"] and entry["readings"] == first["readings"]
        torch.testing.assert_close(logits(entry), share * logits(first) + (1 - share) * logits(second), atol=1e-4,
                                   rtol=1e-4)


def test_the_fused_head_is_chosen_on_the_selection_rows_as_the_model_reads_them(fused, datasets_root):
    folder, fitted, before = fused
    entry = fitted["entry"]
    assert entry["features"] == before["features"] + LETTERS
    assert entry["fused"]["share"] in SHARES and entry["fused"]["features"] == LETTERS
    assert entry["fused"]["c"] in PENALTIES and len(fitted["scores"]) == len(SHARES) * len(PENALTIES) + 1
    best = fitted["scores"][entry["fused"]["c"], entry["fused"]["share"]]
    assert best == max(fitted["scores"].values()) or fitted["scores"][None, 1.0] > best  # the head as it is may win
    tok, model = load(folder)
    shipped = head(model, "orf_frame")
    assert all(shipped[k] == entry[k] for k in ("features", "weight", "bias", "fused"))
    task = get_task("orf_frame")
    (chosen,) = [benchmark_rows(b, "orf_frame", 40, datasets_root, 16)[1] for b in
                 task_benchmarks("orf_frame", datasets_root)]
    seqs, fields, gold = _columns(chosen)
    record = entry["fused"]["selection"]
    for kept, mcc in ((before, record["replaced_mcc"]), (entry, record["mcc"])):
        read = reading_probabilities(model, tok, task, kept, seqs, fields)
        predicted = [task.labels[i] for i in (sum(read.values()) / len(read)).argmax(1)]
        assert classification(gold, predicted)["mcc"] == pytest.approx(mcc, abs=1e-3)


def test_a_reading_frame_reads_codon_usage_and_its_stop_free_frames_by_default():
    assert letters_features("orf_frame") == ["phased:3-5", "free:TAA,TAG,TGA"]
    assert letters_features("tf_binding") == ["kmers:3-6"]


def test_letters_alone_need_no_forward_pass(fused, monkeypatch):
    folder, _, _ = fused
    tok, model = load(folder)
    seqs = ["ATGAAACCCTAAGGGTTT", "CCCTAGATGGGA"]
    want = task_states(model, tok, "orf_frame", seqs, features=["last", *LETTERS])[:, model.config.hidden_size:]
    monkeypatch.setattr(model.base_model, "forward", lambda *a, **k: pytest.fail("a forward pass was run"))
    np.testing.assert_array_equal(task_states(model, tok, "orf_frame", seqs, features=LETTERS), want)


def test_generate_answers_with_the_fused_head_as_ask_does(fused):
    folder, _, _ = fused
    tok, model = load(folder)
    task = get_task("orf_frame")
    seqs = ["ATGGCCAAGCTGACCCTGAAGTTCATCTGCACCACC", "TTGACCAGGTACGATCGATTTAGCATGGCCAAGCTGACC", "CTAACTAGCTGACTAA"]
    texts = generate(model, tok, [render_prompt(task, s) for s in seqs], [answer_tokens(tok, task)] * len(seqs))
    want = [task.labels[i] for i in class_probabilities(model, tok, task, seqs).argmax(1)]
    assert [x.strip() for x in texts] == want == [ask(tok, model, task, s).text for s in seqs]


def test_the_command_fuses_each_benchmark_named_and_keeps_only_what_gains(fused, datasets_root, tmp_path, capsys):
    folder, _, _ = fused
    shutil.copytree(folder, tmp_path / "model")
    args = ["--model", str(tmp_path / "model"), "--task", "tf_binding", "--benchmark", "GUE/mouse_0", "GUE/tf_0",
            "--features", "kmers:2", "--rows", "30", "--select-rows", "12", "--datasets", str(datasets_root)]
    main(args + ["--min-gain", "2"])  # no head gains 2 MCC: nothing is written
    config = lambda f: json.loads((f / "config.json").read_text())
    assert config(tmp_path / "model") == config(folder)
    assert capsys.readouterr().out.count("not kept") == 2
    main(args + ["--min-gain", "-2"])
    heads = config(tmp_path / "model")["label_heads"]["tf_binding"]["benchmarks"]
    assert heads["GUE/mouse_0"]["fused"]["features"] == heads["GUE/tf_0"]["fused"]["features"] == ["kmers:2"]
    assert "benchmarks" not in heads["GUE/mouse_0"]  # grown from the pooled head, it holds none of its benchmarks
