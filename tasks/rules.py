"""The exact rules: what a program that knows the biology computes from the sequence alone (Biopython).

Each task that has one names it in its registry entry (`Task.rule`); `tasks.grammar.exact_answer` writes the rule's
value as the grammar writes answers. These are the evaluation's reference column and the Space's verification,
computed independently of the dataset builders.
"""

from __future__ import annotations

from Bio.Seq import Seq
from Bio.SeqUtils import gc_fraction


def gc_content(sequence: str) -> float:
    """Fraction of G+C among the unambiguous bases (N and other IUPAC letters are ignored)."""
    return gc_fraction(sequence, ambiguous="ignore")


def reverse(sequence: str) -> str:
    return sequence[::-1]


def complement(sequence: str) -> str:
    return str(Seq(sequence).complement())


def reverse_complement(sequence: str) -> str:
    return str(Seq(sequence).reverse_complement())


def translate(sequence: str) -> str:
    """One-letter protein of an in-frame coding fragment, standard code (table 1), stop as '*'."""
    return str(Seq(sequence).translate(table=1))


def read_from(base: int):
    """The sequence read from its `base`-th base (1-based): every reading frame shifted by `base` - 1."""
    return lambda sequence: sequence[base - 1 :]


# Other ways to read a sequence that a task's label follows (`Task.readings`): name -> the sequence so read.
READINGS = {"backwards": reverse, "from_base_2": read_from(2), "from_base_3": read_from(3)}

STOPS = ("TAA", "TAG", "TGA")


def find_orfs(sequence: str, min_codons: int = 10) -> list[tuple[int, int, int]]:
    """(frame 1-3, start, end) of ATG..stop ORFs on the forward strand, 0-based half-open, stop included."""
    out = []
    for frame in range(3):
        start = None
        for i in range(frame, len(sequence) - 2, 3):
            codon = sequence[i : i + 3]
            if start is None and codon == "ATG":
                start = i
            elif start is not None and codon in STOPS:
                if (i + 3 - start) // 3 >= min_codons:
                    out.append((frame + 1, start, i + 3))
                start = None
    return out
