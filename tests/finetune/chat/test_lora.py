"""The chat LoRA (issue 6): conversation data invariants, DNA tokens, chat template rendering, training (resumable),
adapter save/load/merge round trips and the evaluation's reading of replies. A tiny random Llama with a tiny byte-level
BPE tokenizer stands in for SmolLM2 (built here, so CI never needs the real one); the real GGUF is exercised by the
slow test at the end (GENOMICLLM_SLOW=1)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from finetune.chat import chat_data, lora, lora_eval
from finetune.chat import chat_templates as T
from finetune.chat.lora_tokens import DNA_TOKENS, add_dna_tokens
from tasks.grammar import Unparseable

CORPUS_TASKS = ["gc_content", "reverse_complement", "nt2aa", "splice_site", "gene_biotype", "reading_comprehension",
                "gene_name"]
# SmolLM2-135M-Instruct's chat template (ChatML with a default system prompt)
CHATML = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
          "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


@pytest.fixture(scope="session")
def corpus_root(small_corpus) -> Path:
    return small_corpus.parent


@pytest.fixture(scope="session")
def train_convs(corpus_root):
    return chat_data.build("train", 12, 0, corpus_root, tasks=CORPUS_TASKS)


@pytest.fixture(scope="session")
def eval_convs(corpus_root):
    return chat_data.build("validation", 12, 0, corpus_root, tasks=CORPUS_TASKS)  # the small build has no test split


@pytest.fixture(scope="session")
def tiny_base(tiny_smollm, train_convs) -> Path:
    """A SmolLM2-shaped stand-in with ChatML and 8 spare embedding rows."""
    texts = [m["content"] for c in train_convs for m in c.messages]
    return tiny_smollm("tiny_smollm", texts, 600, CHATML, extra_rows=8)


def tiny_cfg(tiny_base, corpus_root, **kw) -> lora.LoraTrainConfig:
    values = dict(base=str(tiny_base), datasets=str(corpus_root), tasks=CORPUS_TASKS, per_task=4, r=4, alpha=8,
                  dropout=0.0, max_len=4096, tokens_per_batch=1500, microbatch_tokens=3000, steps=3, warmup_steps=1,
                  checkpoint_every=2, lr=1e-2)
    return lora.LoraTrainConfig(**{**values, **kw})


# --------------------------------------------------------------------------------------------- conversation data
def test_replies_hold_the_exact_value(train_convs, eval_convs, corpus_root):
    singles = 0
    for c in train_convs + eval_convs:
        assert c.messages[-1]["role"] == "assistant"
        reply = c.messages[-1]["content"]
        if c.kind in ("single", "follow_up"):
            value = chat_data.parse_reply(c.task, reply)
            assert not isinstance(value, Unparseable), reply
            assert f"**{c.gold}**" in reply or f"**{c.gold.capitalize()}**" in reply
        if c.kind == "single":
            singles += 1
            assert c.gold == chat_data.chat_value(c.task, c.simple_answer)
    assert singles == 2 * 12 * len(CORPUS_TASKS)
    # the gold values are the records' own answers (spot-check one task against the parquet)
    recs = chat_data.load_records("gc_content", "validation", corpus_root)
    assert {c.gold for c in eval_convs if c.task == "gc_content" and c.kind == "single"} <= set(recs["answer"])


def test_follow_ups_are_answered_by_rule(train_convs):
    from Bio.Seq import Seq

    ups = [c for c in train_convs if c.kind == "follow_up"]
    assert ups, "no follow-up conversations generated"
    for c in ups:
        assert len(c.messages) == 5 and c.task != c.extra["first_task"]
        seq = re.search(r"[ACGT]{12,}", chat_data.normalize_dna(c.messages[1]["content"])).group(0)
        if c.task == "reverse_complement":
            assert c.gold == str(Seq(seq).reverse_complement())


def test_held_out_templates_never_in_training(train_convs, eval_convs):
    def fixed_parts(template: str) -> list[str]:
        return [p for p in re.split(r"\{[a-z]+\}", template) if len(p.strip()) >= 12]

    held_out = {t for table in [*T.ASK.values(), *T.FOLLOW_UP.values(), T.REFUSE_ASK, T.CLARIFY_ASK]
                for t in T.eval_templates(table)}
    assert all(c.template not in held_out for c in train_convs)
    assert all(c.template in held_out for c in eval_convs)
    train_text = "\n".join(m["content"] for c in train_convs for m in c.messages if m["role"] == "user")
    for template in held_out:
        for part in fixed_parts(template):
            assert part not in train_text, (template, part)


def test_refusals_name_the_invalid_character(corpus_root):
    convs = [c for c in chat_data.build("train", 40, 1, corpus_root, tasks=["gc_content"]) if c.kind == "refuse"]
    assert convs
    for c in convs:
        assert c.gold not in "ACGTNacgtn" and not c.gold.isspace()
        assert c.gold in c.messages[1]["content"] and f"**{c.gold}**" in c.messages[-1]["content"]


def test_sequence_styles_normalise_back(corpus_root):
    rng = np.random.default_rng(0)
    seq = chat_data.load_records("gc_content", "train", corpus_root)["sequence"].iloc[0]
    for style in set(chat_data.STYLES):
        text = f"What's the GC content of this?\n{chat_data.format_sequence(seq, style, rng)}\nthanks"
        assert seq in chat_data.normalize_dna(text), style


def test_normalize_dna_leaves_prose_alone():
    prose = "a cat sat on GATA1 and TATA boxes; act at a gate"
    assert chat_data.normalize_dna(prose) == prose
    assert chat_data.normalize_dna("seq: ACGTACGTAC GTACGTACGT AC a promoter?") == "seq: ACGTACGTACGTACGTACGTAC a promoter?"
    assert chat_data.normalize_dna("acgtacgtac gtacgtacgt a promoter") == "ACGTACGTACGTACGTACGT a promoter"
    assert chat_data.normalize_dna(">q\nacgtacgtacgt\nacg\nthanks") == ">q\nACGTACGTACGTACG\nthanks"
    assert chat_data.normalize_dna("acgtacgtacgtacg\ncan you?") == "ACGTACGTACGTACG\ncan you?"
    # a run cut short at a word: the next run is read in its own context (the word after it stays a word)
    assert chat_data.normalize_dna("acgtacgtacgtacg a\nacgtacgtacgtac\ncat sat").endswith("\ncat sat")
    assert chat_data.first_invalid(">x\nACGT\nACXT") == "X"
    assert chat_data.first_invalid("acgt acgt") is None


def test_parse_reply_is_strict():
    assert isinstance(chat_data.parse_reply("gc_content", "about 0.5"), Unparseable)
    assert chat_data.parse_reply("gc_content", "The GC content is **0.512**.") == pytest.approx(0.512)
    assert chat_data.parse_reply("promoter", "**Yes**, it is.") == "yes"
    assert isinstance(chat_data.parse_reply("promoter", "**maybe**"), Unparseable)
    assert chat_data.parse_reply("nt2aa", "It encodes **MA***.") == "MA*"
    assert chat_data.parse_reply("reverse_complement", "**acgt acgtac**") == "ACGTACGTAC"


def test_lenient_reading_of_free_replies():
    assert lora_eval.lenient_value("gc_content", "It is about 45% GC.") == pytest.approx(0.45)
    assert lora_eval.lenient_value("promoter", "Yes, this is a promoter") == "yes"
    assert isinstance(lora_eval.lenient_value("promoter", "yes and no"), Unparseable)
    assert lora_eval.lenient_value("reverse", "Reversed: acgtacgtacgt.") == "ACGTACGTACGT"


def test_gold_replies_score_perfectly(eval_convs):
    """The harness end to end without a model: each conversation's own gold reply must score as right."""
    replies = {"gold": [c.messages[-1]["content"] for c in eval_convs]}
    table = lora_eval.tabulate(eval_convs, replies, None)
    for group, row in table.items():
        m = row["metric"]
        best = 0.0 if m == "mae" else 1.0
        assert row["gold"][m] == pytest.approx(best), (group, row)
    text = lora_eval.markdown(table, ["gold"])
    assert "| gc_content | mae |" in text
    wrong = lora_eval.tabulate(eval_convs, {"gold": ["I don't know."] * len(eval_convs)}, None)
    assert wrong["gc_content"]["gold"]["unparseable_rate"] == 1.0


