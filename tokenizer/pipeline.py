"""Assemble the hybrid tokenizer from serialisable `tokenizers` parts and wrap it for transformers.

Why one BPE model for both languages: a `tokenizers.Tokenizer` holds one model. The two schemes meet in it as
disjoint *pre-tokens*: the pre-tokenizer cuts DNA runs into DNA pieces (k-mers, single bases, or whole upper-case
stretches for DNA-BPE) and text into words; the BPE model runs with `ignore_merges=True`, so a piece that is a
vocabulary entry (every k-mer, every byte) is one token, and merges only build what is not. For the DNA-BPE scheme
the DNA merges come first and no text merge joins two pure-nucleotide strings (see `training.merge_vocabularies`),
so a DNA stretch is tokenized exactly as the DNA-BPE alone would.

Pipeline: no normalizer (exact round trip) -> Split(rule pass 1) -> Split(word parts) -> BPE over raw characters
with byte fallback (a character outside the vocabulary becomes its UTF-8 bytes as <0xNN> tokens) ->
TemplateProcessing (bos; a pair adds eos) -> decoders ByteFallback + Fuse (bytes back to text, tokens concatenated).
Why byte fallback rather than a ByteLevel pre-tokenizer: the same exactness (every string has an encoding and
decodes back to itself) and readable tokens (" the", "ACGTAC"), for ~20% less encode time (measured on the corpus).
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

from . import rule, special

MODEL_MAX_LENGTH = 1024
BYTE_TOKENS = tuple(f"<0x{i:02X}>" for i in range(256))
# Characters that always get their own token (never byte fallback): printable ASCII, tab/newline/CR, run letters.
BASE_CHARS = tuple(dict.fromkeys([chr(i) for i in range(32, 127)] + ["\t", "\n", "\r"] + list(rule.RUN_LETTERS)))


def pre_tokenizer(scheme: str, k: int | None = None, answers_apart: bool = False) -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(rule.split_pattern(scheme, k, answers_apart)), behavior="isolated"),
        pre_tokenizers.Split(Regex(rule.WORD_PARTS), behavior="isolated"),
    ])


def assemble(vocab: dict[str, int], merges: list[tuple[str, str]], scheme: str, k: int | None = None) -> Tokenizer:
    """vocab must hold the special tokens at ids 0.. (special.SPECIAL_TOKENS order), the 256 byte tokens and
    BASE_CHARS."""
    for i, tok in enumerate(special.SPECIAL_TOKENS):
        if vocab.get(tok) != i:
            raise ValueError(f"special token {tok!r} must have id {i}, has {vocab.get(tok)}")
    missing = [t for t in BYTE_TOKENS + BASE_CHARS if t not in vocab]
    if missing:
        raise ValueError(f"{len(missing)} byte/base tokens missing from the vocabulary, e.g. {missing[:5]}")
    tk = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=True, byte_fallback=True))
    tk.pre_tokenizer = pre_tokenizer(scheme, k)
    tk.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Fuse()])
    tk.add_special_tokens(special.added_tokens())
    tk.post_processor = special.post_processor(vocab[special.BOS], vocab[special.EOS])
    return tk


def wrap(tk: Tokenizer, scheme: str, k: int | None = None, name: str = "", cls=None, **extra):
    """A transformers fast tokenizer around `tk`, carrying the rule and scheme in its config (init kwargs)."""
    if cls is None:
        from transformers import PreTrainedTokenizerFast as cls
    return cls(
        tokenizer_object=tk,
        model_max_length=MODEL_MAX_LENGTH,
        padding_side="right",
        truncation_side="right",
        clean_up_tokenization_spaces=False,
        chat_template=special.CHAT_TEMPLATE,
        dna_run_pattern=rule.RUN_PATTERN,
        dna_scheme=scheme,
        dna_kmer=k,
        candidate=name,
        **special.special_kwargs(),
        **extra,
    )
