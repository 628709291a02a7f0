"""The hybrid tokenizer: the DNA-run rule, exact round trip, reload without/with remote code, batching, overflow,
windowing, sequence normalisation, chat template, and the benchmark candidates.

Everything is built here from real rows (a small GRCh38 corpus build and a few GUE configs), never from `build/`.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from tokenizer import build as tk_build
from tokenizer import candidates, corpus, fuzz, rule, training
from tokenizer.tokenization_genomicllm import (
    GenomicLLMTokenizerFast,
    SequenceFormatError,
    SequenceTooLongError,
    find_dna_spans,
    normalize_sequence,
    window_sequence,
)

HYBRIDS = ["char", "kmer3", "kmer6", "dnabpe1024"]


# ---------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def texts(datasets_root) -> tuple[list[str], list[str]]:
    return corpus.fit_and_eval(datasets_root, n_fit=1500, n_eval=600)


@pytest.fixture(scope="module")
def prepared(texts):
    return candidates.prepare(texts[0], text_vocab=1024)


@pytest.fixture(scope="module")
def toks(prepared) -> dict:
    return {name: candidates.build_candidate(name, prepared=prepared, cls=GenomicLLMTokenizerFast) for name in HYBRIDS}


@pytest.fixture(scope="module")
def saved(toks, tmp_path_factory) -> Path:
    return tk_build.save(toks["kmer3"], tmp_path_factory.mktemp("tok") / "tokenizer")


@pytest.fixture(scope="module")
def reloaded(saved):
    return AutoTokenizer.from_pretrained(saved)  # plain fast tokenizer, no remote code


# ---------------------------------------------------------------------------------------------------- the rule
SPAN_CASES = [
    ("the CAT sat", []),
    ("GATTACA", []),  # 7 letters: text
    ("GATTACAA", [(0, 8)]),  # 8: a run
    ("GATA1 and TATA box", []),
    ("ACGTACGT1", []),  # touches a digit
    ("ACGTACGTAla", []),  # touches a letter outside the alphabet
    ("x=ACGTACGTAC, y", [(2, 12)]),
    ("5'-TTAGGGTTAGGG-3'", [(3, 15)]),
    ("acgtacgt", [(0, 8)]),  # soft-masked
    ("ACGTacgtNNUU", [(0, 12)]),
    ("ACGTRACGTA", []),  # IUPAC code in a short word: text
    ("ACGTRACGTACGTACGTACGT", [(0, 21)]),  # IUPAC code inside a >= 20 run
    ("MACMARCKS", []),
    ("éACGTACGTAC", []),  # accented letter touches it
    ("ACGTACGTAC\u0301", []),  # combining mark touches it
    ("日本 ACGTACGTAC\n", [(3, 13)]),
]


@pytest.mark.parametrize("text,spans", SPAN_CASES)
def test_dna_run_rule(text, spans):
    assert find_dna_spans(text, rule.RUN_PATTERN) == spans


def dna_and_text_tokens(tok, text):
    """(tokens inside DNA spans, tokens outside), each token with its character span."""
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    spans = tok.find_dna_spans(text)
    inside, outside = [], []
    for token, (a, b) in zip(tok.convert_ids_to_tokens(enc["input_ids"]), enc["offset_mapping"]):
        hit = [s for s in spans if s[0] < b and a < s[1]]
        assert not hit or (hit[0][0] <= a and b <= hit[0][1]), f"token {token!r} crosses a DNA boundary in {text!r}"
        (inside if hit else outside).append(token)
    return inside, outside


def test_dna_chunking_per_scheme(toks):
    text = "seq=ACGTACGTACGTAC, the CAT"
    assert dna_and_text_tokens(toks["char"], text)[0] == list("ACGTACGTACGTAC")
    assert dna_and_text_tokens(toks["kmer3"], text)[0] == ["ACG", "TAC", "GTA", "CGT", "A", "C"]
    assert dna_and_text_tokens(toks["kmer6"], text)[0] == ["ACGTAC", "GTACGT", "A", "C"]
    # lower case, N and U inside a run: one token per letter, case kept, k-mer frame restarts after them
    expected = ["ACG", "T", "T", "a", "c", "g", "N", "ACG", "TAC"]
    assert dna_and_text_tokens(toks["kmer3"], "ACGTTacgNACGTAC")[0] == expected


@pytest.mark.parametrize("name", HYBRIDS)
def test_text_words_never_take_dna_tokens(toks, name):
    tok = toks[name]
    for word in ("CAT", "GATTACA", "GATA1", "ACGTACGTAla"):
        text = f"the {word} binds"
        inside, outside = dna_and_text_tokens(tok, text)
        assert inside == [] and "".join(outside) == text


@pytest.mark.parametrize("name", HYBRIDS)
def test_dna_tokens_are_the_same_in_context_and_alone(toks, texts, name):
    """What the benchmark's bases/token relies on: a run is tokenized identically wherever it stands."""
    tok = toks[name]
    for text in texts[1][:150]:
        for a, b in tok.find_dna_spans(text):
            alone = tok.tokenize(text[a:b])
            inside, _ = dna_and_text_tokens(tok, text[max(0, a - 3):b + 3])
            assert inside == alone


