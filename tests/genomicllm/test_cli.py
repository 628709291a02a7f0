"""The `genomicllm` command: help on every subcommand, a question answered through the shipped model's path, bad
input refused with a message naming it, and `score` giving the evaluation's metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from genomicllm.cli import main, parse_question

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "genomicllm", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, env={"PATH": "", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})


@pytest.mark.parametrize("sub", ["ask", "score", "serve"])
def test_every_subcommand_says_what_it_does(sub, capsys):
    with pytest.raises(SystemExit) as e:
        main([sub, "--help"])
    assert e.value.code == 0 and "--model" in capsys.readouterr().out


def test_question_in_words_or_grammar_is_routed():
    r = parse_question("ACGTACGTAA, GC content =")
    assert (r.task, r.sequence, r.benchmark) == ("gc_content", "ACGTACGTAA", None)
    r = parse_question("reverse complement of acgtacgtaa please")
    assert (r.task, r.sequence) == ("reverse_complement", "acgtacgtaa")
    assert parse_question("does ACGTACGTAA carry H3K4me3?").benchmark == "GUE/emp_H3K4me3"  # the mark's own head
    with pytest.raises(ValueError, match="pass --task"):
        parse_question("ACGTACGTAA, hello")
    with pytest.raises(ValueError, match="no DNA sequence"):
        parse_question("what is the GC content?")


def test_ask_reads_a_field_question_and_checks_it_against_the_field(tiny_release):
    out = run("ask", "--model", str(tiny_release), "symbol=TP53, start=7661779, ACGTACGTAA, what is the symbol? =")
    assert out.returncode == 0 and "what is the symbol? =" in out.stdout and "exact: TP53" in out.stdout
    out = run("ask", "--model", str(tiny_release), "symbol=TP53, ACGTACGTAA, what is the gene? =")
    assert out.returncode == 2 and "'gene', which no field" in out.stderr  # never routed to another task


def test_ask_answers_and_checks_the_exact_rule(tiny_release):
    out = run("ask", "--model", str(tiny_release), "--task", "gc_content", "-", stdin=">x\nacgtacgtgg\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ACGTACGTGG, GC content =") and "exact: 0.600" in out.stdout


def test_ask_prints_a_class_with_every_labels_probability(tiny_release):
    out = run("ask", "--model", str(tiny_release), "--task", "splice_site", "ACGTACGTGGCCATTAGG")
    assert out.returncode == 0, out.stderr
    answer = out.stdout.splitlines()[0].rsplit("= ", 1)[1]
    probs = dict(p.split() for p in out.stdout.splitlines()[1].removeprefix("probabilities: ").split(", "))
    assert set(probs) == {"donor", "acceptor", "none"} and answer == max(probs, key=lambda k: float(probs[k]))
    assert abs(sum(map(float, probs.values())) - 1) < 0.01


def test_ask_refuses_bad_input_naming_it(tiny_release):
    out = run("ask", "--model", str(tiny_release), "--task", "gc_content", "ACGTXACGT")
    assert out.returncode == 2 and "X" in out.stderr and "error:" in out.stderr
    out = run("ask", "--model", str(tiny_release / "nope"), "ACGTACGTAA, GC content =")
    assert out.returncode != 0 and "no model folder" in out.stderr
    out = run("ask", "--model", str(tiny_release), "--task", "reverse_complement", "GAATTC")
    assert out.returncode == 2 and "GAATTC (6 letters) is too short to be read as DNA" in out.stderr


def test_score_prints_the_metrics_of_a_labelled_file(tiny_release, tmp_path):
    data = tmp_path / "mine.csv"
    data.write_text("sequence,label\nACGTACGTACGTAAAT,yes\nTTTTGGGGCCCCAAAA,no\nACGTTTGACCAGGTAC,yes\n")
    out = run("score", "--model", str(tiny_release), "--task", "promoter", "--data", str(data))
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)
    assert metrics["n"] == 3 and {"accuracy", "mcc", "unparseable_rate"} <= set(metrics)
    bad = tmp_path / "bad.csv"
    bad.write_text("seq,label\nACGT,yes\n")
    out = run("score", "--model", str(tiny_release), "--task", "promoter", "--data", str(bad))
    assert out.returncode != 0 and "missing column(s) ['sequence']" in out.stderr


def test_a_benchmark_the_model_has_no_head_for_is_refused_by_name(tiny_release):
    out = run("ask", "--model", str(tiny_release), "--task", "promoter", "--benchmark", "GUE/prom_300_all",
              "ACGTACGTGGCCATTAGG")
    assert out.returncode == 2 and "promoter has no head fitted on 'GUE/prom_300_all'" in out.stderr
    out = run("ask", "--adapter", "adapters/x", "--benchmark", "GUE/tf_2", "ACGTACGTGGCCATTAGG")
    assert out.returncode == 2 and "an adapter answers its task with its own" in out.stderr


def test_a_histone_mark_named_in_words_is_asked_of_its_own_head():
    out = run("ask", "does ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCC carry H4ac?")  # the shipped model
    assert out.returncode == 0, out.stderr
    assert "histone mark =" in out.stdout and "(Answered by the head fitted on GUE/emp_H4ac alone.)" in out.stdout
