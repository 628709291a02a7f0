"""The exact rules and the answers they give through the grammar, computed independently of the dataset builders."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks import TASKS, exact_answer, get_task, parse_answer

DNA = st.text(alphabet="ACGT", min_size=1, max_size=300)


def test_exact_rule_is_independent_of_the_builders():
    assert exact_answer("gc_content", "GGCA") == "0.750"
    assert exact_answer("reverse_complement", "AACG") == "CGTT"
    assert exact_answer("complement", "AACG") == "TTGC"
    assert exact_answer("nt2aa", "ATGTTTTAA") == "MetPheTer"
    assert exact_answer("reading_comprehension", "ACGT", '{"strand": "-"}', "strand") == "-"
    assert exact_answer("splice_site", "ACGT") is None


@given(DNA)
def test_reverse_complement_is_reverse_of_complement_and_an_involution(seq):
    rc = get_task("reverse_complement").rule
    assert rc(seq) == get_task("reverse").rule(get_task("complement").rule(seq))
    assert rc(rc(seq)) == seq


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="ACGT", min_size=3, max_size=300).map(lambda s: s[: len(s) - len(s) % 3]))
def test_every_rule_answer_parses_back_to_the_rule_value(seq):
    for task in TASKS.values():
        if task.rule is None:
            continue
        value = parse_answer(task, exact_answer(task, seq))
        expected = task.rule(seq)
        assert value == (float(f"{expected:.{task.decimals}f}") if task.answer == "number" else expected)
