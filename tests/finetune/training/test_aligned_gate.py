"""The aligned copy's gate (finetune/training/aligned_gate.py): the fit picks the share that writes the answer where
the LM is right too, and a fitted folder loads and generates with it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch

from finetune.training.aligned_gate import (GAP, SHORT, complement_token_ids, fit, fit_gate, gap_rows, gate_loss,
                                            short_rows, switch_accuracy)
from finetune.training.train import TrainConfig, train
from tasks.rules import complement


def synthetic(n: int = 400, hidden: int = 8, seed: int = 0) -> tuple[dict, torch.Tensor]:
    """Half the positions answer a complement (the next token is the run's base, complemented: share 2), half a
    label (no base writes it: the LM); the LM is right at both, so only the switch tells them apart."""
    g = torch.Generator().manual_seed(seed)
    copy = torch.arange(n) % 2 == 0
    h = torch.randn(n, hidden, generator=g) * 0.3
    h[:, 0] += torch.where(copy, 1.0, -1.0)  # the question, as the final state holds it
    written = torch.randint(4, 8, (n, 4), generator=g)
    y = torch.where(copy, written[:, 1], torch.tensor(99))
    lm = torch.full((n,), float(torch.log(torch.tensor(0.9))))
    return {"h": h, "written": written, "y": y, "lm": lm}, torch.full((n,), 1.0 / n)


def test_the_fitted_gate_copies_where_a_base_writes_the_answer_and_keeps_the_lm_elsewhere():
    ex, importance = synthetic()
    weight, bias = fit_gate(ex, importance)
    assert switch_accuracy(weight, bias, ex) == 1.0
    shares = torch.softmax(ex["h"] @ weight.T + bias, dim=-1)
    assert shares[0::2, 2].min() > 0.9 and shares[1::2, 0].min() > 0.9
    uniform = gate_loss(torch.zeros_like(weight), torch.zeros_like(bias), ex, importance)
    assert gate_loss(weight, bias, ex, importance) < uniform / 10


def test_fit_writes_a_gate_the_folder_loads_and_generates_with(tiny_setup, per_base_release, tmp_path):
    import shutil

    import pytest

    from modeling.inference import load

    folder = tmp_path / "model"  # a per-base tokenizer, as the shipped model's: copies are offered base by base
    shutil.copytree(per_base_release, folder)
    streams = {**tiny_setup.model, "position_streams": ["token", "run_start"]}
    kmers = tmp_path / "kmers"  # the setup's 3-mer tokenizer: no answer is ever offered a copy, a clear error
    train(TrainConfig(**{**asdict(tiny_setup), "steps": 1, "model": streams}), kmers, progress=False)
    with pytest.raises(ValueError, match="one base each"):
        fit(kmers / "release", rows=3, root=Path(tiny_setup.datasets))
    gate = fit(folder, rows=3, root=Path(tiny_setup.datasets))
    assert gate["positions"] > 0 and 0.0 <= gate["switch_accuracy"] <= 1.0 and gate["cpu_s"] > 0
    config = json.loads((folder / "config.json").read_text())
    assert len(config["aligned_gate"]["weight"]) == 5 and len(config["aligned_gate"]["bias"]) == 5
    tok, model = load(folder)
    assert model.config.aligned_copy and config["dna_complement_ids"] == complement_token_ids(tok)
    for base, paired in config["dna_complement_ids"]:  # every pair is the rule's
        assert tok.convert_ids_to_tokens(paired) == complement(tok.convert_ids_to_tokens(base))
    ids = tok("ACGTTGCAACGTTTGACCAGGT, complementary sequence =", " TGCA", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model(ids, output_hidden_states=True)
        weight, bias = model.aligned_gate_weight, model.aligned_gate_bias
    assert torch.equal(weight, torch.tensor(config["aligned_gate"]["weight"]))
    assert torch.isfinite(out.logits).all()
    again = fit(folder, rows=3, root=Path(tiny_setup.datasets))  # from the LM again, not from the fitted gate
    assert again["weight"] == gate["weight"] and again["bias"] == gate["bias"]
    short = fit(folder, rows=3, root=Path(tiny_setup.datasets), short=4)  # and short crops: more positions read
    assert short["positions"] > gate["positions"] and short["short_lengths"] == list(SHORT)
    assert json.loads((folder / "config.json").read_text())["aligned_gate"]["short_rows"] == 4
    gaps = fit(folder, rows=3, root=Path(tiny_setup.datasets), short=4, gaps=4)  # and crops holding an N run
    assert gaps["positions"] > short["positions"] and gaps["gap_lengths"] == list(GAP)


def test_short_crops_are_sequences_the_model_reads_as_dna_shorter_than_any_train_row(tiny_setup, per_base_release):
    from modeling.inference import load

    tok, _ = load(per_base_release)
    crops = short_rows(Path(tiny_setup.datasets), tok, rows=20)
    assert len(crops) == 3  # reverse, complement, reverse complement: the answers a copy may write
    for rows in crops:
        lengths = set()
        for ids, n_prompt in rows:
            seq = tok.decode(ids[:n_prompt], skip_special_tokens=True).split(",")[0]
            assert tok.find_dna_spans(seq) == [(0, len(seq))]  # read as bases, not as a word
            lengths.add(len(seq))
        assert SHORT[0] <= min(lengths) and max(lengths) <= SHORT[1] and len(lengths) > 2, lengths


def test_gap_crops_hold_one_run_of_n_and_are_answered_by_the_rule(tiny_setup, per_base_release):
    import re

    from modeling.inference import load
    from tasks.grammar import exact_answer

    tok, _ = load(per_base_release)
    crops = gap_rows(Path(tiny_setup.datasets), tok, rows=10)
    assert len(crops) == 3
    for task, rows in zip(["reverse", "complement", "reverse_complement"], crops):
        for ids, n_prompt in rows:
            seq = tok.decode(ids[:n_prompt], skip_special_tokens=True).split(",")[0]
            runs = re.findall("N+", seq)
            assert len(runs) == 1 and GAP[0] <= len(runs[0]) <= GAP[1] and 20 <= len(seq) <= 300, seq
            answer = tok.decode(ids[n_prompt:], skip_special_tokens=True).strip()
            assert answer == exact_answer(task, seq)