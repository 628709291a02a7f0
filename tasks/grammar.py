"""The prompt grammar ("simple grammar" of the original GenomicLLM), rendering and parsing, in one place.

    <key=value fields and the sequence, comma-separated>, <task phrase> = <answer>

e.g. `chromosome=20, ACGTTGCA, GC content = 0.500`. The first " = " (spaces on both sides) separates question from
answer: field values are written `key=value` without spaces around "=", and may not contain " = " or ", " (rejected).
The end-of-answer token is the tokenizer's business, not the grammar's.

`parse_answer` turns a model's answer text back into a label / number / sequence, or an `Unparseable` carrying the
reason; it never guesses (an unparseable answer counts as wrong in every metric).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from Bio.SeqUtils import seq1, seq3

from .registry import Task, get_task

SEP = " = "
FIELD_SEP = ", "
KEY_SEP = "="  # key=value
DNA = re.compile(r"^[ACGTN]+$")
THREE_LETTER = re.compile(r"[A-Z][a-z]{2}")
_AA3 = {seq3(a) for a in "ACDEFGHIKLMNPQRSTVWYUO"} | {"Ter", "Xaa"}


def render_fields(fields: dict[str, Any]) -> list[str]:
    out = []
    for key, value in fields.items():
        text = str(value)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"field name {key!r} must be an identifier")
        if SEP in text or FIELD_SEP in text or "\n" in text or text == "":
            raise ValueError(f"field {key}={text!r}: values may not be empty or contain {SEP!r}, {FIELD_SEP!r} or newlines")
        out.append(f"{key}{KEY_SEP}{text}")
    return out


def question_phrase(task: Task, question: str | None = None) -> str:
    if task.answer == "field":
        if not question:
            raise ValueError("reading_comprehension needs the field being asked about")
        return f"what is the {question}?"
    return task.phrase


def render_prompt(task: str | Task, sequence: str | None, fields: dict[str, Any] | None = None,
                  question: str | None = None) -> str:
    """The question part, ending in ' =' (what the model is given)."""
    task = get_task(task)
    parts = render_fields(fields or {})
    if sequence:
        parts.append(sequence)
    parts.append(question_phrase(task, question))
    return FIELD_SEP.join(parts) + SEP.rstrip()


def render_answer(task: str | Task, value: Any) -> str:
    """The answer text for a value: label string, number, DNA, 1-letter protein (written 3-letter), or text."""
    task = get_task(task)
    if task.kind == "classify":
        if str(value) not in task.labels:
            raise ValueError(f"{value!r} is not a label of {task.name}: {task.labels}")
        return str(value)
    if task.kind == "regress":
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"{task.name}: answer must be a finite number, got {value!r}")
        return f"{x:.{task.decimals}f}"
    if task.answer == "protein":
        return seq3(str(value))  # '*' -> 'Ter'
    return str(value)


def render_example(task: str | Task, sequence: str | None, answer: Any, fields: dict[str, Any] | None = None,
                   question: str | None = None) -> tuple[str, str]:
    """(prompt, answer) for training: the full text is `prompt + ' ' + answer`."""
    return render_prompt(task, sequence, fields, question), render_answer(task, answer)


FIELD_QUESTION = re.compile(r"what is the ([A-Za-z_][A-Za-z0-9_]*)\?")


def parse_field_question(text: str) -> tuple[dict[str, str], str | None, str] | None:
    """(fields, sequence or None, asked key) of a reading-comprehension question in the grammar
    ("symbol=TP53, start=7661779, ACGT..., what is the start? =", the " =" optional), or None when the text is not
    one. A part that is neither a field nor the sequence, or a key asked that no field has, is a ValueError."""
    parts = text.strip().removesuffix(SEP.rstrip()).rstrip().split(FIELD_SEP)
    asked = FIELD_QUESTION.fullmatch(parts[-1].strip())
    if asked is None:
        return None
    fields, sequence = {}, None
    for part in parts[:-1]:
        key, sep, value = part.strip().partition(KEY_SEP)
        if sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and value:
            fields[key] = value
        elif sequence is None and re.fullmatch(r"[ACGTNacgtn]+", part.strip()):
            sequence = part.strip()
        else:
            raise ValueError(f"{part.strip()[:40]!r} is neither a key=value field nor the DNA sequence")
    if asked.group(1) not in fields:
        raise ValueError(f"the question asks for {asked.group(1)!r}, which no field of the prompt has "
                         f"(fields: {', '.join(fields) or 'none'})")
    return fields, sequence, asked.group(1)


def split_example(text: str) -> tuple[str, str]:
    """Split a full example back into (prompt ending in ' =', answer)."""
    head, sep, tail = text.partition(SEP)
    if not sep:
        raise ValueError(f"no {SEP!r} in {text[:80]!r}")
    return head + SEP.rstrip(), tail


@dataclass(frozen=True)
class Unparseable:
    text: str
    reason: str

    def __bool__(self) -> bool:  # an unparseable answer is falsy, so `if parsed:` reads naturally
        return False


def parse_answer(task: str | Task, text: str) -> Any:
    """Parse answer text into: label str (classify), float (regress), DNA str, 1-letter protein str, or text."""
    task = get_task(task)
    answer = text.strip()
    if not answer:
        return Unparseable(text, "empty answer")
    if task.kind == "classify":
        return answer if answer in task.labels else Unparseable(text, f"not one of {task.labels}")
    if task.kind == "regress":
        try:
            x = float(answer)
        except ValueError:
            return Unparseable(text, "not a number")
        if not math.isfinite(x):
            return Unparseable(text, "not finite")
        lo, hi = task.value_range or (-math.inf, math.inf)
        return x if lo <= x <= hi else Unparseable(text, f"{task.phrase} outside [{lo:g}, {hi:g}]")
    if task.answer == "dna":
        return answer if DNA.match(answer) else Unparseable(text, "not a DNA sequence (A, C, G, T, N)")
    if task.answer == "protein":
        codes = THREE_LETTER.findall(answer)
        if "".join(codes) != answer or any(c not in _AA3 for c in codes):
            return Unparseable(text, "not a run of 3-letter amino-acid codes")
        return seq1(answer, custom_map={"Ter": "*"})
    return answer


def read_fields(fields: dict | str | None) -> dict:
    """A row's fields as a dict: the corpus stores them as a JSON string."""
    return json.loads(fields) if isinstance(fields, str) else (fields or {})


def exact_answer(task: str | Task, sequence: str, fields: dict | str | None = None,
                 question: str | None = None) -> str | None:
    """Answer text (as the grammar writes it) computed by the task's exact rule, or the asked field read back from
    the prompt's own fields (reading comprehension); None when the task has neither."""
    task = get_task(task)
    if task.rule is not None:
        return render_answer(task, task.rule(sequence))
    if task.answer == "field":
        fields = read_fields(fields)
        return str(fields[question]) if question in fields else None
    return None