def test_dnabpe_cuts_dna_with_dna_merges_only(toks, prepared):
    """The text merges cannot fire on an upper-case stretch: tokens equal the DNA-BPE alone."""
    from tokenizers import Tokenizer, models

    tokens, merges = training.train_dna_bpe(prepared.stretches, 1024)
    alone = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges, ignore_merges=True))
    for stretch in prepared.stretches[:200]:
        assert toks["dnabpe1024"].tokenize(stretch) == alone.encode(stretch).tokens


def test_bases_per_token_goal(toks, texts):
    dna = [t[a:b] for t in texts[1] for a, b in find_dna_spans(t, rule.RUN_PATTERN)]
    n = sum(map(len, dna))
    per_token = {name: n / sum(len(toks[name].tokenize(s)) for s in dna) for name in HYBRIDS}
    assert per_token["char"] == 1.0
    assert 2.8 < per_token["kmer3"] <= 3.0 and 5.0 < per_token["kmer6"] <= 6.0
    assert per_token["dnabpe1024"] > 2.0


# ---------------------------------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("name", HYBRIDS)
def test_round_trip_on_corpus_rows(toks, texts, name):
    tok = toks[name]
    rows = texts[0][:300] + texts[1]
    enc = tok(rows)["input_ids"]
    assert all(ids[0] == tok.bos_token_id for ids in enc)
    assert tok.batch_decode(enc, skip_special_tokens=True) == rows


@pytest.mark.parametrize("name", HYBRIDS)
def test_round_trip_on_the_fuzz_set(toks, name):
    tok = toks[name]
    strings = fuzz.fuzz_strings(400, seed=1) + ["<0x41>", "\x00", "  lead", "trail  ", "\t\n\r\n", "ACGT" * 50 + "\n"]
    ids = tok(strings, add_special_tokens=False)["input_ids"]
    assert tok.batch_decode(ids, skip_special_tokens=False) == strings


