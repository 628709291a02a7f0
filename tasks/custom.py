"""A user's own classification task: a name, a prompt phrase and labels, checked against the grammar, built as a
registry `Task` at run time (the registry itself is never edited) and kept as JSON beside the adapter that answers it.

    ACGTTGCA…, <phrase> = <label>

`genomicllm finetune` writes `genomicllm_task.json` into the adapter folder; `modeling.inference.load_adapter`, the
Space and `genomicllm ask/score --adapter` read it back with `read_task_file`. The file holds the Task's own fields
(name, kind, phrase, labels, metrics, description) and a few facts of the run that made it (`meta`: how file labels
map to answer labels, the objective, the base model's shape), so a reader needs nothing but this package.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .grammar import FIELD_SEP, SEP
from .registry import TASKS, Task

TASK_FILE = "genomicllm_task.json"
FORMAT = 1
METRICS = ("mcc", "accuracy", "macro_f1")
OBJECTIVES = ("lm", "head")  # answer the label as text (causal LM) | a classifier head over the labels
NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")
MAX_PHRASE, MAX_LABEL = 80, 40


class TaskDefinitionError(ValueError):
    """A name, phrase or label the grammar cannot carry."""


def default_phrase(name: str) -> str:
    return name.replace("_", " ")


def _check_text(what: str, text: str, limit: int) -> None:
    if not text or text != text.strip():
        raise TaskDefinitionError(f"{what} {text!r} must be non-empty, without spaces at either end")
    if len(text) > limit:
        raise TaskDefinitionError(f"{what} {text!r} is {len(text)} characters; at most {limit}")
    bad = [s for s in ("=", "\n", "\r", "\t") if s in text]
    if bad:
        raise TaskDefinitionError(f"{what} {text!r} may not contain {bad}: the prompt grammar puts {SEP!r} "
                                  "between question and answer")


def custom_task(name: str, phrase: str | None, labels: tuple[str, ...] | list[str], description: str = "") -> Task:
    """The Task of a user's classification: `name` a lower-case identifier that is not a built-in task, `phrase`
    what the prompt says before ' =' (default: the name with spaces), two or more distinct labels."""
    if not NAME.fullmatch(name or ""):
        raise TaskDefinitionError(f"task name {name!r}: lower-case letters, digits and '_', starting with a letter, "
                                  "at most 48 characters (e.g. mouse_tf)")
    if name in TASKS:
        raise TaskDefinitionError(f"{name!r} is a built-in task; name yours differently (e.g. my_{name})")
    phrase = default_phrase(name) if phrase is None else phrase
    _check_text("phrase", phrase, MAX_PHRASE)
    if FIELD_SEP in phrase:
        raise TaskDefinitionError(f"phrase {phrase!r} may not contain {FIELD_SEP!r}: it separates the prompt's parts")
    labels = tuple(str(x) for x in labels)
    if len(labels) < 2:
        raise TaskDefinitionError(f"a classification needs two or more labels, got {list(labels)}")
    if len(set(labels)) != len(labels):
        raise TaskDefinitionError(f"labels {list(labels)} repeat a label")
    for label in labels:
        _check_text("label", label, MAX_LABEL)
    return Task(name, "classify", phrase, labels, METRICS,
                description or f"{phrase}: {' / '.join(labels)} (a user task)", paper=False)


def task_to_dict(task: Task) -> dict:
    return {"name": task.name, "kind": task.kind, "phrase": task.phrase, "labels": list(task.labels),
            "metrics": list(task.metrics), "description": task.description}


def task_from_dict(d: dict) -> Task:
    if d.get("kind", "classify") != "classify":
        raise TaskDefinitionError(f"user tasks are classifications; {d.get('name')!r} is {d.get('kind')!r}")
    return custom_task(d["name"], d["phrase"], d["labels"], d.get("description", ""))


def write_task_file(folder: Path, task: Task, **meta) -> Path:
    """`folder/genomicllm_task.json`: the task and the run's facts (`meta`, JSON-serialisable)."""
    if meta.get("objective", "lm") not in OBJECTIVES:
        raise TaskDefinitionError(f"objective {meta['objective']!r} is not one of {OBJECTIVES}")
    path = Path(folder) / TASK_FILE
    path.write_text(json.dumps({"format": FORMAT, "task": task_to_dict(task), "meta": meta}, indent=1) + "\n")
    return path


def read_task_file(folder: Path) -> tuple[Task, dict]:
    """(Task, meta) of an adapter folder; a message naming the folder when it holds no task file."""
    path = Path(folder) / TASK_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no {TASK_FILE} (not a folder written by `genomicllm finetune`)")
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT:
        raise TaskDefinitionError(f"{path}: format {data.get('format')!r}, this version reads {FORMAT}")
    meta = dict(data.get("meta") or {})
    meta.setdefault("objective", "lm")
    return task_from_dict(data["task"]), meta


__all__ = ["METRICS", "OBJECTIVES", "TASK_FILE", "TaskDefinitionError", "custom_task", "default_phrase",
           "read_task_file", "task_from_dict", "task_to_dict", "write_task_file"]
