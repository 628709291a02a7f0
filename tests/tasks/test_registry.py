"""The task registry: every task's behaviour is a field of its entry, and the entries are consistent."""

import pytest

from tasks import SEQUENCE_TASKS, TASKS, Task, get_task, parse_answer, render_answer
from tasks.benchmarks import CORPUS_CONFIGS, GB_CONFIG_TASKS, GUE_GROUPS


def test_get_task_resolves_names_and_passes_entries_through():
    task = get_task("gc_content")
    assert get_task(task) is task and task.answer == "number" and task.value_range == (0.0, 1.0)
    with pytest.raises(KeyError, match="known tasks: splice_site"):
        get_task("gc")


def test_answer_kind_decides_rendering_and_parsing():
    assert render_answer("nt2aa", "MK*") == "MetLysTer" and parse_answer("nt2aa", "MetLysTer") == "MK*"
    assert parse_answer("reverse", "ACGT") == "ACGT" and not parse_answer("reverse", "ACGU")
    assert not parse_answer("gc_content", "1.5") and parse_answer("gc_content", "0.250") == 0.25
    assert parse_answer("splice_site", "donor") == "donor" and not parse_answer("splice_site", "yes")


def test_entries_are_consistent():
    for task in TASKS.values():
        assert (task.kind == "classify") == (task.answer == "label") == bool(task.labels)
        assert task.exact == (task.rule is not None or task.answer == "field")
        assert task.metrics, task.name
    assert "reading_comprehension" not in SEQUENCE_TASKS and "gc_content" in SEQUENCE_TASKS


def test_bad_entries_are_refused():
    with pytest.raises(ValueError, match="answer 'digits'"):
        Task("x", "regress", "x", answer="digits")
    with pytest.raises(ValueError, match="classification tasks and only they have labels"):
        Task("x", "classify", "x")


def test_every_benchmark_config_names_a_known_task_and_its_labels():
    for tasks in CORPUS_CONFIGS.values():
        assert all(get_task(t) for t in tasks)
    for _, task, labels in GUE_GROUPS.values():
        assert set(labels.values()) <= set(get_task(task).labels)
    for entry in filter(None, GB_CONFIG_TASKS.values()):
        task, labels = entry
        assert set(labels.values()) <= set(get_task(task).labels)
