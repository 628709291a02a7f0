"""GenomicLLM model (modeling/): remote-code loading in a fresh process, cache and generation equivalences, gradient
checkpointing, byte-stable save/load, classification head, length limit, release folder. Tiny configs only."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from modeling.configuration_genomicllm import AUTO_MAP, GenomicLLMConfig
from modeling.modeling_genomicllm import (
    GenomicLLMForCausalLM,
    GenomicLLMForSequenceClassification,
    GenomicLLMModel,
)
from modeling.release import ReleaseError, check_release, write_release

ALPHABET = "ACGTN" + "abcdefghijklmnopqrstuvwxyz" + " ,=0123456789.:"
PAD, BOS, EOS, UNK = 0, 1, 2, 3
VOCAB = 4 + len(ALPHABET)  # 49


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def tiny_config(**overrides) -> GenomicLLMConfig:
    kwargs = dict(
        vocab_size=52, hidden_size=32, intermediate_size=64, num_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, initializer_range=0.2,  # wide init: well-separated logits
        pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS,
    )
    kwargs.update(overrides)
    return GenomicLLMConfig(**kwargs)


def tiny_model(cls=GenomicLLMForCausalLM, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    return cls(tiny_config(**overrides)).eval()


def tiny_char_tokenizer():
    """A stand-in for the project tokenizer: one token per character, <pad>/<s>/</s>/<unk>, <s> prepended."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": PAD, "<s>": BOS, "</s>": EOS, "<unk>": UNK}
    for ch in ALPHABET:
        vocab[ch] = len(vocab)
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", BOS)])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )


