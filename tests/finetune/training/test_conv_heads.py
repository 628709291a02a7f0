"""Heads with their own motif reader (finetune.training.conv_heads, heads_genomicllm.HeadConv): fitted on train rows
over the frozen states, stored in the weights file and config.json, read alike by `ask` and `generate`."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from finetune.training.conv_heads import conv_name, fit_conv_head, write_conv_head
from finetune.training.head_questions import add_questions
from finetune.training.label_heads import _columns, benchmark_rows, fit_heads, task_benchmarks, write_heads
from modeling.heads_genomicllm import HeadConv
from modeling.inference import answer_tokens, ask, generate, load, without_heads
from modeling.scores import head, reading_probabilities
from tasks.grammar import render_prompt
from tasks.registry import get_task

SMALL = {"proj": 4, "channels": 6, "kernel": 3}
FITS = (("tf_binding", None), ("tf_binding", "GUE/tf_0"), ("orf_frame", None))
EXTRA = {("tf_binding", "GUE/tf_0"): ["kmers:2-3"]}  # tf_0's head reads the run's k-mer profile too


@pytest.fixture(scope="module")
def convs(per_base_release, datasets_root, tmp_path_factory):
    """The per-base tiny model with label heads for TF binding (both strands) and ORF frame (per codon position),
    then motif readers for the pooled heads and for GUE tf_0's own (with the k-mer profile), each written whether or
    not it won."""
    folder = tmp_path_factory.mktemp("convs") / "model"
    shutil.copytree(per_base_release, folder)
    tok, model = load(folder)
    write_heads(folder, fit_heads(tok, model, 30, datasets_root, tasks=["tf_binding", "orf_frame"], features=None))
    before = json.loads((folder / "config.json").read_text())
    fitted = {}
    for task, benchmark in FITS:
        tok, model = load(folder)
        fitted[task, benchmark] = fit_conv_head(model, tok, task, benchmark, rows=24, select_rows=12, epochs=2,
                                                spec=SMALL, root=datasets_root,
                                                extra=EXTRA.get((task, benchmark), ()))
        write_conv_head(folder, task, benchmark, fitted[task, benchmark])
    add_questions(folder)
    return folder, fitted, before


def test_the_model_reads_a_conv_head_as_it_was_trained(convs, datasets_root):
    folder, fitted, _ = convs
    tok, model = load(folder)
    for task, benchmark in FITS:
        t = get_task(task)
        chosen = [benchmark_rows(b, task, 24, datasets_root, 12)[1] for b in task_benchmarks(task, datasets_root)
                  if benchmark in (None, b.name)]
        seqs, fields = [], []
        for df in chosen:
            s, f, _ = _columns(df)
            seqs, fields = seqs + s, fields + f
        entry = head(model, t, benchmark)
        assert entry["features"][-1] == f"conv:{conv_name(task, benchmark)}"
        assert ("kmers:2-3" in entry["features"]) == ((task, benchmark) in EXTRA)
        got = reading_probabilities(model, tok, t, entry, seqs, fields)["as asked"]
        np.testing.assert_allclose(got, fitted[task, benchmark]["selection_probabilities"], atol=1e-4)


def test_readers_live_in_the_weights_file_beside_unchanged_weights(convs, per_base_release):
    from safetensors.torch import load_file

    folder, fitted, before = convs
    old, new = load_file(per_base_release / "model.safetensors"), load_file(folder / "model.safetensors")
    assert all(torch.equal(new[k], v) for k, v in old.items())
    added = sorted(set(new) - set(old))
    names = {conv_name(t, b) for t, b in FITS}
    assert {k.split(".")[1] for k in added} == names == {"tf_binding", "tf_binding__GUE_tf_0", "orf_frame"}
    config = json.loads((folder / "config.json").read_text())
    assert config["head_convs"]["orf_frame"]["phased"] and not config["head_convs"]["tf_binding"]["phased"]
    assert config["head_convs"]["orf_frame"]["layers"] == [0, config["num_layers"]]
    tf = config["label_heads"]["tf_binding"]
    assert tf["question_ids"] and "question_ids" not in tf["benchmarks"]["GUE/tf_0"]  # generate reads pooled heads
    assert tf["features"][:-1] == before["label_heads"]["tf_binding"]["features"]
    width = HeadConv.width({**SMALL, "phased": False})  # channels x (mean, max)
    assert len(tf["weight"][0]) == len(before["label_heads"]["tf_binding"]["weight"][0]) + width == \
        len(before["label_heads"]["tf_binding"]["weight"][0]) + 12
    tok, model = load(folder)
    for name in names:
        reader = model.head_convs[name]
        assert torch.equal(reader.conv.weight, fitted[next(k for k in FITS if conv_name(*k) == name)]["reader"][
            "conv.weight"])


def test_a_reader_is_stored_as_the_models_weights_are(convs, tmp_path):
    from safetensors import safe_open

    folder, fitted, _ = convs
    half = tmp_path / "half"
    shutil.copytree(folder, half)
    config = json.loads((half / "config.json").read_text())
    (half / "config.json").write_text(json.dumps({**config, "stored_dtype": "float16"}))
    write_conv_head(half, "orf_frame", None, fitted["orf_frame", None])
    with safe_open(half / "model.safetensors", "pt") as f:
        dtypes = {k: str(f.get_slice(k).get_dtype()) for k in f.keys()}
    assert {d for k, d in dtypes.items() if k.startswith("head_convs.orf_frame.")} == {"F16"}
    assert {d for k, d in dtypes.items() if not k.startswith("head_convs.orf_frame.")} == {"F32"}  # untouched
    reader = load(half)[1].head_convs["orf_frame"]
    assert reader.conv.weight.dtype == torch.float32
    assert torch.equal(reader.conv.weight, fitted["orf_frame", None]["reader"]["conv.weight"].half().float())


def test_generate_answers_with_the_conv_heads_as_ask_does(convs):
    folder, _, _ = convs
    tok, model = load(folder)
    seqs = ["ACGTTGCAGGCTAGCTAGGATCGATCGGGATCGATCG", "TTGACCAGGTACGATCGATTTAGCATGGCCAAGCTGACC"]
    for task in ("tf_binding", "orf_frame"):
        t = get_task(task)
        texts = generate(model, tok, [render_prompt(t, s) for s in seqs], [answer_tokens(tok, t)] * len(seqs))
        assert [x.strip() for x in texts] == [ask(tok, model, t, s).text for s in seqs]


def test_the_reader_reads_the_run_alone_and_per_codon_position():
    torch.manual_seed(0)
    reader = HeadConv(8, [0, 1], proj=4, channels=5, kernel=3, phased=True)
    states = [torch.randn(2, 12, 8) for _ in range(2)]
    run = torch.zeros(2, 12, dtype=torch.bool)
    run[:, 3:9] = True
    base = torch.where(run, torch.arange(12) - 3, -1)
    out = reader(states, run, base)
    assert out.shape == (2, HeadConv.width({"channels": 5, "phased": True})) == (2, 30)
    changed = [s.clone() for s in states]
    for s in changed:
        s[:, :3] += 5.0  # the question's text before the run
        s[:, 9:] -= 5.0  # and after it
    assert torch.allclose(reader(changed, run, base), out)
    shifted = [torch.cat([torch.zeros(2, 2, 8), s[:, :-2]], 1) for s in states]  # the run two tokens later
    assert torch.allclose(reader(shifted, run.roll(2, 1), torch.where(run.roll(2, 1), base.roll(2, 1), -1)), out,
                          atol=1e-6)


def test_a_profile_is_read_as_label_heads_read_it_not_standardised():
    import numpy as np

    from finetune.training.conv_heads import SPEC, ConvHead
    from finetune.training.label_heads import PROFILE_SCALE

    rng = np.random.default_rng(0)
    pooled = np.concatenate([rng.normal(3.0, 2.0, (50, 4)), rng.uniform(0, 0.01, (50, 3))], 1)  # states, profile
    as_is = np.array([False] * 4 + [True] * 3)
    spec = {**SPEC, "layers": [0]}
    net = ConvHead(8, spec, pooled, 2, as_is=as_is)
    np.testing.assert_allclose(net.mean.numpy()[4:], 0.0)
    np.testing.assert_allclose(net.scale.numpy()[4:], PROFILE_SCALE)  # read x 10, as label_heads fits a profile
    np.testing.assert_allclose(net.scale.numpy()[:4], pooled[:, :4].std(0) + 1e-6, rtol=1e-5)
    plain = ConvHead(8, spec, pooled, 2)
    assert (plain.scale.numpy()[4:] < 0.01).all()  # standardised, a rare k-mer's column is blown up 100-fold
    x = torch.from_numpy(pooled[:5]).float()
    entry = net.entry()  # the fold: the raw profile through the entry's map = the net's map on the scaled one
    w, b = torch.tensor(entry["weight"]), torch.tensor(entry["bias"])
    want = torch.cat([(x - net.mean) / net.scale, torch.zeros(5, HeadConv.width(spec))], 1) @ net.out.weight.T
    got = torch.cat([x, torch.zeros(5, HeadConv.width(spec))], 1) @ w.T + b
    torch.testing.assert_close(got, want + net.out.bias, atol=1e-4, rtol=1e-4)


def test_config_names_every_reader_a_head_reads(convs):
    from transformers import AutoConfig

    folder, _, _ = convs
    config = json.loads((folder / "config.json").read_text())
    cls = type(AutoConfig.from_pretrained(folder, trust_remote_code=True))
    for change, message in (({"head_convs": {}}, "not among head_convs"),
                            ({"head_convs": {**config["head_convs"], "bad": {**config["head_convs"]["tf_binding"],
                                                                               "kernel": 4}}}, "kernel must be odd"),
                            ({"head_convs": {**config["head_convs"], "bad": {**config["head_convs"]["tf_binding"],
                                                                               "layers": [9]}}}, "layers are among"),
                            ({"head_convs": {**config["head_convs"], "a-b": config["head_convs"]["tf_binding"]}},
                             "identifier")):
        with pytest.raises(ValueError, match=message):
            cls(**{**{k: v for k, v in config.items() if k not in ("auto_map", "architectures")}, **change})


def test_an_adapted_model_drops_the_readers_with_the_heads(convs):
    folder, _, _ = convs
    _, model = load(folder)
    without_heads(model)
    assert model.config.head_convs is None and len(model.head_convs) == 0


def test_a_task_without_a_label_head_or_train_rows_is_refused(per_base_release, datasets_root):
    tok, model = load(per_base_release)
    with pytest.raises(ValueError, match="fit its label head first"):
        fit_conv_head(model, tok, "tf_binding", root=datasets_root)
    with pytest.raises(ValueError, match="only a classification task"):
        fit_conv_head(model, tok, "gc_content", root=datasets_root)
