"""Fine-tuned GenomicLLM folders (`genomicllm finetune`) in the Space: each one's task joins the Classify tab.

    python -m space.app --adapter adapters/my_task --adapter user/name     # or GENOMICLLM_ADAPTERS="a,b"

Each is loaded by `modeling.inference.load_adapter` (a local folder or a Hub id) onto its own copy of the served
base model, so the base's other tabs answer as before. An adapter that answers in the grammar goes the base
model's way (`core.answer`: windows for long sequences, label probabilities from the answer-token scores); one
with a classification head gives the head's softmax, averaged over windows by length.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


from modeling import inference
from modeling.inference import load_adapter
from tasks.grammar import render_prompt
from tasks.registry import Task

from . import core

ENV = "GENOMICLLM_ADAPTERS"


@dataclass
class Adapter:
    location: str
    task: Task
    tok: object
    model: object
    meta: dict

    @property
    def head(self) -> bool:
        return self.meta.get("objective") == "head"


def locations(explicit: list[str] | None = None) -> list[str]:
    """Adapter folders / Hub ids: the ones given, else $GENOMICLLM_ADAPTERS (comma- or space-separated)."""
    given = explicit if explicit is not None else re.split(r"[,\s]+", os.environ.get(ENV, ""))
    return [x for x in (g.strip() for g in given) if x]


def load_all(where: list[str], base: str | None = None, base_revision: str | None = None) -> dict[str, Adapter]:
    """{task name: Adapter}; two adapters of one task name are an error naming both."""
    out: dict[str, Adapter] = {}
    for location in where:
        tok, model, task, meta = load_adapter(location, base, base_revision=base_revision)
        if task.name in out:
            raise ValueError(f"adapters {out[task.name].location} and {location} both answer task {task.name!r}")
        out[task.name] = Adapter(location, task, tok, model, meta)
    return out


def head_probabilities(a: Adapter, seq: str) -> dict[str, float]:
    probs = inference.head_probabilities(a.model, a.tok, [render_prompt(a.task, seq)])[0]
    return dict(zip(a.task.labels, probs.tolist()))


def answer(a: Adapter, seq: str, progress=None) -> core.Result:
    """The adapter's answer about a cleaned sequence, as a `core.Result` (shown by `core.markdown`)."""
    if not a.head:
        return core.answer(a.tok, a.model, a.task, seq, progress)
    size = core.window_size(a.tok, a.model, a.task)
    wins = (a.tok.window_sequence(seq, size, 0, align=core.window_align(a.tok)) if len(seq) > size
            else [(0, len(seq), seq)])
    windows = []
    for i, (start, end, piece) in enumerate(wins):
        if progress is not None:
            progress((i, len(wins)), desc=f"window {i + 1}/{len(wins)}")
        with core.LOCK:
            probs = head_probabilities(a, piece)
        windows.append(core.Window(start, end, "", max(probs, key=probs.get), probs))
    mean = {lab: sum(w.probs[lab] * (w.end - w.start) for w in windows) / len(seq) for lab in a.task.labels}
    notes = [f"Answered by the classification head of {a.location}."]
    if len(windows) > 1:
        notes.insert(0, f"The sequence ({len(seq):,} nt) was cut into {len(windows)} windows of up to {size:,} nt; "
                        "the label is the one with the highest length-weighted mean probability.")
    return core.Result(a.task, seq, windows, max(mean, key=mean.get), probs=mean, notes=notes)


__all__ = ["ENV", "Adapter", "answer", "head_probabilities", "load_all", "locations"]
