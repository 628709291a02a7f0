"""modeling.inference (the path the demo and the Space share) on a tiny release: input cleaning, clear refusals, parsing."""

import pytest


@pytest.fixture(scope="module")
def loaded(tiny_release):
    from modeling.inference import load

    return load(tiny_release)


def test_pasted_fasta_lowercase_and_rna_ask_the_same_question(loaded):
    from modeling.inference import ask

    tok, model = loaded
    plain = ask(tok, model, "gc_content", "ACGTTGCAAGGCTTAC")
    pasted = ask(tok, model, "gc_content", ">my read\nacgutgcaag\ngcttac\n")
    assert pasted.prompt == plain.prompt == "ACGTTGCAAGGCTTAC, GC content ="
    assert pasted.text == plain.text  # greedy: the same question gets the same answer
    from tasks.grammar import Unparseable

    assert plain.ok is not isinstance(plain.value, Unparseable)  # nonsense from a 2-step model is flagged, not hidden


def test_bad_letters_unknown_task_and_too_long_are_refused_clearly(loaded):
    from modeling.inference import QuestionTooLongError, ask

    tok, model = loaded
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


def test_demo_prints_every_task(tiny_release, tiny_setup, capsys):
    from space.demo import main

    main(["--model", str(tiny_release), "--datasets", tiny_setup.datasets, "--split", "validation"])
    out = capsys.readouterr().out
    assert "[GenomicLLM_GRCh38/splice_site]" in out and "[GenomicLLM_GRCh38/reverse_complement:complement]" in out
    assert "sample answers agree with the gold answer" in out