def random_ids(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(4, VOCAB, (batch, length), generator=g)


def left_pad(rows: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = r
        mask[i, width - len(r):] = 1
    return ids, mask


def hash_folder(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------------------------------


def test_config_fields_alias_and_checks(tmp_path):
    config = tiny_config(num_hidden_layers=3, num_labels=5)
    assert config.num_layers == config.num_hidden_layers == 3
    assert config.num_labels == 5 and config.head_dim == 8 and config.num_key_value_heads == 2
    assert config.auto_map == AUTO_MAP
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "genomicllm" and saved["num_layers"] == 3 and saved["auto_map"] == AUTO_MAP
    assert (tmp_path / "configuration_genomicllm.py").exists()
    assert GenomicLLMConfig.from_pretrained(tmp_path).to_dict() == config.to_dict()
    for bad in (dict(hidden_size=30), dict(num_key_value_heads=3), dict(num_layers=0),
                dict(classifier_pooling="max"), dict(use_segment_embedding=True), dict(dna_token_ids=[99])):
        with pytest.raises(ValueError):
            tiny_config(**bad)


# ---------------------------------------------------------------------------------------------------------------------
# Remote code in a fresh process (the user's path)
# ---------------------------------------------------------------------------------------------------------------------

FRESH_PROCESS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import torch
    from transformers import (AutoConfig, AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification,
                              AutoTokenizer)

    release, cls_dir, out = sys.argv[1:4]
    ids = torch.load(out + "/ids.pt")
    config = AutoConfig.from_pretrained(release, trust_remote_code=True)
    tok = AutoTokenizer.from_pretrained(release)                      # no remote code for the tokenizer
    lm = AutoModelForCausalLM.from_pretrained(release, trust_remote_code=True).eval()
    base = AutoModel.from_pretrained(release, trust_remote_code=True).eval()
    clf = AutoModelForSequenceClassification.from_pretrained(cls_dir, trust_remote_code=True).eval()
    with torch.no_grad():
        gen = lm.generate(**tok(["ACGTACGT, gc content ="], return_tensors="pt"), max_new_tokens=8, do_sample=False)
        torch.save({"lm": lm(ids).logits, "base": base(ids).last_hidden_state,
                    "clf": clf(ids, attention_mask=torch.ones_like(ids)).logits, "gen": gen}, out + "/outputs.pt")
    lm.save_pretrained(out + "/resaved")                              # save -> load -> save through remote code
    json.dump({
        "config": type(config).__module__ + "." + type(config).__name__,
        "classes": [type(m).__module__ + "." + type(m).__name__ for m in (lm, base, clf)],
        "project_imported": any(name == "modeling" or name.startswith("modeling.") for name in sys.modules),
        "tokenizer": type(tok).__name__,
        "inv_freq_ok": bool(torch.isfinite(lm.model.rotary_emb.inv_freq).all()
                            and lm.model.rotary_emb.inv_freq[0] == 1),
    }, open(out + "/report.json", "w"))
    """
)


def test_auto_classes_load_remote_code_in_fresh_process(tmp_path):
    lm = tiny_model()
    tokenizer = tiny_char_tokenizer()
    write_release(lm, tokenizer, tmp_path / "release")
    clf = tiny_model(GenomicLLMForSequenceClassification, seed=1, num_labels=3)
    clf.save_pretrained(tmp_path / "clf")
    ids = random_ids(2, 12)
    torch.save(ids, tmp_path / "ids.pt")
    (tmp_path / "fresh.py").write_text(FRESH_PROCESS_SCRIPT)
    hf_home = tmp_path / "hf_home"
    hf_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "PYTHONPATH"))}
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(hf_home), TRANSFORMERS_VERBOSITY="error", OMP_NUM_THREADS="1")
    run = subprocess.run(
        [sys.executable, str(tmp_path / "fresh.py"), str(tmp_path / "release"), str(tmp_path / "clf"), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())
    # Classes came from the copied remote code (HF_HOME/modules/transformers_modules), not from this repository.
    assert report["config"].startswith("transformers_modules.") and report["config"].endswith(".GenomicLLMConfig")
    assert [c.rsplit(".", 1)[1] for c in report["classes"]] == [
        "GenomicLLMForCausalLM", "GenomicLLMModel", "GenomicLLMForSequenceClassification"]
    assert all(c.startswith("transformers_modules.") for c in report["classes"])
    assert not report["project_imported"] and report["inv_freq_ok"]
    assert any((hf_home / "modules").rglob("modeling_genomicllm.py"))

    release_files = hash_folder(tmp_path / "release")
    resaved = hash_folder(tmp_path / "resaved")
    assert resaved == {k: v for k, v in release_files.items() if not k.startswith("tokenizer")}

    outputs = torch.load(tmp_path / "outputs.pt")
    with torch.no_grad():
        torch.testing.assert_close(outputs["lm"], lm(ids).logits, rtol=0, atol=1e-6)
        torch.testing.assert_close(outputs["base"], lm.model(ids).last_hidden_state, rtol=0, atol=1e-6)
        torch.testing.assert_close(outputs["clf"], clf(ids, attention_mask=torch.ones_like(ids)).logits,
                                   rtol=0, atol=1e-6)
        enc = tokenizer(["ACGTACGT, gc content ="], return_tensors="pt")
        assert torch.equal(outputs["gen"], lm.generate(**enc, max_new_tokens=8, do_sample=False))


# ---------------------------------------------------------------------------------------------------------------------
# KV cache and generation
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_incremental_decoding_matches_full_forward(attn):
    from transformers import DynamicCache

    model = tiny_model()
    model.config._attn_implementation = attn
    ids = random_ids(2, 14)
    with torch.no_grad():
        full = model(ids).logits  # (2, 14, V)
        cache = DynamicCache(config=model.config)
        steps = [model(ids[:, :5], cache=cache, use_cache=True).logits]  # prefill 5
        steps.append(model(ids[:, 5:8], cache=cache, use_cache=True).logits)  # a 3-token chunk on top of the cache
        for t in range(8, 14):  # then one token at a time
            out = model(ids[:, t:t + 1], cache=cache, use_cache=True)
            cache = out.cache
            steps.append(out.logits)
    assert cache.get_seq_length() == 14
    torch.testing.assert_close(torch.cat(steps, dim=1), full, rtol=0, atol=1e-5)


def test_incremental_decoding_left_padded_matches_unpadded():
    from transformers import DynamicCache

    model = tiny_model()
    rows = [random_ids(1, 9, seed=2)[0], random_ids(1, 5, seed=3)[0]]
    ids, mask = left_pad(rows)
    nxt = random_ids(2, 3, seed=4)
    with torch.no_grad():
        cache = DynamicCache(config=model.config)
        model(ids, attention_mask=mask, cache=cache, use_cache=True)
        mask = torch.cat([mask, torch.ones(2, 3, dtype=torch.long)], dim=1)
        padded = model(nxt, attention_mask=mask, cache=cache, use_cache=True).logits  # (2, 3, V)
        for i, row in enumerate(rows):
            alone = model(torch.cat([row, nxt[i]])[None]).logits[0, -3:]
            torch.testing.assert_close(padded[i], alone, rtol=0, atol=1e-5)


def test_left_padded_batch_generation_equals_one_by_one():
    model = tiny_model()
    tokenizer = tiny_char_tokenizer()
    tokenizer.padding_side = "left"
    prompts = ["ACGTTGCA, gc content =", "a =", "TTTT, reverse complement ="]
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])  # the project tokenizer returns these too
    with torch.no_grad():
        together = model.generate(**batch, max_new_tokens=10, do_sample=False)
        new = together[:, batch["input_ids"].shape[1]:]
        for i, prompt in enumerate(prompts):
            single = tokenizer(prompt, return_tensors="pt")
            alone = model.generate(**single, max_new_tokens=10, do_sample=False)[0, single["input_ids"].shape[1]:]
            assert torch.equal(new[i, : len(alone)], alone), (i, new[i], alone)
            assert (new[i, len(alone):] == PAD).all()  # a row that hit </s> early is padded after it


def test_sampling_with_seed_is_reproducible():
    model = tiny_model()
    ids = random_ids(3, 6)
    kwargs = dict(do_sample=True, max_new_tokens=12, temperature=1.0, top_k=20, top_p=0.95, min_new_tokens=12)
    with torch.no_grad():
        torch.manual_seed(123)
        first = model.generate(ids, **kwargs)
        torch.manual_seed(123)
        second = model.generate(ids, **kwargs)
        torch.manual_seed(7)
        other = model.generate(ids, **kwargs)
    assert first.shape == (3, 18) and torch.equal(first, second) and not torch.equal(first, other)
    assert int(first.max()) < model.config.vocab_size


def test_eager_and_sdpa_agree_with_padding_and_gqa():
    model = tiny_model()
    ids, mask = left_pad([random_ids(1, 11, seed=5)[0], random_ids(1, 4, seed=6)[0]])
    with torch.no_grad():
        sdpa = model(ids, attention_mask=mask).logits
        model.config._attn_implementation = "eager"
        eager = model(ids, attention_mask=mask).logits
    assert torch.isfinite(sdpa).all()
    real = mask.bool()
    torch.testing.assert_close(sdpa[real], eager[real], rtol=0, atol=1e-5)


# ---------------------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------------------


def test_gradient_checkpointing_same_loss_and_grads():
    model = tiny_model().train()
    ids = random_ids(2, 16)
    labels = ids.clone()
    labels[:, :4] = -100

    def loss_and_grads():
        model.zero_grad(set_to_none=True)
        loss = model(ids, labels=labels).loss
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}

    plain_loss, plain_grads = loss_and_grads()
    model.activation_checkpointing_enable()
    assert all(layer.gradient_checkpointing for layer in model.model.layers)
    ckpt_loss, ckpt_grads = loss_and_grads()
    torch.testing.assert_close(ckpt_loss, plain_loss, rtol=0, atol=1e-6)
    assert plain_grads.keys() == ckpt_grads.keys()
    for name in plain_grads:
        torch.testing.assert_close(ckpt_grads[name], plain_grads[name], rtol=1e-5, atol=1e-7, msg=name)


# ---------------------------------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [GenomicLLMForCausalLM, GenomicLLMForSequenceClassification, GenomicLLMModel])
def test_save_load_save_is_byte_stable(tmp_path, cls):
    model = tiny_model(cls, use_segment_embedding=True, dna_token_ids=[4, 5, 6, 7, 8])
    model.save_pretrained(tmp_path / "a")
    reloaded = cls.from_pretrained(tmp_path / "a").eval()
    reloaded.save_pretrained(tmp_path / "b")
    first, second = hash_folder(tmp_path / "a"), hash_folder(tmp_path / "b")
    assert first == second
    assert "model.safetensors" in first and not any(n.endswith((".bin", ".pt", ".pkl")) for n in first)
    assert {"configuration_genomicllm.py", "modeling_genomicllm.py"} <= first.keys()
    # Non-persistent buffers are rebuilt after meta-device loading, and outputs match.
    assert torch.equal(reloaded.base_model.segment_embed.is_dna, model.base_model.segment_embed.is_dna)
    assert torch.equal(reloaded.base_model.rotary_emb.inv_freq, model.base_model.rotary_emb.inv_freq)
    ids = random_ids(2, 7)
    with torch.no_grad():
        a, b = model(ids), reloaded(ids)
    key = "last_hidden_state" if cls is GenomicLLMModel else "logits"
    assert torch.equal(a[key], b[key])
    if cls is GenomicLLMForCausalLM:  # tied: one tensor on disk, one parameter in memory
        assert "lm_head.weight" not in load_file(tmp_path / "a" / "model.safetensors")
        assert reloaded.lm_head.weight is reloaded.model.embed_tokens.weight


def test_segment_embedding_marks_dna_tokens():
    model = tiny_model(GenomicLLMModel, use_segment_embedding=True, dna_token_ids=[4, 5, 6, 7])
    assert model.segment_embed.is_dna.tolist()[:10] == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]
    ids = torch.tensor([[1, 4, 5, 20]])
    with torch.no_grad():
        base = model(ids).last_hidden_state
        model.segment_embed.embedding.weight[1] += 1.0  # move the DNA vector: only DNA positions' inputs change
        moved = model(ids).last_hidden_state
    assert torch.equal(base[0, 0], moved[0, 0]) and not torch.allclose(base[0, 1], moved[0, 1])


# ---------------------------------------------------------------------------------------------------------------------
# Heads
# ---------------------------------------------------------------------------------------------------------------------


def test_classification_uses_last_real_token():
    model = tiny_model(GenomicLLMForSequenceClassification, num_labels=3)
    rows = [random_ids(1, 8, seed=8)[0], random_ids(1, 3, seed=9)[0]]
    left_ids, left_mask = left_pad(rows)
    right_ids = torch.full_like(left_ids, PAD)
    for i, r in enumerate(rows):
        right_ids[i, : len(r)] = r
    with torch.no_grad():
        alone = torch.cat([model(r[None]).logits for r in rows])
        left = model(left_ids, attention_mask=left_mask).logits
        right_by_mask = model(right_ids, attention_mask=(right_ids != PAD).long()).logits
        right_by_pad_id = model(right_ids).logits  # no mask: real tokens are the non-pad ids
        hidden = model.model(rows[1][None]).last_hidden_state
    assert left.shape == (2, 3)
    for got in (left, right_by_mask, right_by_pad_id):
        torch.testing.assert_close(got, alone, rtol=0, atol=1e-5)
    torch.testing.assert_close(alone[1], model.score(hidden[0, -1]), rtol=0, atol=1e-6)
    out = model(left_ids, attention_mask=left_mask, labels=torch.tensor([0, 2]))
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)


def test_classification_mean_pooling_and_pool_helper():
    model = tiny_model(GenomicLLMForSequenceClassification, num_labels=2, classifier_pooling="mean")
    rows = [random_ids(1, 6, seed=10)[0], random_ids(1, 2, seed=11)[0]]
    ids, mask = left_pad(rows)
    with torch.no_grad():
        hidden = model.model(ids, attention_mask=mask).last_hidden_state
        pooled = GenomicLLMModel.pool_hidden_states(hidden, mask)
        alone = GenomicLLMModel.pool_hidden_states(model.model(rows[1][None]).last_hidden_state)
        torch.testing.assert_close(pooled[1], alone[0], rtol=0, atol=1e-5)
        torch.testing.assert_close(pooled[0], hidden[0, mask[0].bool()].mean(0), rtol=0, atol=1e-6)
        torch.testing.assert_close(model(ids, attention_mask=mask).logits, model.score(pooled), rtol=0, atol=1e-6)
    assert GenomicLLMModel.pool_hidden_states(hidden, torch.zeros_like(mask)).abs().sum() == 0


def test_too_long_input_is_rejected_not_truncated():
    model = tiny_model()  # max_position_embeddings = 64
    with torch.no_grad():
        assert model(random_ids(1, 64)).logits.shape[1] == 64
        with pytest.raises(ValueError, match="max_position_embeddings=64"):
            model(random_ids(1, 65))
        with pytest.raises(ValueError, match="max_position_embeddings=64"):
            model.generate(random_ids(1, 60), max_new_tokens=10, do_sample=False, min_new_tokens=10)
        with pytest.raises(ValueError, match="max_position_embeddings"):
            tiny_model(GenomicLLMForSequenceClassification)(random_ids(1, 100))


# ---------------------------------------------------------------------------------------------------------------------
# Release folder
# ---------------------------------------------------------------------------------------------------------------------


def test_release_folder_contents_and_refusals(tmp_path):
    model, tokenizer = tiny_model(), tiny_char_tokenizer()
    manifest = write_release(model, tokenizer, tmp_path / "rel", readme="# GenomicLLM tiny\n")
    assert set(manifest) == {
        "README.md", "config.json", "generation_config.json", "model.safetensors", "configuration_genomicllm.py",
        "modeling_genomicllm.py", "positions_genomicllm.py", "heads_genomicllm.py", "kmers_genomicllm.py",
        "tokenizer.json",
        "tokenizer_config.json"}
    assert manifest == hash_folder(tmp_path / "rel") == check_release(tmp_path / "rel")
    assert json.loads((tmp_path / "rel" / "tokenizer_config.json").read_text())["model_max_length"] == 64
    assert json.loads((tmp_path / "rel" / "generation_config.json").read_text())["eos_token_id"] == EOS
    assert not list(tmp_path.glob(".rel.staging-*"))

    with pytest.raises(ReleaseError, match="not empty"):
        write_release(model, tokenizer, tmp_path / "rel")
    assert write_release(model, tokenizer, tmp_path / "rel", overwrite=True).keys() == manifest.keys() - {"README.md"}

    with (tmp_path / "rel" / "model.safetensors").open("ab") as f:  # weights past the repository's 25 MB
        f.truncate(25_000_001)
    with pytest.raises(ReleaseError, match="over the 25.0 MB"):
        check_release(tmp_path / "rel")
    (tmp_path / "rel" / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(ReleaseError, match="pickle"):
        check_release(tmp_path / "rel")
    with pytest.raises(ReleaseError, match="eos_token_id"):
        write_release(tiny_model(eos_token_id=5), tokenizer, tmp_path / "bad")
    with pytest.raises(ReleaseError, match="vocab_size"):
        write_release(tiny_model(vocab_size=16), tokenizer, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
