"""The exact answer of the exact-computable tasks, computed from the question alone with Biopython.

This is the evaluation's reference column for these tasks: what a program that knows the rule scores (1.0 where the
dataset's gold answers are right), computed independently of the dataset builders, through the same grammar and
metrics as the model. Tasks whose answer depends on annotation (ORF frame, direction, biotype, …) have no such rule
and return None.
"""

from __future__ import annotations

import json

from Bio.Seq import Seq
from Bio.SeqUtils import gc_fraction

from dataset_scripts.grammar import render_answer

RULES = {
    "gc_content": lambda s: gc_fraction(s, ambiguous="ignore"),
    "reverse": lambda s: s[::-1],
    "complement": lambda s: str(Seq(s).complement()),
    "reverse_complement": lambda s: str(Seq(s).reverse_complement()),
    "nt2aa": lambda s: str(Seq(s).translate(table=1)),
}
EXACT_TASKS = (*RULES, "reading_comprehension")


def exact_answer(task: str, sequence: str, fields: dict | str | None = None, question: str | None = None) -> str | None:
    """Answer text (as the grammar writes it) computed by rule, or None when `task` has no rule."""
    if task in RULES:
        return render_answer(task, RULES[task](sequence))
    if task == "reading_comprehension":  # the asked field, read back from the prompt's own fields
        fields = json.loads(fields) if isinstance(fields, str) else (fields or {})
        return str(fields[question]) if question in fields else None
    return None
