"""Learn the two vocabularies from corpus texts, and merge them into one BPE model.

Why train on pre-tokenized pieces: the text BPE must see exactly the words the final pipeline produces (same
regexes) and none of the DNA, or it would spend its vocabulary on nucleotide strings; the
DNA-BPE must see only the upper-case stretches of nucleotide runs. Both come from one pass of the final
pre-tokenizer, with the run spans from the same rule (`rule.RUN_PATTERN`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator

from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

from . import pipeline, rule, special

DNA_BPE_ALPHABET = "ACGTN"
SEP = "\x00"  # joins training words; the trainer splits on it (a NUL inside a word only splits that word)


def split_pieces(texts: Iterable[str]) -> Iterator[tuple[list[str], list[str]]]:
    """Per text: (its text pieces, the upper-case ACGTN stretches of its DNA runs)."""
    pre = pipeline.pre_tokenizer("bpe", answers_apart=False)  # the vocabulary is learnt with words as written
    finder = pre_tokenizers.Split(Regex(rule.RUN_PATTERN), behavior="removed", invert=True)
    for text in texts:
        spans = [span for _, span in finder.pre_tokenize_str(text)]
        words, dna = [], []
        j = 0
        for piece, (start, _) in pre.pre_tokenize_str(text):
            while j < len(spans) and spans[j][1] <= start:
                j += 1
            if j < len(spans) and spans[j][0] <= start:
                if all(c in DNA_BPE_ALPHABET for c in piece):
                    dna.append(piece)
            else:
                words.append(piece)
        yield words, dna


def _train(lines: Iterable[str], trainer, split_on_sep: bool) -> tuple[list[str], list[tuple[str, str]]]:
    tk = Tokenizer(models.BPE())
    if split_on_sep:
        tk.pre_tokenizer = pre_tokenizers.CharDelimiterSplit(SEP)
    tk.train_from_iterator(lines, trainer)
    model = json.loads(tk.to_str())["model"]
    vocab = sorted(model["vocab"], key=model["vocab"].get)
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return vocab, merges


def train_text_bpe(word_lines: Iterable[str], vocab_size: int, min_frequency: int = 2):
    """word_lines: text pieces joined by SEP. The alphabet is BASE_CHARS plus every character seen."""
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                  initial_alphabet=list(pipeline.BASE_CHARS), special_tokens=[], show_progress=False)
    return _train(word_lines, trainer, split_on_sep=True)


def train_dna_bpe(stretches: Iterable[str], vocab_size: int):
    """stretches: upper-case ACGTN strings, each one BPE word (as DNABERT-2: no pre-splitting of sequence)."""
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=list(DNA_BPE_ALPHABET),
                                  limit_alphabet=len(DNA_BPE_ALPHABET), special_tokens=[], show_progress=False)
    return _train(stretches, trainer, split_on_sep=False)


def kmers(k: int) -> list[str]:
    return ["".join(p) for p in itertools.product("ACGT", repeat=k)]


def merge_vocabularies(text_alphabet: list[str], dna_tokens: list[str], dna_merges: list[tuple[str, str]],
                       text_merges: list[tuple[str, str]],
                       separate_dna: bool) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """One vocab/merge list: specials, 256 byte tokens, base characters, the text alphabet, DNA tokens, then the text
    tokens in the order the text merges build them.

    separate_dna (DNA-BPE scheme): DNA merges rank first, and a text merge is dropped when its result is a pure
    ACGTN string (the DNA merges own those) or when it uses a token that no kept merge builds; so on an ACGTN
    stretch only DNA merges can fire. Other schemes never merge inside DNA pieces, and keep every text merge.
    """
    vocab: dict[str, int] = {}
    for tok in itertools.chain(special.SPECIAL_TOKENS, pipeline.BYTE_TOKENS, pipeline.BASE_CHARS, text_alphabet,
                               dna_tokens):
        vocab.setdefault(tok, len(vocab))
    merges = list(dna_merges)
    for a, b in text_merges:
        result = a + b
        if separate_dna and (set(result) <= set(DNA_BPE_ALPHABET) or a not in vocab or b not in vocab):
            continue
        vocab.setdefault(result, len(vocab))
        merges.append((a, b))
    return vocab, merges
