"""Sequences in a conversation, referred to by number: the assistant's LLM sees `[sequence 1: 300 nt]`, never bases.

    refs = References()
    refs.ingest("GC content of ACGTTGCAAGGCTTAC?")  # -> "GC content of [sequence 1: 16 nt]?"
    refs.resolve("1")                                # -> "ACGTTGCAAGGCTTAC" (None: the user's last sequence)
    refs.expand("It reads **[sequence 2]**")         # a tool's stored value, written out in the final reply

DNA is found with the tokenizer's own run rule (`tokenizer.rule.RUN_PATTERN` through `find_dna_spans`) and cleaned
by its normaliser (`normalize_sequence`: FASTA header, case, digits, line breaks, RNA U -> T). Runs separated only
by whitespace are one sequence (wrapped lines, groups of ten), with a short last group and a FASTA header line kept
with it. A word that is mostly bases but holds other letters (`ACGTIACGT…`) is a would-be sequence: it is numbered
too, and its placeholder carries the normaliser's exact error, so the LLM explains it rather than guesses around it.

Long tool results (a reverse complement, a protein, a gene summary) are stored the same way (`[protein 1: 97 aa]`)
and expanded only in the reply the user reads: the LLM never retypes a value, which is what makes replies faithful
and cheap to generate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tokenizer.rule import MIN_RUN, RUN_LETTERS, RUN_PATTERN
from tokenizer.tokenization_genomicllm import (
    IUPAC,
    SequenceFormatError,
    find_dna_spans,
    normalize_sequence,
)

MAX_BASES = 100_000  # per sequence (the Space's limit too: space.core.MAX_BASES)
NEAR_DNA_LENGTH = 12  # a would-be sequence: a word this long ...
NEAR_DNA_SHARE = 0.75  # ... with at least this share of nucleotide letters
UNITS = {"sequence": "nt", "protein": "aa", "text": "words"}
REFERENCE = re.compile(r"\[(sequence|protein|text) (\d+)(?::[^\]\n]*)?\]")
_WORD = re.compile(r"[^\s,;:!?()\[\]\"'`]+")
_SHORT_CHUNK = re.compile(rf"[ \t]*(\n?)[ \t]*([{RUN_LETTERS}]{{1,{MIN_RUN - 1}}})(?=\s|$|[.,;:!?)])")
_BASES = set(RUN_LETTERS + IUPAC)


class UnknownReference(ValueError):
    """A tool call names a sequence the conversation does not hold (or one that is not valid DNA)."""


@dataclass
class Entry:
    kind: str  # sequence | protein | text
    number: int
    value: str | None  # None when the pasted text is not a valid sequence
    error: str = ""  # the normaliser's message, for an invalid sequence
    source: str = "user"  # "user", or the tool that produced the value

    @property
    def size(self) -> int:
        return len(self.value.split()) if self.kind == "text" else len(self.value or "")

    def placeholder(self) -> str:
        if self.error:
            return f"[{self.kind} {self.number}: {self.error}]"
        return f"[{self.kind} {self.number}: {self.size:,} {UNITS[self.kind]}]"


def short_error(e: Exception) -> str:
    """The normaliser's message without its list of allowed letters (the LLM needs what was wrong, not the help)."""
    return str(e).split(". Allowed letters")[0].removesuffix(".")


def short_references(text: str) -> str:
    """Placeholders as a reply writes them: `[sequence 2: 300 nt]` -> `[sequence 2]`."""
    return REFERENCE.sub(r"[\1 \2]", text)


def clean(text: str) -> tuple[str | None, str]:
    """(sequence, "") of pasted text, or (None, the normaliser's error); the assistant's length limit included."""
    try:
        seq = normalize_sequence(text)
    except SequenceFormatError as e:
        return None, short_error(e)
    if len(seq) > MAX_BASES:
        return None, f"the sequence is {len(seq):,} nt, over the limit of {MAX_BASES:,} nt"
    return seq, ""


