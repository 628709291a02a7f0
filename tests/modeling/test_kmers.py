"""The k-mer embedding (modeling/kmers_genomicllm.py): which k-mer ends at each token, that it reaches the model only
through the ids (padding, caching and generation see the same k-mers as a full forward), and that a trained model
with k-mers added starts from the same function; and a head's k-mer profile of the DNA run (``"kmers:"``): what
k-mer logistic regression reads."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from modeling.heads_genomicllm import (feature_width, free_kmers, profile_sizes, question_features, run_index,
                                      run_letters)
from modeling.kmers_genomicllm import base_table, frames_without, kmer_ids, kmer_profile, table_rows
from modeling.modeling_genomicllm import GenomicLLMForCausalLM

from .test_modeling import EOS, left_pad
from .test_positions import TOK, decoded_in_steps, ids_of, stream_config

BASES = TOK.convert_tokens_to_ids(list("ACGT"))
SIZES = [2, 3]
pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def decode_row(row: int, sizes: list[int]) -> str:
    """A table row back to its k-mer (the inverse of kmer_ids' code), "" for row 0."""
    if row == 0:
        return ""
    offset = 1
    for k in sizes:
        if row < offset + 4**k:
            code = row - offset
            return "".join("ACGT"[(code // 4**j) % 4] for j in reversed(range(k)))
        offset += 4**k
    raise AssertionError(f"row {row} outside the table")


def kmer_model(seed: int = 0, **overrides) -> GenomicLLMForCausalLM:
    torch.manual_seed(seed)
    model = GenomicLLMForCausalLM(stream_config(kmer_sizes=SIZES, phased_kmer_sizes=[3], kmer_base_token_ids=BASES,
                                                kmer_embedding_size=8, **overrides)).eval()
    with torch.no_grad():  # the projection starts at zero (no effect): give the k-mers a voice for these tests
        model.model.kmer_embed.proj.normal_(0, 0.5)
    return model


@pytest.mark.parametrize("text", ["ACGTTGCA", "xAC,GTNAC=TTG", "GGGG,ACGTACGT,c=ACG"])
def test_each_token_gets_the_kmers_ending_at_it(text):
    ids = ids_of(text)[None]
    rows = kmer_ids(ids, base_table(64, BASES), SIZES)[0]  # (K, S)
    letters = TOK.convert_ids_to_tokens(ids[0].tolist())
    for s, k in enumerate(SIZES):
        for i in range(len(letters)):
            window = letters[max(0, i - k + 1): i + 1]
            whole = len(window) == k and all(t in "ACGT" for t in window)
            assert decode_row(int(rows[s, i]), SIZES) == ("".join(window) if whole else "")
    assert rows.max() < table_rows(SIZES)


def test_phased_kmers_know_their_codon_phase():
    # two runs of bases; the phase counts from each run's first base (N, text and padding restart it)
    text = "ACGTAAC,TAATNTAA="
    ids = ids_of(text)[None]
    letters = TOK.convert_ids_to_tokens(ids[0].tolist())
    rows = kmer_ids(ids, base_table(64, BASES), [2], [3], period=3)[0]  # (2, S): plain 2-mers, then phased 3-mers
    offset = 1 + 4**2
    since, seen = [], 0
    for t in letters:
        seen = seen + 1 if t in "ACGT" else 0
        since.append(seen - 1)
    for i, row in enumerate(rows[1].tolist()):
        window = letters[max(0, i - 2): i + 1]
        if len(window) < 3 or not all(t in "ACGT" for t in window):
            assert row == 0
            continue
        code, phase = divmod(row - offset, 3)
        assert decode_row(1 + code, [3]) == "".join(window) and phase == since[i] % 3
    # TAA ends at index 2 of the second run ("TAAT...") and index 2 of the third ("TAA" after N): the same row;
    # in the first run ("ACGTAAC") it ends at index 5: phase 2 again, the same row; shifted by one it differs
    taa = [rows[1, i].item() for i in range(2, len(letters)) if "".join(letters[i - 2:i + 1]) == "TAA"]
    assert len(taa) == 3 and len(set(taa)) == 1
    shifted = kmer_ids(ids_of("CTAA,")[None], base_table(64, BASES), [2], [3], period=3)[0, 1, 4].item()
    assert shifted != taa[0] and shifted > 0
    assert rows.max() < table_rows([2], [3], 3)


def test_every_kmer_has_its_own_row():
    rows = set()
    for k in SIZES:
        for kmer in itertools.product("ACGT", repeat=k):
            ids = ids_of("".join(kmer))[None]
            rows.add(int(kmer_ids(ids, base_table(64, BASES), SIZES)[0, SIZES.index(k), -1]))
    assert len(rows) == sum(4**k for k in SIZES) and 0 not in rows


def test_cached_decoding_and_left_padding_match_the_full_forward():
    model = kmer_model(conv_kernel_size=0, position_streams=None)  # k-mers alone: nothing else reads history
    assert model.config.reads_history
    prompt = ids_of("ACGTTGCA,rc=")
    answer = torch.tensor(BASES * 3)  # DNA answers make k-mers of their own
    ids = torch.cat([prompt, answer])[None]
    n = len(prompt)
    with torch.no_grad():
        torch.testing.assert_close(decoded_in_steps(model, ids, [n]), model(ids).logits, rtol=0, atol=1e-5)
        rows = [ids_of("ACGTTG,rc="), ids_of("AC,x=")]
        padded, mask = left_pad(rows)
        batch = model(padded, attention_mask=mask).logits
        for i, row in enumerate(rows):
            torch.testing.assert_close(batch[i, -len(row):], model(row[None]).logits[0], rtol=0, atol=1e-5)
        # generate() hands the history over: greedy answers equal the full forward's argmax (</s> barred, as
        # min_new_tokens bars it in generate)
        out = model.generate(prompt[None], max_new_tokens=6, min_new_tokens=6, do_sample=False)
        full = model(out).logits[0, n - 1:-1]
        full[:, EOS] = -torch.inf
        assert torch.equal(full.argmax(-1), out[0, n:])


def test_kmers_change_the_output_and_start_silent():
    ids = ids_of("ACGTTGCA,rc=")[None]
    torch.manual_seed(0)
    silent = GenomicLLMForCausalLM(stream_config(kmer_sizes=SIZES, kmer_base_token_ids=BASES)).eval()
    torch.manual_seed(0)
    without = GenomicLLMForCausalLM(stream_config()).eval()
    without.load_state_dict({k: v for k, v in silent.state_dict().items() if "kmer_embed" not in k})
    with torch.no_grad():
        assert torch.equal(silent(ids).logits, without(ids).logits)  # projection at zero: the same function
        assert not torch.allclose(kmer_model()(ids).logits, without(ids).logits)


def test_config_checks_kmers():
    with pytest.raises(ValueError, match="kmer_base_token_ids"):
        stream_config(kmer_sizes=[3])
    with pytest.raises(ValueError, match="kmer_base_token_ids"):
        stream_config(kmer_sizes=[3], kmer_base_token_ids=BASES[:3] + BASES[:1])
    with pytest.raises(ValueError, match="1..8"):
        stream_config(kmer_sizes=[9], kmer_base_token_ids=BASES)
    with pytest.raises(ValueError, match="kmer_base_token_ids"):
        stream_config(phased_kmer_sizes=[3])
    assert stream_config(phased_kmer_sizes=[3], kmer_base_token_ids=BASES).reads_history
    assert stream_config(kmer_sizes=[3, 2, 3], kmer_base_token_ids=BASES).kmer_sizes == [2, 3]
    assert stream_config(kmer_sizes=[]).kmer_sizes is None


def test_saved_kmer_model_reloads_identically(tmp_path):
    model = kmer_model()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "kmers_genomicllm.py").is_file()  # remote code travels with the weights
    again = GenomicLLMForCausalLM.from_pretrained(tmp_path).eval()
    ids = ids_of("ACGTTGCA,rc=")[None]
    with torch.no_grad():
        assert torch.equal(model(ids).logits, again(ids).logits)


def test_a_runs_kmer_profile_is_what_kmer_lr_reads():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import Normalizer

    run = "ACGTTGCAGGCTAGCTAGGATCGATCGGGATCGAAAAT"
    ids = ids_of(f"xAC:GT,{run},rc=")[None]  # bases in the text and fields are not the run's
    config = stream_config(kmer_base_token_ids=BASES)
    mask = torch.ones_like(ids)
    letters = run_letters(config, ids, run_index(config, ids, mask))
    assert "".join("ACGT"[i] for i in letters[0].tolist() if i >= 0) == run
    features = question_features([torch.zeros(1, ids.shape[1], 4)], mask, ["kmers:3-6"], letters=letters)
    assert features.shape == (1, feature_width(config, "kmers:3-6")) == (1, sum(4**k for k in range(3, 7)))
    vectorizer = CountVectorizer(analyzer="char", ngram_range=(3, 6), lowercase=False).fit([run])
    want = Normalizer().transform(vectorizer.transform([run])).toarray()[0]
    code = {}  # our column of each k-mer: sizes ascending, the last base the lowest digit
    offset = 0
    for k in range(3, 7):
        for kmer in itertools.product("ACGT", repeat=k):
            code["".join(kmer)] = offset + sum("ACGT".index(b) * 4**j for j, b in enumerate(reversed(kmer)))
        offset += 4**k
    got = features[0].numpy()
    assert np.count_nonzero(got) == len(vectorizer.vocabulary_)
    for kmer, column in vectorizer.vocabulary_.items():
        assert got[code[kmer]] == pytest.approx(want[column], abs=1e-6), kmer


def test_a_phased_profile_counts_each_kmer_per_codon_phase():
    run = "ATGAAATAGCCCTAAGGTTGA"
    ids = ids_of(f"chr:7,{run},rc=")[None]
    config = stream_config(kmer_base_token_ids=BASES)
    mask = torch.ones_like(ids)
    letters = run_letters(config, ids, run_index(config, ids, mask))
    got = question_features([torch.zeros(1, ids.shape[1], 4)], mask, ["phased:3"], letters=letters)[0]
    assert got.shape == (feature_width(config, "phased:3"),) == (3 * 64,)
    def column(codon: str, phase: int) -> int:  # by hand: the codon's code x 3 + the phase of its last base
        return sum("ACGT".index(b) * 4**j for j, b in enumerate(reversed(codon))) * 3 + phase

    want = np.zeros(3 * 64)
    for i in range(len(run) - 2):
        want[column(run[i:i + 3], (i + 2) % 3)] += 1
    np.testing.assert_allclose(got.numpy(), want / np.linalg.norm(want), atol=1e-6)
    # frame 1 reads ATG AAA TAG CCC TAA GGT TGA: each stop ends on phase 2
    assert [bool(got[column(c, 2)] > 0) for c in ("TAG", "TAA", "TGA")] == [True, True, True]
    unphased = question_features([torch.zeros(1, ids.shape[1], 4)], mask, ["kmers:3"], letters=letters)[0]
    folded = (got * np.linalg.norm(want)).reshape(64, 3).sum(1)  # the phases summed: the plain profile's counts
    np.testing.assert_allclose(folded / folded.norm(), unphased, atol=1e-6)
    with pytest.raises(ValueError, match="k-mer profile"):
        profile_sizes("phased:9")


def stop_free_by_hand(run: str) -> list[float]:
    return [float(not any(run[i:i + 3] in ("TAA", "TAG", "TGA") for i in range(f, len(run) - 2, 3))) for f in range(3)]


def test_the_free_feature_reads_which_frames_hold_no_stop_codon():
    config = stream_config(kmer_base_token_ids=BASES)
    rng = np.random.default_rng(0)
    runs = ["ATGAAATAGCCCTAAGGTTGA", "ATGCCCGGGAAATTTCCCGGGTAA", "CTAACTAGCTGAC", "TAATAG", "GCGCGC"]
    runs += ["".join(rng.choice(list("ACGT"), size=int(rng.integers(6, 40)))) for _ in range(40)]
    for run in runs:
        ids = ids_of(f"chr:7,{run},rc=")[None]
        mask = torch.ones_like(ids)
        letters = run_letters(config, ids, run_index(config, ids, mask))
        got = question_features([torch.zeros(1, ids.shape[1], 4)], mask, ["free:TAA,TAG,TGA"], letters=letters)[0]
        assert got.tolist() == stop_free_by_hand(run), run  # frame f: the codons from base f, whole ones only
    assert feature_width(config, "free:TAA,TAG,TGA") == 3
    # TA N ATA: as for the phased profile, a base that is not A, C, G or T (N) restarts the phase
    assert frames_without(torch.tensor([[3, 0, -1, 0, 3, 0]]), [[3, 0]]).tolist() == [[0.0, 0.0, 1.0]]
    for bad in ("free:", "free:TAX", "free:TAA,TG", "free:ACGTACGTA"):
        with pytest.raises(ValueError, match="frame feature"):
            free_kmers(bad)
        with pytest.raises(ValueError, match="frame feature"):
            feature_width(config, bad)


def test_n_breaks_kmers_and_sizes_are_checked():
    base = torch.tensor([[0, 1, -1, 2, 3, 0]])  # AC N GTA
    profile = kmer_profile(base, [2])
    assert torch.count_nonzero(profile) == 3  # AC, GT, TA: none across the N
    assert profile.norm() == pytest.approx(1.0)
    assert profile_sizes("kmers:4") == [4] and profile_sizes("kmers:3-6") == [3, 4, 5, 6]
    for bad in ("kmers:0-2", "kmers:9", "kmers:x", "kmers:5-3"):
        with pytest.raises(ValueError, match="k-mer profile"):
            profile_sizes(bad)
    with pytest.raises(ValueError, match="kmer_base_token_ids"):  # a head reading a profile names the base tokens
        stream_config(label_heads={"tf_binding": {"weight": [[0.0] * 16] * 2, "bias": [0.0, 0.0], "rows": 1,
                                                  "features": ["kmers:2"]}})