# ----------------------------------------------------------------------------------- tokenizer and chat template
def test_dna_tokens_cut_runs_into_3mers(tiny_base):
    from finetune.chat.smollm_base import load_base

    tok, model = load_base(tiny_base)
    pieces = tok("ACG", add_special_tokens=False)["input_ids"]
    before = model.get_input_embeddings().weight[pieces].mean(0).clone()
    ids = add_dna_tokens(tok, model)
    assert len(ids) == 64 and model.get_input_embeddings().num_embeddings >= len(tok)
    enc = tok("ACGTTGCAAGGCTTACGATCGATC", add_special_tokens=False)["input_ids"]
    assert enc == tok.convert_tokens_to_ids(["ACG", "TTG", "CAA", "GGC", "TTA", "CGA", "TCG", "ATC"])
    assert torch.allclose(model.get_input_embeddings().weight[ids[DNA_TOKENS.index("ACG")]], before)
    assert tok.decode(enc) == "ACGTTGCAAGGCTTACGATCGATC"


def test_chat_template_and_loss_mask(tiny_base, train_convs):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base)
    conv = next(c for c in train_convs if c.kind == "follow_up")
    text = tok.apply_chat_template(chat_data.prepare(conv.messages), tokenize=False)
    assert text.startswith(f"<|im_start|>system\n{T.SYSTEM}<|im_end|>\n<|im_start|>user\n")
    prompt = tok.apply_chat_template(conv.messages[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_end|>\n<|im_start|>assistant\n")
    ids, w = lora.encode(tok, conv.messages)
    target = tok.decode(ids[w == 1])
    expected = "".join(m["content"] + "<|im_end|>" for m in chat_data.prepare(conv.messages) if m["role"] == "assistant")
    assert target == expected


# ----------------------------------------------------------------------------------------- training and adapter
@pytest.fixture(scope="session")
def tiny_adapter(tiny_base, corpus_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("lora_run")
    adapter = lora.train(tiny_cfg(tiny_base, corpus_root), out, progress=False)
    return out, adapter


def test_training_writes_a_small_loadable_adapter(tiny_adapter, tiny_base):
    from safetensors import safe_open

    out, adapter = tiny_adapter
    rows = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3] and all(np.isfinite(r["loss"]) for r in rows)
    assert (out / "loss.png").stat().st_size > 0
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == lora.BASE_HUB_ID and cfg["peft_type"] == "LORA"
    with safe_open(adapter / "adapter_model.safetensors", "pt") as f:
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    assert not any(s[0] >= 600 for s in shapes.values()), "a full embedding layer was saved"
    assert any(s[0] == 64 for k, s in shapes.items() if "token" in k), shapes  # the 64 DNA rows
    assert (adapter / "tokenizer.json").is_file() and (adapter / "chat_template.jinja").is_file()


def test_adapter_round_trip_and_merge(tiny_adapter, tiny_base):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, adapter = tiny_adapter
    tok, model = lora.load_chat_model(adapter, tiny_base)
    x = tok("ACGTTGCAAGGC, GC content?", return_tensors="pt")
    ref = model(**x).logits
    # the documented user path: the adapter's tokenizer, the base grown to it, PeftModel.from_pretrained
    user_tok = AutoTokenizer.from_pretrained(adapter)
    base = AutoModelForCausalLM.from_pretrained(tiny_base)
    base.resize_token_embeddings(len(user_tok), mean_resizing=False)
    user = PeftModel.from_pretrained(base, adapter).eval()
    assert torch.allclose(user(**x).logits, ref, atol=1e-5)
    _, merged = lora.load_chat_model(adapter, tiny_base, merge=True)
    assert not isinstance(merged, PeftModel)
    assert torch.allclose(merged(**x).logits, ref, atol=1e-4)
    base_only = AutoModelForCausalLM.from_pretrained(tiny_base)
    base_only.resize_token_embeddings(len(user_tok), mean_resizing=False)
    assert not torch.allclose(base_only(**x).logits, ref, atol=1e-3), "the adapter changed nothing"


def test_an_interrupted_checkpoint_is_not_resumed_from(tmp_path):
    from finetune.training.train import latest_checkpoint

    for name in ("step-2", "step-10", "step-12.tmp"):  # step-12 was being written when the run stopped
        (tmp_path / "checkpoints" / name).mkdir(parents=True)
    assert latest_checkpoint(tmp_path) == (tmp_path / "checkpoints" / "step-10", 10)


def test_resume_gives_the_same_adapter(tiny_adapter, tiny_base, corpus_root, tmp_path):
    """Stopped after the step-2 checkpoint and rerun: the log continues and the adapter matches the straight run."""
    from safetensors.torch import load_file

    out, adapter = tiny_adapter
    cfg = tiny_cfg(tiny_base, corpus_root)
    lora.train(lora.LoraTrainConfig(**{**asdict(cfg), "steps": 2}), tmp_path, progress=False)
    again = lora.train(cfg, tmp_path, progress=False)  # resumes from checkpoints/step-2
    rows = [json.loads(x)["step"] for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert rows == [1, 2, 3]
    a, b = load_file(adapter / "adapter_model.safetensors"), load_file(again / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_chat_replies_and_eval_table_with_a_model(tiny_adapter, tiny_base, eval_convs):
    _, adapter = tiny_adapter
    tok, model = lora.load_chat_model(adapter, tiny_base)
    convs = eval_convs[:6]
    replies = lora_eval.run_chat_model("adapter", model, tok, convs, normalise=True)
    assert len(replies) == len(convs) and all(isinstance(r, str) for r in replies)
    table = lora_eval.tabulate(convs, {"adapter": replies}, None)
    assert sum(row["n"] for row in table.values()) == len(convs)


def test_bad_config_and_missing_data_are_named(tmp_path, tiny_base):
    (tmp_path / "c.json").write_text(json.dumps({"rank": 8}))
    with pytest.raises(ValueError, match="rank"):
        lora.LoraTrainConfig.load(tmp_path / "c.json", {})
    with pytest.raises(FileNotFoundError, match="make datasets"):
        chat_data.load_records("promoter", "train", tmp_path)
    from transformers import AutoTokenizer

    with pytest.raises(ValueError, match="no DNA 3-mer tokens"):
        lora.load_chat_model(tiny_base, tiny_base)  # the base's own tokenizer is not the adapter's
    del AutoTokenizer


# ------------------------------------------------------------------------------------- the real base (slow)
@pytest.mark.skipif(os.environ.get("GENOMICLLM_SLOW") != "1", reason="set GENOMICLLM_SLOW=1 (loads the real SmolLM2)")
def test_real_smollm2_with_the_shipped_adapter():
    from hub.lora_card import SHIPPED

    if not (SHIPPED / "adapter_model.safetensors").is_file():
        pytest.skip(f"{SHIPPED} not shipped yet: run `make lora`")
    tok, model = lora.load_chat_model(SHIPPED)
    msgs = chat_data.prepare([{"role": "system", "content": T.SYSTEM},
                              {"role": "user", "content": "What's the GC content of ACGTACGTGGCCGGCCATATAT?"}])
    reply = lora_eval.chat_replies(model, tok, [msgs], [24])[0]
    assert not isinstance(chat_data.parse_reply("gc_content", reply), Unparseable), reply
