"""Heads as the model's own answers (modeling/heads_genomicllm.py, finetune/training/head_questions.py): `generate`
writes what `ask` answers, cached or not, batched or not; every other question, training and a loss see the LM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from finetune.training.head_questions import add_questions
from finetune.training.label_heads import with_letters, write_heads
from modeling.inference import answer_tokens, ask, generate, load
from modeling.scores import class_probabilities, values
from tasks.grammar import render_answer, render_prompt
from tasks.registry import get_task
from tasks.rules import reverse_complement

SEQS = ["ACGTTGCAGGCTAGCTAGGATCGATCGGGATCG", "TTGACCAGGTACGATCGATTTAGC", "GGGCCCATATATCGCGTTAACCGGTTAAGGCCATG"]
HEADS = {"tf_binding": ("last", "mean@0", "mean@2"), "orf_frame": ("last", "phase@1", "phased:2", "free:TAA,TAG,TGA"),
         "gc_content": ("last",), "splice_site": ("mean", "kmers:2-3"), "sequence_direction": ("last", "mean@0")}


def telling_heads(folder: Path) -> dict:
    """Heads that tell the questions about SEQS apart (label k leans towards sequence k, as far as the 2-step
    model's states differ), and a value head near 0.6."""
    from modeling.scores import task_states

    tok, model = load(folder)
    with_letters(model.config, tok, [f for fs in HEADS.values() for f in fs], folder)  # splice, ORF read k-mers too
    heads = {}
    for i, (task, features) in enumerate(HEADS.items()):
        t = get_task(task)
        x = task_states(model, tok, t, SEQS, features=features)
        centred = x - x.mean(0)
        centred /= (centred**2).sum(1, keepdims=True)  # sequence k's row scores it 1
        if t.kind == "regress":
            weight, bias = 0.01 * centred[:1], 0.6
        else:  # label k: sequence k's row (its opposite past the third label)
            weight = np.stack([centred[k % len(SEQS)] * (1 if k < len(SEQS) else -1) for k in range(len(t.labels))])
            weight, bias = 3 * weight, 0.0
        bias = (bias - weight @ x.mean(0)).tolist()  # the scores of the centred states
        heads[task] = {"weight": weight.tolist(), "bias": bias, "features": list(features), "rows": 0}
    return heads


@pytest.fixture(scope="module")
def asked(per_base_release, tmp_path_factory) -> Path:
    """A 2-step per-base model (a char tokenizer, as the shipped model reads one token per base) with random heads
    for a strand-symmetric task, one read per codon position, a three-label one and GC content, and their
    questions."""
    folder = tmp_path_factory.mktemp("asked") / "model"
    shutil.copytree(per_base_release, folder)
    write_heads(folder, telling_heads(folder))
    assert sorted(add_questions(folder)) == sorted(HEADS)
    return folder


def test_generate_writes_the_answer_ask_reads_from_the_heads(asked):
    tok, model = load(asked)
    for task in HEADS:
        t = get_task(task)
        prompts = [render_prompt(t, s) for s in SEQS]
        texts = [x.strip() for x in generate(model, tok, prompts, [answer_tokens(tok, t)] * len(SEQS))]  # batched
        if t.kind == "classify":
            want = [t.labels[i] for i in class_probabilities(model, tok, t, SEQS).argmax(1)]
        else:
            want = [render_answer(t, v) for v in values(model, tok, t, SEQS)]
        assert texts == want == [ask(tok, model, t, s).text for s in SEQS], task
        alone = [generate(model, tok, [p], [answer_tokens(tok, t)], batch_size=1)[0].strip() for p in prompts]
        assert alone == texts, task
    model.config.answer_with_heads = False  # the LM's own text
    lm = generate(model, tok, [render_prompt("tf_binding", s) for s in SEQS], [5] * len(SEQS))
    model.config.answer_with_heads = True
    assert all(a.strip() not in ("yes", "no") for a in lm)  # two training steps: never the label
    enc = tok([render_prompt("tf_binding", SEQS[-1])], return_tensors="pt")
    asked_off = model.generate(**enc, max_new_tokens=5, do_sample=False, answer_with_heads=False)  # per call
    assert tok.decode(asked_off[0, enc["input_ids"].shape[1] :], skip_special_tokens=True) == lm[-1]


def test_the_answer_logits_are_the_heads_log_probabilities_over_its_labels(asked):
    tok, model = load(asked)
    for task in ("tf_binding", "splice_site"):
        t = get_task(task)
        enc = tok([render_prompt(t, SEQS[0])], return_tensors="pt")
        with torch.no_grad():
            first = model(**enc).logits[0, -1].double()
        probs = class_probabilities(model, tok, t, SEQS[:1])[0]
        answers = model.config.label_heads[task]["answer_ids"]
        firsts = sorted({a[0] for a in answers})
        assert torch.isinf(first).sum() == len(first) - len(firsts)  # nothing but the labels' first tokens
        want = {i: np.log(sum(p for a, p in zip(answers, probs) if a[0] == i)) for i in firsts}
        assert {i: float(first[i]) for i in firsts} == pytest.approx(want, abs=1e-5)
        with torch.no_grad():  # the LM's own logits on request
            lm = model(**enc, answer_with_heads=False).logits[0, -1]
        assert torch.isfinite(lm).all()


def test_a_strand_symmetric_head_answers_both_strands_alike_and_direction_both_ways_swapped(asked):
    tok, model = load(asked)
    for seq in SEQS:
        logits = []
        for s in (seq, reverse_complement(seq)):
            with torch.no_grad():
                logits.append(model(**tok([render_prompt("tf_binding", s)], return_tensors="pt")).logits[0, -1])
        assert torch.allclose(logits[0], logits[1], atol=1e-5)
    ids = model.config.label_heads["sequence_direction"]["answer_ids"]  # read backwards: forward <-> reversed
    forward, backwards = ids[0][0], ids[1][0]
    assert forward != backwards
    for seq in SEQS:
        with torch.no_grad():
            one, other = (model(**tok([render_prompt("sequence_direction", s)], return_tensors="pt")).logits[0, -1]
                          for s in (seq, seq[::-1]))
        assert torch.allclose(one[[forward, backwards]], other[[backwards, forward]], atol=1e-5)
    orf = [model(**tok([render_prompt("orf_frame", s)], return_tensors="pt")).logits[0, -1] for s in SEQS[:1]]
    flipped = model(**tok([render_prompt("orf_frame", reverse_complement(SEQS[0]))], return_tensors="pt")).logits
    assert not torch.allclose(orf[0], flipped[0, -1])  # a reading frame depends on the strand


def test_the_model_rereads_a_question_as_the_rules_read_its_sequence(asked):
    from modeling.heads_genomicllm import READINGS, find_questions, reread
    from modeling.positions_genomicllm import key_table, token_table
    from tasks.rules import READINGS as RULES

    tok, model = load(asked)
    c = model.config
    assert set(READINGS) == set(RULES) | {"reverse_complement"}
    rules = {**RULES, "reverse_complement": reverse_complement}
    for seq in SEQS:
        ids = tok([render_prompt("orf_frame", seq, {"chromosome": "chr1"})], return_tensors="pt")["input_ids"]
        marker = token_table(c.vocab_size, c.answer_marker_token_ids)
        q, = find_questions(c, ids, torch.ones_like(ids, dtype=torch.bool), set(c.dna_token_ids), marker)
        assert q.run[1] - q.run[0] == len(seq)
        for name, rule in rules.items():
            want = tok(render_prompt("orf_frame", rule(seq), {"chromosome": "chr1"}))["input_ids"]
            got = reread(ids[0], q.run, name, key_table(c.vocab_size, c.dna_complement_ids))
            assert got.tolist() == want, name


def test_cached_steps_and_a_full_forward_write_the_same_answer(asked):
    tok, model = load(asked)
    tok.padding_side = "left"
    for task in ("gc_content", "splice_site"):
        prompts = [render_prompt(task, s) for s in SEQS]
        enc = tok(prompts, return_tensors="pt", padding=True)
        out = model.generate(**enc, max_new_tokens=12, do_sample=False, output_scores=True,
                             return_dict_in_generate=True, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        width = enc["input_ids"].shape[1]
        with torch.no_grad():
            full = model(input_ids=out.sequences, attention_mask=(out.sequences != tok.pad_token_id).long()
                         | torch.nn.functional.pad(enc["attention_mask"], (0, out.sequences.shape[1] - width))).logits
        for step, scores in enumerate(out.scores):
            for row in range(len(prompts)):
                if step and out.sequences[row, width + step - 1] in (tok.eos_token_id, tok.pad_token_id):
                    continue  # that row's answer is over
                a, b = scores[row], full[row, width + step - 1]
                assert torch.equal(torch.isinf(a), torch.isinf(b)), (task, step, row)
                assert torch.allclose(a[torch.isfinite(a)], b[torch.isfinite(b)], atol=1e-4), (task, step, row)


def test_every_other_question_training_and_a_loss_see_the_lm(asked):
    tok, model = load(asked)
    enc = tok([render_prompt("reverse_complement", SEQS[0])], return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(model(**enc).logits, model(**enc, answer_with_heads=False).logits)
    ids = tok([render_prompt("tf_binding", SEQS[0]) + " maybe"], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        lm, headed = model(ids, answer_with_heads=False).logits, model(ids).logits
        loss = model(ids, labels=ids).loss
    marker = len(tok(render_prompt("tf_binding", SEQS[0]))["input_ids"]) - 1
    assert not torch.equal(lm[0, marker], headed[0, marker])  # the head's answer begins at " ="
    assert torch.equal(lm[0, marker + 2 :], headed[0, marker + 2 :])  # " maybe" left every label: the LM again
    assert torch.isfinite(loss)  # a loss is the LM's, even on an answer the head rules out
    model.model.embed_tokens.weight.grad = None
    model(ids).logits[0, : marker - 1].sum().backward()  # the LM's positions keep their gradient
    assert model.model.embed_tokens.weight.grad.abs().sum() > 0
    model.train()
    assert torch.equal(model(ids).logits, lm)
    model.eval()


def test_head_questions_need_dna_tokens_and_valid_config_entries(tiny_release, asked, tmp_path):
    from transformers import AutoConfig

    folder = tmp_path / "plain"
    shutil.copytree(tiny_release, folder)  # a 3-mer model that names no DNA tokens
    config = json.loads((folder / "config.json").read_text())
    config["label_heads"] = {"promoter": {"weight": [[0.0]], "bias": [0.0], "rows": 0}}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="names no DNA tokens"):
        add_questions(folder)
    config = AutoConfig.from_pretrained(asked, trust_remote_code=True).to_dict()
    entry = config["label_heads"]["tf_binding"]
    cls = type(AutoConfig.from_pretrained(asked, trust_remote_code=True))
    with pytest.raises(ValueError, match="answer_ids needs one non-empty id list per label"):
        cls(**{**config, "label_heads": {"tf_binding": {**entry, "answer_ids": entry["answer_ids"][:1]}}})
    with pytest.raises(ValueError, match="needs dna_complement_ids"):
        cls(**{**config, "dna_complement_ids": None})
    with pytest.raises(ValueError, match="number_pieces and decimals"):
        cls(**{**config, "value_heads": {"gc_content": {**config["value_heads"]["gc_content"], "decimals": None}}})


def test_generate_asks_one_benchmarks_own_head_by_name(asked, tmp_path):
    from finetune.training.label_heads import write_label_heads

    folder = tmp_path / "model"
    shutil.copytree(asked, folder)
    pooled = json.loads((folder / "config.json").read_text())["label_heads"]["tf_binding"]
    flipped = {"weight": [[-w for w in row] for row in pooled["weight"]], "bias": [-b for b in pooled["bias"]],
               "features": pooled["features"], "rows": 0}  # every answer the other way
    write_label_heads(folder, "tf_binding", {"GUE/tf_9": flipped})
    tok, model = load(folder)
    tok.padding_side = "left"
    t = get_task("tf_binding")
    enc = tok([render_prompt(t, s) for s in SEQS] + [render_prompt("gc_content", SEQS[0])], return_tensors="pt",
              padding=True)

    def written(**kw) -> list[str]:
        out = model.generate(**enc, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id, **kw)
        return [x.strip() for x in tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)]

    own = written(head_benchmark="GUE/tf_9")
    want = [t.labels[i] for i in class_probabilities(model, tok, t, SEQS, benchmark="GUE/tf_9").argmax(1)]
    assert own[:-1] == want == [ask(tok, model, t, s, benchmark="GUE/tf_9").text for s in SEQS]
    pooled_answers = written()
    assert own[:-1] == ["no" if a == "yes" else "yes" for a in pooled_answers[:-1]]  # the flipped head answered
    assert own[-1] == pooled_answers[-1]  # GC content has no such head: its own answers, as without the name
    with pytest.raises(ValueError, match=r"head_benchmark='GUE/tf_8'.*GUE/tf_9 \(tf_binding\)"):
        written(head_benchmark="GUE/tf_8")
