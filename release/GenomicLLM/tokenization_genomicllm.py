"""GenomicLLM's tokenizer class: the plain fast tokenizer plus the genomic helpers users need.

Shipped as remote code next to `tokenizer.json` (registered in `auto_map`): with `trust_remote_code=True`
`AutoTokenizer` returns this class, without it the same folder loads as a plain `PreTrainedTokenizerFast` that
tokenizes identically (the whole pipeline lives in `tokenizer.json`). Self-contained on purpose: it imports only
the standard library, `tokenizers` and `transformers`, because the Hub copies this one file.

Adds:
- `find_dna_spans(text)`: where the tokenizer sees nucleotide runs (the same regex as in `tokenizer.json`).
- `normalize_sequence(text_or_fasta)`: a pasted sequence or single-record FASTA -> clean upper-case sequence, or a
  `SequenceFormatError` naming each bad character with its line and column.
- `window_sequence(seq, window, overlap)`: overlapping windows that together cover a long sequence.
- overflow: encoding more tokens than `model_max_length` without asking for truncation raises
  `SequenceTooLongError` (with the count) instead of transformers' once-only warning (`on_overflow="warn"` restores
  it); asking for truncation without `return_overflowing_tokens` logs how many tokens were cut, every time.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tokenizers import Regex, pre_tokenizers
from transformers import PreTrainedTokenizerFast
from transformers.utils import logging

logger = logging.get_logger(__name__)

NUCLEOTIDES = "ACGTN"
RNA = "U"
IUPAC = "RYKMSWBDHV"
_HEADER = (">", ";")
_SKIPPED = re.compile(r"[\s0-9]")  # whitespace and GenBank/EMBL position numbers


class SequenceFormatError(ValueError):
    """A pasted sequence holds characters that are not nucleotide letters."""


class SequenceTooLongError(ValueError):
    """An encoding is longer than the model accepts; nothing was truncated."""

    def __init__(self, n_tokens: int, max_length: int, index: int | None = None):
        self.n_tokens, self.max_length, self.index = n_tokens, max_length, index
        where = "" if index is None else f" (batch item {index})"
        super().__init__(
            f"input{where} is {n_tokens} tokens, the model accepts {max_length}; nothing was truncated. "
            "Split long DNA with window_sequence(seq, window, overlap), or encode with truncation=True, "
            "return_overflowing_tokens=True, stride=<overlap> to get overlapping token windows.")


class Window(NamedTuple):
    start: int  # 0-based, half-open [start, end) in the normalised sequence
    end: int
    sequence: str


def normalize_sequence(text: str, *, rna: str = "to_dna", iupac: str = "keep") -> str:
    """One sequence from pasted text or a single-record FASTA/GenBank-style block, upper-cased.

    Drops header/comment lines ('>' or ';'), whitespace and digits. `rna`: "to_dna" (U -> T), "keep" or "reject";
    `iupac` (R Y K M S W B D H V): "keep", "to_n" or "reject". Raises SequenceFormatError listing every bad
    character with its 1-based line and column, or if there is no sequence or more than one FASTA record.
    """
    options = (("rna", rna, ("to_dna", "keep", "reject")), ("iupac", iupac, ("keep", "to_n", "reject")))
    for name, value, allowed in options:
        if value not in allowed:
            raise ValueError(f"{name}={value!r}: choose one of {allowed}")
    letters = set(NUCLEOTIDES) | (set() if rna == "reject" else set(RNA)) | (set() if iupac == "reject" else set(IUPAC))
    out, bad, headers = [], [], 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(_HEADER):
            headers += line.lstrip().startswith(">")
            if headers > 1:
                raise SequenceFormatError(f"line {line_no}: a second FASTA record; pass one record at a time")
            continue
        for col, ch in enumerate(line, start=1):
            if _SKIPPED.match(ch):
                continue
            up = ch.upper()
            if up in letters:
                out.append(up)
            else:
                bad.append(f"{ch!r} at line {line_no}, column {col}")
    if bad:
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise SequenceFormatError(
            f"not a nucleotide sequence: {'; '.join(bad[:10])}{more}. Allowed letters (either case): "
            f"{' '.join(sorted(letters))}; whitespace, digits and '>' header lines are ignored.")
    seq = "".join(out)
    if not seq:
        raise SequenceFormatError("no sequence letters found")
    if rna == "to_dna":
        seq = seq.replace("U", "T")
    if iupac == "to_n":
        seq = seq.translate(str.maketrans(IUPAC, "N" * len(IUPAC)))
    return seq


def window_sequence(seq: str, window: int, overlap: int = 0, align: int = 1) -> list[Window]:
    """Windows of `window` letters, consecutive ones sharing `overlap`, the last one possibly shorter; together
    they cover `seq`. `align`: the step (window - overlap) must be a multiple of it, e.g. k for a k-mer tokenizer,
    so that every window cuts k-mers in the same frame as the whole sequence."""
    if window < 1 or not 0 <= overlap < window:
        raise ValueError(f"need window >= 1 and 0 <= overlap < window, got window={window}, overlap={overlap}")
    step = window - overlap
    if align < 1 or step % align:
        raise ValueError(f"step window - overlap = {step} is not a multiple of align={align}")
    windows, start = [], 0
    while start < len(seq):
        end = min(start + window, len(seq))
        windows.append(Window(start, end, seq[start:end]))
        if end == len(seq):
            break
        start += step
    return windows


def find_dna_spans(text: str, pattern: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the nucleotide runs that `pattern` (the tokenizer's rule) finds in text."""
    finder = pre_tokenizers.Split(Regex(pattern), behavior="removed", invert=True)
    return [span for _, span in finder.pre_tokenize_str(text)]


