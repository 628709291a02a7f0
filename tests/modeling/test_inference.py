"""modeling.inference (the path the demo and the Space share) on a tiny release: input cleaning, clear refusals, parsing."""

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


def test_a_sequence_the_tokenizer_reads_as_a_word_is_refused_naming_the_rule(tiny):
    from modeling.inference import SequenceTooShortError, ask, clean, shortest_dna
    from tokenizer.rule import MIN_IUPAC_RUN, MIN_RUN

    tok, model = tiny
    with pytest.raises(SequenceTooShortError, match=rf"ACG \(3 letters\).* from {MIN_RUN} letters"):
        ask(tok, model, "reverse_complement", "acg")
    with pytest.raises(SequenceTooShortError, match=rf"from {MIN_IUPAC_RUN} letters with IUPAC codes such as R"):
        clean(tok, "ACGTRACGTA")
    assert clean(tok, "acgt acgt") == "ACGTACGT"  # MIN_RUN letters: bases, as in a sentence
    assert shortest_dna(tok) == MIN_RUN and shortest_dna(tok, "R") == MIN_IUPAC_RUN  # the rule, read off the tokenizer
    assert clean(tok, "ACGTRACGTA" * 2) == "ACGTRACGTA" * 2
