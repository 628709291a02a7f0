import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.grammar import (Unparseable, parse_answer, parse_field_question, render_example, render_prompt,
                           split_example)
from tasks.registry import TASKS

dna = st.text(alphabet="ACGT", min_size=1, max_size=300)


def test_prompt_shape_matches_the_original_grammar():
    prompt, answer = render_example("gc_content", "GGCTA", 0.6, {"chromosome": "20"})
    assert prompt == "chromosome=20, GGCTA, GC content ="
    assert answer == "0.600"


def test_reading_comprehension_asks_about_the_field():
    prompt = render_prompt("reading_comprehension", "ACGT", {"symbol": "PCNA"}, question="symbol")
    assert prompt == "symbol=PCNA, ACGT, what is the symbol? ="


@given(dna, st.sampled_from(["symbol", "start", "strand"]))
def test_field_questions_parse_back(seq, key):
    fields = {"symbol": "RP11-167P23.4", "start": "1141228", "strand": "+"}
    prompt = render_prompt("reading_comprehension", seq, fields, question=key)
    assert parse_field_question(prompt) == (fields, seq, key)
    assert parse_field_question(prompt.removesuffix(" =")) == (fields, seq, key)  # the " =" may be left out


def test_field_questions_that_cannot_be_answered_are_refused():
    assert parse_field_question("ACGTACGT, GC content =") is None  # not a field question: for the other tasks
    with pytest.raises(ValueError, match="'end', which no field"):
        parse_field_question("symbol=PCNA, ACGT, what is the end? =")
    with pytest.raises(ValueError, match="neither a key=value field nor the DNA"):
        parse_field_question("symbol=PCNA, hello there, what is the symbol? =")


@given(dna, st.sampled_from(["reverse", "complement", "reverse_complement"]))
def test_generated_dna_round_trips(seq, task):
    prompt, answer = render_example(task, seq, seq)
    assert split_example(prompt + " " + answer) == (prompt, answer)
    assert parse_answer(task, answer) == seq


@given(st.floats(0, 1))
def test_gc_round_trips_to_three_decimals(x):
    _, answer = render_example("gc_content", "ACGT", x)
    assert parse_answer("gc_content", answer) == pytest.approx(x, abs=5e-4)


@pytest.mark.parametrize("task", [t for t in TASKS.values() if t.kind == "classify"], ids=lambda t: t.name)
def test_every_label_round_trips(task):
    for label in task.labels:
        assert parse_answer(task, render_example(task, "ACGT", label)[1]) == label


def test_nt2aa_uses_three_letter_codes_and_parses_back():
    _, answer = render_example("nt2aa", "ATGTTTTAA", "MF*")
    assert answer == "MetPheTer"
    assert parse_answer("nt2aa", answer) == "MF*"


@pytest.mark.parametrize("task, text", [
    ("splice_site", "maybe"), ("splice_site", ""), ("gc_content", "high"), ("gc_content", "1.5"),
    ("reverse_complement", "ACGU!"), ("nt2aa", "MetPh"), ("nt2aa", "MetFooAla"), ("promoter", "Yes please"),
])
def test_unparseable_answers_are_reported_not_guessed(task, text):
    parsed = parse_answer(task, text)
    assert isinstance(parsed, Unparseable) and not parsed and parsed.reason


def test_fields_that_would_break_the_grammar_are_rejected():
    with pytest.raises(ValueError, match="may not"):
        render_prompt("gene_description", "ACGT", {"full_name": "solute carrier family 2, member 1"})
    with pytest.raises(ValueError, match="not a label"):
        render_example("splice_site", "ACGT", "intron")