class GenomicLLMTokenizerFast(PreTrainedTokenizerFast):
    """The hybrid DNA + text tokenizer with genomic helpers (see the module docstring)."""

    # No __init__ on purpose: transformers 5 rebuilds the backend from vocab/merges alone (dropping the
    # pre-tokenizer) for classes that define one. Settings live in init_kwargs, i.e. tokenizer_config.json.
    @property
    def on_overflow(self) -> str:
        return self.init_kwargs.get("on_overflow") or "raise"

    @on_overflow.setter
    def on_overflow(self, value: str) -> None:
        if value not in ("raise", "warn"):
            raise ValueError(f"on_overflow={value!r}: choose 'raise' or 'warn'")
        self.init_kwargs["on_overflow"] = value

    @property
    def dna_run_pattern(self) -> str:
        pattern = self.init_kwargs.get("dna_run_pattern")
        if not pattern:
            raise ValueError("tokenizer_config.json lacks dna_run_pattern: not a GenomicLLM tokenizer folder")
        return pattern

    @property
    def dna_scheme(self) -> str | None:
        return self.init_kwargs.get("dna_scheme")

    @property
    def dna_kmer(self) -> int | None:
        return self.init_kwargs.get("dna_kmer")

    # --- genomic helpers -------------------------------------------------------------------------------------
    def find_dna_spans(self, text: str) -> list[tuple[int, int]]:
        return find_dna_spans(text, self.dna_run_pattern)

    @staticmethod
    def normalize_sequence(text: str, *, rna: str = "to_dna", iupac: str = "keep") -> str:
        return normalize_sequence(text, rna=rna, iupac=iupac)

    def window_sequence(self, seq: str, window: int, overlap: int = 0, align: int | None = None) -> list[Window]:
        """As the module function; `align` defaults to k for k-mer tokenizers, else 1."""
        if align is None:
            align = self.dna_kmer if self.dna_scheme == "kmer" and self.dna_kmer else 1
        return window_sequence(seq, window, overlap, align)

    # --- overflow ----------------------------------------------------------------------------------------------
    def count_tokens(self, texts: str | list[str], add_special_tokens: bool = True) -> int | list[int]:
        single = isinstance(texts, str)
        backend = self._tokenizer
        padding, truncation = backend.padding, backend.truncation  # a previous call may have left them on
        backend.no_padding()
        backend.no_truncation()
        try:
            encs = backend.encode_batch_fast([texts] if single else list(texts), add_special_tokens=add_special_tokens)
        finally:
            if padding:
                backend.enable_padding(**padding)
            if truncation:
                backend.enable_truncation(**truncation)
        counts = [len(e.ids) for e in encs]
        return counts[0] if single else counts

    def check_overflow(self, texts: str | list[str], max_length: int | None = None,
                       add_special_tokens: bool = True) -> list[tuple[int, int]]:
        """(index, n_tokens) of every text longer than max_length (default model_max_length); [] if all fit."""
        limit = max_length or self.model_max_length
        counts = self.count_tokens([texts] if isinstance(texts, str) else texts, add_special_tokens)
        return [(i, n) for i, n in enumerate(counts) if n > limit]

    def assert_fits(self, texts: str | list[str], max_length: int | None = None, add_special_tokens: bool = True):
        over = self.check_overflow(texts, max_length, add_special_tokens)
        if over:
            i, n = over[0]
            raise SequenceTooLongError(n, max_length or self.model_max_length, None if isinstance(texts, str) else i)

    def _eventual_warn_about_too_long_sequence(self, ids, max_length, verbose):
        # ids longer than an explicit max_length can only mean truncation was off (max_length only for padding)
        too_long = 0 < self.model_max_length < len(ids) and (max_length is None or len(ids) > max_length)
        if self.on_overflow == "raise" and too_long:
            raise SequenceTooLongError(len(ids), self.model_max_length)
        super()._eventual_warn_about_too_long_sequence(ids, max_length, verbose)

    def _encode_plus(self, *args, **kwargs):
        out = super()._encode_plus(*args, **kwargs)
        strategy = kwargs.get("truncation_strategy")
        truncating = strategy is not None and getattr(strategy, "value", strategy) != "do_not_truncate"
        if truncating and not kwargs.get("return_overflowing_tokens") and out.encodings:
            cut = [(i, sum(len(o.ids) for o in e.overflowing)) for i, e in enumerate(out.encodings) if e.overflowing]
            if cut:
                logger.warning(
                    f"truncation cut {len(cut)} of {len(out.encodings)} inputs (first: item {cut[0][0]}, "
                    f"{cut[0][1]} tokens in overflow windows); pass return_overflowing_tokens=True to keep them")
        return out
