"""GenomicLLM's answers for the assistant's learned-task tools: class probabilities and gene descriptions, windowed.

A sequence longer than one question can hold is cut into windows explicitly (`window_sequence`, aligned to the
codon and the tokenizer's k); classifiers average the windows' class probabilities weighted by length, a gene is
described from its first window (a description is of the gene's start). Nothing is truncated silently: the result
says how many windows were used.
"""

from __future__ import annotations

from modeling.inference import ask, window_align, window_size
from modeling.scores import label_probabilities
from tasks.grammar import Unparseable
from tasks.registry import Task, get_task


def windows(tok, model, task: Task, sequence: str) -> list[tuple[int, int, str]]:
    size = window_size(tok, model, task)
    if len(sequence) <= size:
        return [(0, len(sequence), sequence)]
    return [tuple(w) for w in tok.window_sequence(sequence, size, 0, align=window_align(tok))]


def classify(tok, model, task: str | Task, sequence: str) -> dict:
    """{"answer", "probabilities"}: the label with the highest length-weighted mean probability (and the number
    of windows, when there are several)."""
    t = get_task(task)
    wins = windows(tok, model, t, sequence)
    probs = dict.fromkeys(t.labels, 0.0)
    for start, end, seq in wins:
        for lab, p in label_probabilities(model, tok, t, seq).items():
            probs[lab] += p * (end - start) / len(sequence)
    answer = max(probs, key=probs.get)
    out = {"answer": answer, "probabilities": {k: round(v, 3) for k, v in probs.items()}}
    return {**out, "windows": len(wins)} if len(wins) > 1 else out


def describe(tok, model, sequence: str) -> dict:
    """{"description"}: GenomicLLM's gene description of the sequence's first window (and how long it was, when
    the sequence is longer)."""
    t = get_task("gene_description")
    wins = windows(tok, model, t, sequence)
    start, end, seq = wins[0]
    a = ask(tok, model, t, seq)
    text = a.text if not isinstance(a.value, Unparseable) else ""
    return {"description": text, **({"described_from_first_nt": end - start} if len(wins) > 1 else {})}
