"""The Chat tab's task router: a user's words -> one task, by keyword rules (no model involved).

`route(message)` finds a DNA sequence written in the message itself (a run of 8+ nucleotide letters) and the task
its words ask for. Rules are tried in order, so the more specific phrase wins ("reverse complement" before
"complement" before "reverse"). A message in the prompt grammar ("ACGT..., GC content =") routes by the task's phrase.
A histone question that names a mark ("does this carry H3K4me3?") also names the benchmark whose own head knows
that mark (`Route.benchmark`, GUE's `emp_H3K4me3`), the pooled head knowing none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .benchmarks import GUE_GROUPS
from .registry import TASKS

# (task, patterns) in priority order; patterns are regexes matched against the lower-cased message
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("reverse_complement", (r"reverse[ -]?complement", r"\brev[ -]?comp", r"\brc\b", r"other strand",
                            r"opposite strand", r"minus strand")),
    ("complement", (r"complement",)),
    ("sequence_direction", (r"direction", r"orientation", r"5'? ?-?> ?3'?", r"written backwards", r"\breversed\b")),
    ("reverse", (r"\breverse\b", r"backwards?", r"\breversed?\b")),
    ("gc_content", (r"\bg\s*\+?\s*c\b", r"gc[ -]?content", r"\bgc\b", r"gc%", r"guanine", r"cytosine")),
    ("gene_biotype", (r"biotype", r"protein[ -]coding", r"coding gene", r"non-?coding gene")),
    ("orf_frame", (r"coding frame", r"reading frame", r"\bframe\b", r"\borf\b")),
    ("nt2aa", (r"translat", r"protein", r"amino[ -]?acids?", r"peptide", r"\bnt2aa\b", r"\bcodons?\b")),
    ("splice_site", (r"splic", r"donor", r"acceptor", r"exon[ -]intron", r"intron")),
    ("regulatory", (r"regulatory element", r"kind of (regulatory|element)", r"which (regulatory|element)")),
    ("promoter", (r"promoter", r"\btss\b", r"transcription start")),
    ("enhancer", (r"enhancer",)),
    ("open_chromatin", (r"open chromatin", r"accessib", r"\bocr\b", r"atac", r"dnase")),
    ("tf_binding", (r"transcription factor", r"\btf\b", r"\btfbs\b", r"binding site", r"\bbind")),
    ("histone_mark", (r"histone", r"nucleosome", r"\bh3k", r"\bh4k", r"\bh4ac\b", r"methylat", r"acetylat")),
    ("gene_name", (r"gene name", r"full name", r"name of (the|this) gene", r"what('s| is) the name",
                   r"which gene", r"what gene")),
    ("gene_description", (r"describe", r"description", r"summary", r"summari[sz]e", r"function", r"what does",
                          r"tell me about", r"about this gene")),
]

DNA_RUN = re.compile(r"(?<![A-Za-z0-9])[ACGTUNacgtun](?:[ACGTUNacgtun\s]*[ACGTUNacgtun])?(?![A-Za-z])")
MIN_DNA = 8


MARK = re.compile(r"\b(h3k\d+(?:me[123]|ac)|h4k\d+(?:me[123]|ac)|h4ac|h[34])\b")  # lower-cased, as the rules read
MARK_BENCHMARK = f"GUE/{GUE_GROUPS['EMP'][0]}"  # a histone mark's benchmark: this + the mark (GUE/emp_H3K4me3)


@dataclass(frozen=True)
class Route:
    task: str | None  # None: nothing matched, ask the user to clarify
    matched: str  # the words that decided it (empty when nothing matched)
    sequence: str | None  # a DNA run found in the message itself, whitespace removed
    benchmark: str | None = None  # a histone mark named: the GUE benchmark of that mark (its own head answers)


def mark_benchmark(text: str) -> str | None:
    """The GUE histone-mark benchmark a lower-cased message names ("h3k4me3" -> "GUE/emp_H3K4me3"), else None."""
    m = MARK.search(text)
    if m is None:
        return None
    mark = m.group(1).upper().replace("ME", "me").replace("AC", "ac")  # H3K4me3, H4ac, H3
    return MARK_BENCHMARK + mark


def benchmark_mark(benchmark: str) -> str:
    """The histone mark a benchmark name stands for ("GUE/emp_H3K4me3" -> "H3K4me3"), `mark_benchmark`'s inverse."""
    return benchmark.removeprefix(MARK_BENCHMARK)


def find_sequence(message: str) -> tuple[str | None, str]:
    """(longest nucleotide run of 8+ letters in the message, the message with it removed)."""
    best = None
    for m in DNA_RUN.finditer(message):
        letters = re.sub(r"\s", "", m.group())
        if len(letters) >= MIN_DNA and (best is None or len(letters) > len(re.sub(r"\s", "", best.group()))):
            best = m
    if best is None:
        return None, message
    return re.sub(r"\s", "", best.group()), message[: best.start()] + " " + message[best.end():]


def route(message: str) -> Route:
    sequence, words = find_sequence(message)
    text = words.lower()
    # the prompt grammar itself: "..., <task phrase> ="
    for name, task in TASKS.items():
        if task.phrase and re.search(rf"(^|,)\s*{re.escape(task.phrase.lower())}\s*=?\s*$", text.strip()):
            return Route(name, task.phrase, sequence)
    for name, patterns in RULES:
        for pattern in patterns:
            m = re.search(pattern, text)
            if m:
                return Route(name, m.group().strip(), sequence,
                             mark_benchmark(text) if name == "histone_mark" else None)
    return Route(None, "", sequence)


EXAMPLES = {
    "gc_content": "what's the GC content?",
    "nt2aa": "translate this",
    "reverse_complement": "reverse complement",
    "promoter": "is this a promoter?",
    "splice_site": "is there a splice site?",
    "gene_description": "describe this gene",
}

__all__ = ["EXAMPLES", "RULES", "Route", "find_sequence", "benchmark_mark", "mark_benchmark", "route"]
