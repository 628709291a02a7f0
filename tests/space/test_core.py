"""space/core.py without a server: input reading, windows and how window answers are joined (from the task's
entry, not its name), verification against the exact rule, the CSV row, and the pictures' geometry."""

from __future__ import annotations

import pytest

from tasks.grammar import Unparseable
from tasks.registry import TASKS, get_task

CDS = "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTC"


def result(task: str, windows: list[tuple[int, int, object]], seq: str):
    """A Result aggregated and verified from fake window answers [(start, end, value)]."""
    from space import core

    res = core.Result(get_task(task), seq, [core.Window(s, e, str(v), v) for s, e, v in windows], None)
    core._aggregate(res)
    core._verify(res)
    return res


def test_every_sequence_task_is_offered_with_a_window_that_fits_the_context():
    from types import SimpleNamespace

    from modeling.inference import PROMPT_OVERHEAD, TEXT_ANSWER_TOKENS, window_align, window_size
    from space.core import TASK_CHOICES

    assert "reading_comprehension" not in TASK_CHOICES and len(TASK_CHOICES) == len(TASKS) - 1
    model = lambda ctx: SimpleNamespace(config=SimpleNamespace(max_position_embeddings=ctx))  # noqa: E731
    per_base = SimpleNamespace(init_kwargs={"dna_scheme": "char", "dna_kmer": None})  # as tokenizer_config.json has it
    kmer6 = SimpleNamespace(init_kwargs={"dna_scheme": "kmer", "dna_kmer": 6})
    assert window_align(per_base) == 3 and window_align(kmer6) == 6  # windows keep the reading frame (and 6-mers)
    for tok, ctx, bases_per_token in ((per_base, 1024, 1.0), (kmer6, 512, 5.4)):
        for t in TASK_CHOICES:
            n, answer = window_size(tok, model(ctx), t), get_task(t).answer
            assert n % window_align(tok) == 0
            budget = {"dna": n / bases_per_token, "protein": n / 3, "text": TEXT_ANSWER_TOKENS}.get(answer, 8)
            assert n / bases_per_token + budget <= ctx - PROMPT_OVERHEAD + 8, (t, n)  # question + answer fit
    assert window_size(per_base, model(1024), "reverse") < window_size(per_base, model(1024), "promoter")


def test_a_tail_window_too_short_to_read_as_dna_shares_the_one_before_it():
    from types import SimpleNamespace

    from space.core import _windows
    from tokenizer.rule import MIN_RUN, RUN_PATTERN
    from tokenizer.tokenization_genomicllm import find_dna_spans, window_sequence

    tok = SimpleNamespace(init_kwargs={"dna_scheme": "char", "dna_kmer": None},  # windows start on codons
                          window_sequence=lambda seq, size, overlap, align: window_sequence(seq, size, overlap, align),
                          find_dna_spans=lambda text: find_dna_spans(text, RUN_PATTERN))
    task, seq = get_task("reverse_complement"), (CDS * 3)[:2 * 90 + 3]
    wins = _windows(tok, task, seq, 90)
    assert [(s, e) for s, e, _ in wins] == [(0, 90), (90, 135), (135, 183)]  # not (180, 183): 3 bases read as a word
    assert "".join(w for _, _, w in wins) == seq and all(e - s >= MIN_RUN for s, e, _ in wins)
    assert [(s, e) for s, e, _ in _windows(tok, task, seq[:-3] + "ACGTACGT", 90)][-1] == (180, 188)  # kept whole


def test_rules_that_read_backwards_join_windows_last_first():
    from space.core import reads_backwards

    assert {n for n, t in TASKS.items() if reads_backwards(t)} == {"reverse", "reverse_complement"}
    seq = CDS[:60]
    for task in ("reverse", "reverse_complement", "complement"):
        rule = get_task(task).rule
        res = result(task, [(0, 30, rule(seq[:30])), (30, 60, rule(seq[30:]))], seq)
        assert res.value == res.exact == rule(seq) and res.agree and res.identity == 1.0, task


def test_windowed_protein_and_number_answers():
    from space.core import markdown
    from tasks.metrics import NUMBER_TOLERANCE

    seq = CDS[:60] + "AC"
    res = result("nt2aa", [(0, 30, "MASKGEEL"), (30, 62, "FTGVVPILVEL")], seq)
    assert res.value == "MASKGEELFTGVVPILVEL" and res.exact == get_task("nt2aa").rule(seq[:60])
    assert any("2 trailing base(s)" in n for n in res.notes) and "joined in order" in " ".join(res.notes)
    res = result("gc_content", [(0, 40, 0.5), (40, 60, 0.2)], "GC" * 10 + "AT" * 10 + "GCAT" * 5)
    assert res.value == pytest.approx(0.4) and res.exact == 0.5 and not res.agree
    res = result("gc_content", [(0, 20, 0.5 - NUMBER_TOLERANCE / 2)], "GCAT" * 5)
    assert res.agree and f"tolerance {NUMBER_TOLERANCE}" in markdown(res)
    assert result("gc_content", [(0, 4, 0.5)], "NNNN").exact is None  # no A/C/G/T: undefined, not 0


def test_unparseable_window_answers_are_shown_not_hidden():
    from space.core import csv_row, markdown

    res = result("reverse", [(0, 10, Unparseable("ACGT?", "not DNA")), (10, 20, "ACGTACGTAC")], "ACGT" * 5)
    assert isinstance(res.value, Unparseable) and res.agree is False
    row = csv_row("r1", res)
    assert row["task"] == "reverse" and row["parseable"] is False and row["agrees"] is False
    assert "(unparseable: 1 of 2 window answers unparseable)" in markdown(res) and "✗ **DISAGREES**" in markdown(res)


def test_reading_comprehension_is_not_asked_here():
    from space.core import InputError, answer

    with pytest.raises(InputError, match="needs fields and a question"):
        answer(None, None, "reading_comprehension", "ACGT")


def test_records_are_read_cleaned_and_refused_with_the_line(loaded):
    from space.core import InputError, read_records

    tok, _ = loaded
    assert read_records(tok, ">a\nacgu\n>b\nGG CC\n", many=True) == [("a", "ACGT"), ("b", "GGCC")]
    with pytest.raises(InputError, match="2 FASTA records"):
        read_records(tok, ">a\nACGT\n>b\nACGT\n")
    with pytest.raises(InputError, match=r"record 'b': .*'X' at line 4, column 2"):
        read_records(tok, ">a\nACGT\n>b\nAXGT\n", many=True)
    with pytest.raises(InputError, match="No sequence given"):
        read_records(tok, "  ", None)


def test_orfs_and_gc_profile():
    from space.core import find_orfs, gc_profile

    seq = "CC" + "ATG" + "GCT" * 10 + "TAA" + "GG"
    assert find_orfs(seq) == [(3, 2, 38)]
    xs, ys, w = gc_profile("GGGGAAAA" * 10, window=8)
    assert w == 8 and min(ys) >= 0 and max(ys) <= 1 and len(xs) == len(ys)


def test_pictures_go_with_number_and_protein_answers():
    from space.core import picture

    assert picture(result("gc_content", [(0, 8, 0.5)], "GGCCAATT")) is not None
    assert picture(result("nt2aa", [(0, 6, "MA")], "ATGGCT")) is not None
    assert picture(result("reverse", [(0, 4, "TTGG")], "GGTT")) is None
