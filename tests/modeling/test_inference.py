"""modeling.inference (the path the demo and the Space share) on a tiny release: input cleaning, clear refusals, parsing.

These test modeling/inference.py, not a space module: they came from tests/test_space.py and belong in
tests/modeling/test_inference.py (to be moved there with `git mv`)."""

import pytest


@pytest.fixture(scope="module")
def tiny(tiny_release):
    from modeling.inference import load

    return load(tiny_release)


def test_pasted_fasta_lowercase_and_rna_ask_the_same_question(tiny):
    from modeling.inference import ask
    from tasks.grammar import Unparseable

    tok, model = tiny
    plain = ask(tok, model, "gc_content", "ACGTTGCAAGGCTTAC")
    pasted = ask(tok, model, "gc_content", ">my read\nacgutgcaag\ngcttac\n")
    assert pasted.prompt == plain.prompt == "ACGTTGCAAGGCTTAC, GC content ="
    assert pasted.text == plain.text  # greedy: the same question gets the same answer
    assert plain.ok is not isinstance(plain.value, Unparseable)  # nonsense from a 2-step model is flagged, not hidden


def test_bad_letters_unknown_task_and_too_long_are_refused_clearly(tiny):
    from modeling.inference import QuestionTooLongError, ask

    tok, model = tiny
    with pytest.raises(ValueError, match=r"'X' at line 1, column 5"):
        ask(tok, model, "promoter", "ACGTXACGT")
    with pytest.raises(KeyError, match="gc_contnt"):
        ask(tok, model, "gc_contnt", "ACGT")
    limit = model.config.max_position_embeddings
    with pytest.raises(ValueError, match=f"{limit}"):  # nothing truncated: the tokens and the limit are named
        ask(tok, model, "reverse_complement", "ACGT" * limit)
    short = "ACG" * (limit // 2)  # fits as a question, but not with an answer as long as itself
    with pytest.raises(QuestionTooLongError, match="nothing was truncated"):
        ask(tok, model, "reverse_complement", short)
