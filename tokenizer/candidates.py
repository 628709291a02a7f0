"""The tokenizer candidates compared by the benchmark, each buildable from corpus texts by one function.

(a) `char`: one token per base; (b) `kmer3`, `kmer6`: fixed non-overlapping k-mers from the start of each run,
single-letter fallback (the tail shorter than k, N, lower case, U, IUPAC); (c) `dnabpe1024`, `dnabpe4096`: BPE
learned on the corpus's DNA (DNABERT-2 style); all four with the same text BPE. (d) `spm512`: the original's single
SentencePiece model over everything.

`build_candidate(name, corpus_texts)` returns a `PreTrainedTokenizerFast` (or `cls`, e.g. GenomicLLMTokenizerFast).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from . import pipeline, spm_baseline, training

TEXT_VOCAB = 4096  # text BPE incl. the 256 byte symbols


@dataclass(frozen=True)
class Candidate:
    name: str
    scheme: str  # "char" | "kmer" | "bpe" | "spm"
    k: int | None = None
    dna_vocab: int | None = None
    label: str = ""


CANDIDATES: dict[str, Candidate] = {c.name: c for c in [
    Candidate("char", "char", label="(a) single-nucleotide + text BPE"),
    Candidate("kmer3", "kmer", k=3, label="(b) 3-mer + text BPE"),
    Candidate("kmer6", "kmer", k=6, label="(b) 6-mer + text BPE"),
    Candidate("dnabpe1024", "bpe", dna_vocab=1024, label="(c) DNA-BPE 1024 + text BPE"),
    Candidate("dnabpe4096", "bpe", dna_vocab=4096, label="(c) DNA-BPE 4096 + text BPE"),
    Candidate("spm512", "spm", label="(d) one SentencePiece 512 (original)"),
]}


@dataclass
class Prepared:
    """What every hybrid candidate learns from the same texts: the text merges and the DNA stretches."""
    texts: list[str]
    text_alphabet: list[str]
    text_merges: list[tuple[str, str]]
    stretches: list[str]


def prepare(corpus_texts: Iterable[str], text_vocab: int = TEXT_VOCAB) -> Prepared:
    texts = list(corpus_texts)
    word_lines, stretches = [], []
    for words, dna in training.split_pieces(texts):
        word_lines.append(training.SEP.join(words))
        stretches.extend(dna)
    text_tokens, text_merges = training.train_text_bpe(word_lines, text_vocab)
    return Prepared(texts, [t for t in text_tokens if len(t) == 1], text_merges, stretches)


def build_candidate(name: str, corpus_texts: Iterable[str] | None = None, *, prepared: Prepared | None = None,
                    text_vocab: int = TEXT_VOCAB, cls=None):
    """Train candidate `name` on corpus_texts (prompt + " " + answer strings) and wrap it for transformers."""
    if name not in CANDIDATES:
        raise KeyError(f"unknown candidate {name!r}; known: {', '.join(CANDIDATES)}")
    spec = CANDIDATES[name]
    if prepared is None:
        if corpus_texts is None:
            raise ValueError("give corpus_texts or prepared")
        if spec.scheme == "spm":
            return spm_baseline.to_fast(spm_baseline.train(list(corpus_texts)), name)
        prepared = prepare(corpus_texts, text_vocab)
    if spec.scheme == "spm":
        return spm_baseline.to_fast(spm_baseline.train(prepared.texts), name)
    if spec.scheme == "bpe":
        dna_tokens, dna_merges = training.train_dna_bpe(prepared.stretches, spec.dna_vocab)
    elif spec.scheme == "kmer":
        dna_tokens, dna_merges = training.kmers(spec.k), []
    else:
        dna_tokens, dna_merges = [], []
    vocab, merges = training.merge_vocabularies(prepared.text_alphabet, dna_tokens, dna_merges, prepared.text_merges,
                                                separate_dna=spec.scheme == "bpe")
    tk = pipeline.assemble(vocab, merges, spec.scheme, spec.k)
    return pipeline.wrap(tk, spec.scheme, spec.k, name, cls=cls)