segments = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),  # any Unicode but lone surrogates
    st.text("ACGTNacgtnURYKMSWBDHV", min_size=1, max_size=60),
    st.sampled_from([" ", "  ", "\n", "\t", ", ", " = ", "MetPheTer", "CAT", "GATA1", "0.544", "symbol=TP53", "<s>"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(segments, max_size=8).map("".join))
def test_round_trip_property(reloaded, text):
    ids = reloaded(text, add_special_tokens=False)["input_ids"]
    assert reloaded.decode(ids, skip_special_tokens=False) == text
    # the usual form: bos added, special tokens skipped (exact whenever the text holds no special-token string)
    if not any(s in text for s in reloaded.all_special_tokens):
        assert reloaded.decode(reloaded(text)["input_ids"], skip_special_tokens=True) == text


# ---------------------------------------------------------------------------------------------------- reload
LOADER = textwrap.dedent("""
    import json, sys
    from transformers import AutoTokenizer
    path, trust = sys.argv[1], sys.argv[2] == "1"
    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=True) if trust else AutoTokenizer.from_pretrained(path)
    texts = json.loads(sys.argv[3])
    out = {"cls": type(tok).__name__, "ids": tok(texts)["input_ids"],
           "pair": tok(texts[0], " 0.544")["input_ids"],
           "chat": tok.apply_chat_template([{"role": "user", "content": texts[0]}], add_generation_prompt=True,
                                           return_dict=True)["input_ids"],
           "spans": tok.find_dna_spans(texts[0]) if hasattr(tok, "find_dna_spans") else None}
    print(json.dumps(out))
""")


@pytest.mark.parametrize("trust", [False, True])
def test_reload_in_fresh_process_offline(saved, toks, texts, tmp_path, trust):
    assert {"tokenizer.json", "tokenizer_config.json", "tokenization_genomicllm.py"} <= set(os.listdir(saved))
    config = json.loads((saved / "tokenizer_config.json").read_text())
    assert config["auto_map"] == {"AutoTokenizer": [None, "tokenization_genomicllm.GenomicLLMTokenizerFast"]}
    sample = [texts[1][0], "the CAT ACGTACGTAC\tx  y", "MetPheTer </s>"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": ""}
    run = subprocess.run([sys.executable, "-c", LOADER, str(saved), "1" if trust else "0", json.dumps(sample)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    tok = toks["kmer3"]
    assert got["ids"] == tok(sample)["input_ids"]  # the same pipeline both ways
    assert got["pair"] == tok(sample[0], " 0.544")["input_ids"] and got["pair"][-1] == tok.eos_token_id
    assert got["chat"] == tok.apply_chat_template([{"role": "user", "content": sample[0]}], add_generation_prompt=True,
                                                  return_dict=True)["input_ids"]
    if trust:
        assert got["cls"] == "GenomicLLMTokenizerFast"
        assert got["spans"] == [list(s) for s in tok.find_dna_spans(sample[0])]
    else:
        assert got["cls"] in ("TokenizersBackend", "PreTrainedTokenizerFast") and got["spans"] is None


def test_reloaded_plain_tokenizer_is_the_saved_one(saved, reloaded, toks, texts):
    assert isinstance(reloaded, PreTrainedTokenizerFast) and not isinstance(reloaded, GenomicLLMTokenizerFast)
    assert reloaded(texts[1])["input_ids"] == toks["kmer3"](texts[1])["input_ids"]
    assert (reloaded.pad_token_id, reloaded.bos_token_id, reloaded.eos_token_id) == (0, 1, 2)
    assert reloaded.model_max_length == 1024 and reloaded.chat_template


# ---------------------------------------------------------------------------------------------------- training use
def test_pair_encoding_is_the_training_text_with_an_answer_mask(reloaded, texts):
    for text in texts[0][:200]:
        prompt, answer = text.split(" = ", 1)
        prompt += " ="
        pair = reloaded(prompt, " " + answer, return_token_type_ids=True)
        assert pair["input_ids"] == reloaded(prompt + " " + answer + "</s>")["input_ids"]
        n_answer = len(reloaded(" " + answer, add_special_tokens=False)["input_ids"]) + 1  # + </s>
        assert pair["token_type_ids"] == [0] * (len(pair["input_ids"]) - n_answer) + [1] * n_answer


def test_answers_apart_cuts_an_answer_as_its_value_in_the_prompt(toks, texts):
    from tokenizer import pipeline

    tok = toks["char"]
    plain = tok.backend_tokenizer.pre_tokenizer
    tok.backend_tokenizer.pre_tokenizer = pipeline.pre_tokenizer("char", answers_apart=True)
    try:
        for text in texts[0][:200]:  # the pair encoding still equals the whole text's
            prompt, answer = text.split(" = ", 1)
            pair = tok(prompt + " =", " " + answer)["input_ids"]
            assert pair == tok(prompt + " = " + answer + "</s>")["input_ids"]
            assert tok.decode(pair, skip_special_tokens=True) == prompt + " = " + answer
        record = "symbol=RP5-1103G7.10, end=249498, strand=+, biotype=lncRNA, ACGTTGCAAC, what is the {} ="
        for key, value in (("symbol", "RP5-1103G7.10"), ("end", "249498"), ("strand", "+"), ("biotype", "lncRNA")):
            ids = tok(record.format(key), " " + value, add_special_tokens=False)["input_ids"]
            answer = tok.convert_ids_to_tokens(ids[-len(tok(" " + value, add_special_tokens=False)["input_ids"]):])
            in_prompt = tok.convert_ids_to_tokens(tok(record.format(key), add_special_tokens=False)["input_ids"])
            assert answer[0] == " " and "".join(answer[1:]) == value
            start = in_prompt.index(answer[1], in_prompt.index("=", in_prompt.index(key if key == "symbol" else
                                                                                   " " + key)))
            assert in_prompt[start:start + len(answer) - 1] == answer[1:]  # token for token
    finally:
        tok.backend_tokenizer.pre_tokenizer = plain


@pytest.mark.parametrize("side", ["right", "left"])
def test_batch_padding_and_attention_mask(reloaded, texts, side):
    batch = texts[1][:16]
    lengths = [len(ids) for ids in reloaded(batch)["input_ids"]]
    enc = reloaded(batch, padding=True, padding_side=side)
    width = max(lengths)
    assert min(lengths) < width  # the batch really needs padding
    for ids, mask, n in zip(enc["input_ids"], enc["attention_mask"], lengths):
        assert len(ids) == len(mask) == width and sum(mask) == n
        pads = [i for i, m in enumerate(mask) if m == 0]
        assert all(ids[i] == reloaded.pad_token_id for i in pads)
        assert pads == (list(range(n, width)) if side == "right" else list(range(width - n)))


# ---------------------------------------------------------------------------------------------------- overflow
def test_overflow_raises_with_the_count(toks):
    tok = toks["kmer3"]
    long_dna = "ACGT" * 1500  # 6000 nt -> 2000 3-mers
    n = tok.count_tokens(long_dna)
    assert n == 2001  # bos + 2000
    with pytest.raises(SequenceTooLongError) as err:
        tok(long_dna)
    assert err.value.n_tokens == n and err.value.max_length == 1024 and "2001 tokens" in str(err.value)
    with pytest.raises(SequenceTooLongError):
        tok(["ACGT", long_dna], padding=True)
    assert tok.check_overflow(["ACGTACGTAC", long_dna]) == [(1, n)]
    with pytest.raises(SequenceTooLongError) as err:
        tok.assert_fits(["ACGTACGTAC", long_dna])
    assert err.value.index == 1
    tok.on_overflow = "warn"
    try:
        assert len(tok(long_dna)["input_ids"]) == n  # warned by transformers, still never cut
    finally:
        tok.on_overflow = "raise"


def test_explicit_truncation_is_reported(toks, caplog):
    tok = toks["kmer3"]
    with caplog.at_level(logging.WARNING):
        ids = tok("ACGT" * 1500, truncation=True)["input_ids"]
    assert len(ids) == 1024 and "truncation cut 1 of 1 inputs" in caplog.text


def test_token_windows_with_overlap(reloaded):
    """The plain tokenizer's own windowing: overlapping token windows that cover the whole input."""
    dna = "".join("ACGT"[(i * 7 + i // 5) % 4] for i in range(3000))
    full = reloaded(dna, add_special_tokens=False)["input_ids"]
    enc = reloaded(dna, add_special_tokens=False, truncation=True, max_length=256, stride=32,
                   return_overflowing_tokens=True)
    windows = enc["input_ids"]
    assert len(windows) > 1 and set(enc["overflow_to_sample_mapping"]) == {0}
    rebuilt = list(windows[0])
    for w in windows[1:]:
        assert w[:32] == rebuilt[-32:]
        rebuilt += w[32:]
    assert rebuilt == full


def test_window_sequence():
    seq = "".join("ACGT"[i % 4] for i in range(1000))
    wins = window_sequence(seq, 300, 60)
    assert [(w.start, w.end) for w in wins] == [(0, 300), (240, 540), (480, 780), (720, 1000)]
    assert all(seq[w.start:w.end] == w.sequence for w in wins)
    assert window_sequence("ACGT", 300, 60) == [(0, 4, "ACGT")] and window_sequence("", 10) == []
    with pytest.raises(ValueError, match="multiple of align=3"):
        window_sequence(seq, 300, 61, align=3)
    with pytest.raises(ValueError):
        window_sequence(seq, 100, 100)


def test_window_sequence_keeps_the_kmer_frame(toks):
    tok = toks["kmer3"]
    seq = "".join("ACGT"[(i * 3 + i // 7) % 4] for i in range(900))
    whole = tok.tokenize(seq)
    for w in tok.window_sequence(seq, 300, 30):  # align defaults to k = 3
        assert tok.tokenize(w.sequence)[:90] == whole[w.start // 3:w.start // 3 + 90]
    with pytest.raises(ValueError):
        tok.window_sequence(seq, 300, 31)


# ---------------------------------------------------------------------------------------------------- normalise
def test_normalize_sequence_fasta_and_genbank():
    fasta = ">chr20:1-20 test\nacgtACGTnn\n  ACGU ACGT\n"
    assert normalize_sequence(fasta) == "ACGTACGTNNACGTACGT"
    assert normalize_sequence(fasta, rna="keep") == "ACGTACGTNNACGUACGT"
    assert normalize_sequence("        1 acgtacgtac gtacgtacgt\n       21 acgt\n") == "ACGTACGTACGTACGTACGTACGT"
    assert normalize_sequence("ACGRYT", iupac="to_n") == "ACGNNT"


def test_normalize_sequence_names_bad_characters_and_positions():
    with pytest.raises(SequenceFormatError) as err:
        normalize_sequence(">x\nACGTQ\nAC-GT")
    message = str(err.value)
    assert "'Q' at line 2, column 5" in message and "'-' at line 3, column 3" in message
    with pytest.raises(SequenceFormatError, match="second FASTA record"):
        normalize_sequence(">a\nACGT\n>b\nACGT")
    with pytest.raises(SequenceFormatError, match="no sequence"):
        normalize_sequence(">only a header\n")
    with pytest.raises(SequenceFormatError, match="'R' at line 1, column 3"):
        normalize_sequence("ACRT", iupac="reject")


# ---------------------------------------------------------------------------------------------------- specials
def test_special_tokens_and_chat_template(reloaded):
    tok = reloaded
    assert tok.convert_ids_to_tokens(list(range(6))) == ["<pad>", "<s>", "</s>", "<|system|>", "<|user|>",
                                                         "<|assistant|>"]
    chat = [{"role": "user", "content": "ACGTACGTAC, GC content ="}, {"role": "assistant", "content": "0.500"}]
    text = tok.apply_chat_template(chat, tokenize=False)
    assert text == "<s><|user|>\nACGTACGTAC, GC content =\n<|assistant|>\n0.500</s>\n"
    prompt = tok.apply_chat_template(chat[:1], add_generation_prompt=True, return_dict=True)["input_ids"]
    assert prompt[0] == tok.bos_token_id and prompt.count(tok.bos_token_id) == 1
    assert tok.decode(prompt).endswith("<|assistant|>\n")
    out = tok.apply_chat_template(chat, return_dict=True, return_assistant_tokens_mask=True)
    marked = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert tok.decode(marked) == "0.500</s>"
    with pytest.raises(Exception, match="roles are system, user and assistant"):
        tok.apply_chat_template([{"role": "tool", "content": "x"}], tokenize=False)


# ---------------------------------------------------------------------------------------------------- candidates
def test_candidate_vocabularies(toks):
    kmer6 = toks["kmer6"].get_vocab()
    assert all("".join(p) in kmer6 for p in [("A",) * 6, ("T", "T", "A", "G", "G", "G"), ("C", "G") * 3])
    assert all("".join(p) in toks["kmer3"].get_vocab() for p in itertools.product("ACGT", repeat=3))
    assert len(toks["kmer6"]) > 4096 > len(toks["kmer3"]) > len(toks["char"])
    with pytest.raises(KeyError, match="unknown candidate"):
        candidates.build_candidate("kmer5", ["x"])


def test_sentencepiece_baseline_builds(texts):
    tok = candidates.build_candidate("spm512", texts[0][:400])
    assert isinstance(tok, PreTrainedTokenizerFast) and 500 < len(tok) < 520
    ids = tok(texts[1][0], add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == texts[1][0]  # corpus rows survive; "a  b" would not (whitespace collapsed)
    assert tok.decode(tok("a  b", add_special_tokens=False)["input_ids"]) == "a b"


def test_build_command_end_to_end(datasets_root, tmp_path):
    out = tmp_path / "tok"
    tk_build.main(["--candidate", "kmer6", "--datasets", str(datasets_root), "--rows", "400", "--out", str(out)])
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.tokenize("x ACGTACGTAC") == ["x", " ", "ACGTAC", "G", "T", "A", "C"]