def sequence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sequence pasted in `text`, valid or not: the tokenizer's runs and would-be sequences,
    merged across whitespace, each with a short last group and a FASTA header line just before it."""
    strong = [(s, e, True) for s, e in find_dna_spans(text, RUN_PATTERN)]
    taken = [(s, e) for s, e, _ in strong]
    weak = []  # words mostly of bases: a sequence with a bad letter, or such a group between two runs
    for m in _WORD.finditer(text):
        w = m.group()
        if sum(c in _BASES for c in w) >= NEAR_DNA_SHARE * len(w) and not any(s <= m.start() < e for s, e in taken):
            weak.append((*m.span(), len(w) >= NEAR_DNA_LENGTH))
    blocks: list[list[tuple[int, int, bool]]] = []
    for item in sorted(strong + weak):
        if blocks and not text[blocks[-1][-1][1] : item[0]].strip():
            blocks[-1].append(item)
        else:
            blocks.append([item])
    merged = []
    for block in blocks:  # a block is a sequence when it holds a run; a short weak word only between two
        while block and not block[-1][2]:
            block.pop()
        while block and not block[0][2]:
            block.pop(0)
        if block:
            merged.append([block[0][0], block[-1][1]])
    for span in merged:
        while m := _SHORT_CHUNK.match(text, span[1]):  # "… AACTGAGGCC GCTT": a short last group of ten
            last = text[span[0] : span[1]].split()[-1]
            line_end = m.end() == len(text) or text[m.end()] == "\n"
            if not ((m.group(2).isupper() and last.isupper()) or (m.group(1) and line_end)):
                break
            span[1] = m.end()
        line_start = text.rfind("\n", 0, span[0])  # a FASTA header: the previous line, from its '>' on
        header = text.rfind(">", text.rfind("\n", 0, line_start) + 1, line_start) if line_start >= 0 else -1
        if header >= 0 and not text[line_start : span[0]].strip():
            span[0] = header
    return [(s, e) for s, e in merged]


@dataclass
class References:
    """The numbered values of one conversation: the user's sequences and the tools' long results."""

    entries: list[Entry] = field(default_factory=list)
    last: Entry | None = None  # the user's latest sequence: what a tool call without a reference means

    def add(self, kind: str, value: str | None, error: str = "", source: str = "user") -> Entry:
        entry = Entry(kind, sum(e.kind == kind for e in self.entries) + 1, value, error, source)
        self.entries.append(entry)
        return entry

    def ingest(self, text: str, source: str = "user") -> str:
        """A message as the LLM sees it: every pasted sequence replaced by its placeholder. A sequence already
        held keeps its number (pasted again, or a reply's value read back: `Assistant.restore`)."""
        out, pos = [], 0
        for s, e in sequence_spans(text):
            seq, error = clean(text[s:e])
            same = next((x for x in self.entries if seq is not None and x.kind == "sequence" and x.value == seq), None)
            entry = same or self.add("sequence", seq, error, source)
            if source == "user":
                self.last = entry
            out += [text[pos:s], entry.placeholder()]
            pos = e
        return "".join(out + [text[pos:]]).strip()

    def get(self, kind: str, number: int) -> Entry | None:
        return next((e for e in self.entries if e.kind == kind and e.number == number), None)

    def last_user_sequence(self) -> Entry | None:
        return self.last

    def resolve(self, ref: str | int | None) -> str:
        """The bases a tool argument names: a number ("2", 2, "sequence 2", "[sequence 2: 300 nt]"), None or "" for
        the user's last sequence, or bases typed out (cleaned). UnknownReference when there is no such valid sequence."""
        text = str(ref).strip() if ref is not None else ""
        m = re.fullmatch(r"\[?(?:sequence\s*)?(\d+)(?::[^\]]*)?\]?", text, re.I)
        if not text:
            entry = self.last_user_sequence()
            if entry is None:
                raise UnknownReference("no sequence in this conversation yet")
        elif m:
            entry = self.get("sequence", int(m.group(1)))
            if entry is None:
                n = sum(e.kind == "sequence" for e in self.entries)
                raise UnknownReference(f"there is no sequence {m.group(1)} (this conversation has {n})")
        else:
            seq, error = clean(text)
            if seq is None:
                raise UnknownReference(error)
            return seq
        if entry.value is None:
            raise UnknownReference(entry.error)
        return entry.value

    def store(self, kind: str, value: str, source: str) -> str:
        """A long tool result kept here; the LLM gets its placeholder."""
        return self.add(kind, value, source=source).placeholder()

    def expand(self, text: str) -> str:
        """A reply with every `[kind n]` reference to a stored value written out."""

        def value(m: re.Match) -> str:
            entry = self.get(m.group(1), int(m.group(2)))
            return entry.value if entry is not None and entry.value is not None else m.group(0)

        return REFERENCE.sub(value, text)
