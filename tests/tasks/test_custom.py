"""tasks/custom.py: a user's task is a registry Task the grammar renders and parses, refused with a message when
the grammar could not carry its name, phrase or labels, and kept as JSON that reads back to the same Task."""

from __future__ import annotations

import pytest

from tasks import parse_answer, render_example
from tasks.custom import TaskDefinitionError, custom_task, read_task_file, write_task_file
from tasks.grammar import Unparseable, split_example
from tasks.metrics import score


def test_a_user_task_goes_through_the_grammar_and_the_metrics():
    t = custom_task("mouse_tf", None, ["no", "yes"])
    assert t.phrase == "mouse tf" and t.kind == "classify" and not t.paper
    prompt, answer = render_example(t, "ACGTACGTAA", "yes")
    assert prompt == "ACGTACGTAA, mouse tf =" and split_example(f"{prompt} {answer}") == (prompt, "yes")
    assert parse_answer(t, " yes") == "yes" and isinstance(parse_answer(t, "maybe"), Unparseable)
    assert set(score(t, ["yes", "no"], ["yes", parse_answer(t, "x")])) >= {"mcc", "accuracy", "macro_f1"}


@pytest.mark.parametrize("name, phrase, labels, message", [
    ("promoter", None, ["a", "b"], "built-in task"),
    ("My Task", None, ["a", "b"], "lower-case"),
    ("t", "is it = here", ["a", "b"], "may not contain"),
    ("t", "a, b", ["a", "b"], "separates the prompt"),
    ("t", None, ["a"], "two or more labels"),
    ("t", None, ["a", "a"], "repeat"),
    ("t", None, ["a", "b = c"], "may not contain"),
    ("t", None, ["a", " b"], "spaces at either end"),
])
def test_what_the_grammar_cannot_carry_is_refused_by_name(name, phrase, labels, message):
    with pytest.raises(TaskDefinitionError, match=message):
        custom_task(name, phrase, labels)


def test_the_task_file_reads_back_the_same_task(tmp_path):
    t = custom_task("enh_x", "enhancer in my cells", ["weak", "strong", "none"])
    write_task_file(tmp_path, t, objective="head", label_map={"0": "weak"})
    back, meta = read_task_file(tmp_path)
    assert back == t and meta == {"objective": "head", "label_map": {"0": "weak"}}
    with pytest.raises(FileNotFoundError, match="genomicllm finetune"):
        read_task_file(tmp_path / "elsewhere")
