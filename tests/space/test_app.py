"""The Gradio Space (space/app.py) with the shipped model, served on loopback and called through gradio_client:
every endpoint, bad inputs with their specific messages, long inputs windowed; and what the app imports."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

gradio = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

ROOT = Path(__file__).resolve().parents[2]
CDS = ("ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTC"
       "AGTGGAGAGGGTGAAGGTGATGCAACATACGGAAAACTTACCCTTAAATTTATTTGCACTACTGGAAAACTACCTGTTCCATGGCCAACA")


def exact(task, seq):
    from tasks.grammar import exact_answer, parse_answer

    return parse_answer(task, exact_answer(task, seq))


def text_of(message: dict) -> str:
    """A chat message's text: Gradio 6 sends content as a list of parts ({"type": "text", "text": ...})."""
    content = message["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def error_of(client, *args, api_name):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as e:
        client.predict(*args, api_name=api_name)
    return str(e.value)


# --- endpoints ------------------------------------------------------------------------------------------------

def test_every_endpoint_is_named(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/chat", "/classify", "/gc_content", "/translate", "/reverse_complement", "/describe", "/batch"} <= names


def test_gc_content_shows_model_and_exact_answer_with_a_mark_and_a_plot(client):
    md, plot = client.predict(">my read\nacgu tgca\nAGGCTTAC\n" + CDS.lower(), None, api_name="/gc_content")
    seq = "ACGTTGCAAGGCTTAC" + CDS
    assert "**Model's answer:** 0." in md
    assert f"**Exact answer** (computed with Biopython): {exact('gc_content', seq):.3f}" in md
    assert "AGREES" in md  # ✓ AGREES or ✗ DISAGREES
    assert plot and plot.get("type") == "matplotlib"


def test_classify_gives_probabilities_of_every_label(client, loaded):
    from modeling.scores import label_probabilities

    md, label = client.predict("splice_site", CDS, None, api_name="/classify")
    confs = {c["label"]: c["confidence"] for c in label["confidences"]}
    assert set(confs) == {"donor", "acceptor", "none"}
    assert math.isclose(sum(confs.values()), 1.0, abs_tol=1e-6)
    tok, model = loaded
    local = label_probabilities(model, tok, "splice_site", CDS)
    assert all(math.isclose(confs[k], local[k], abs_tol=1e-4) for k in local)
    assert "**Class probabilities**" in md and "**Model's answer:**" in md


def test_translate_checks_against_the_exact_protein_and_draws_frames(client):
    md, plot = client.predict(CDS, None, api_name="/translate")
    assert f"`{exact('nt2aa', CDS)}`" in md and "AGREES" in md
    assert plot and plot.get("type") == "matplotlib"


@pytest.mark.parametrize("op", ["reverse_complement", "reverse", "complement"])
def test_reverse_complement_tab(client, op):
    seq = CDS[:60]
    md = client.predict(op, seq.lower(), None, api_name="/reverse_complement")
    assert f"**Exact answer** (computed with Biopython): `{exact(op, seq)}`" in md
    assert "positions match" in md or "✓ **AGREES**" in md


def test_describe_gene_answers_in_words(client):
    md = client.predict("gene_description", CDS, None, api_name="/describe")
    assert "**Task:** gene_description" in md and "**Model's answer:**" in md


def test_chat_routes_words_to_a_task_and_says_which(client):
    history, box, plot = client.predict("what's the GC content?", [], CDS, None, api_name="/chat")
    reply = text_of(history[-1])
    assert "Routed to task **gc_content**" in reply and "Exact answer" in reply and box == ""
    assert plot and plot.get("type") == "matplotlib"
    history, _, plot = client.predict("is this a promoter?", history, CDS, None, api_name="/chat")
    assert "Routed to task **promoter**" in text_of(history[-1]) and len(history) == 4 and plot is None
    history, _, _ = client.predict("reverse complement of ACGTTGCAAGG", [], "", None, api_name="/chat")
    assert "reverse_complement" in text_of(history[-1]) and "CCTTGCAACGT" in text_of(history[-1])
    history, _, _ = client.predict("translate", [], "", None, api_name="/chat")  # no sequence yet: asks for one
    assert "paste a sequence" in text_of(history[-1])


def test_chat_reads_a_field_question_instead_of_routing_its_keywords(client):
    question = "symbol=TP53, biotype=protein_coding, ACGTACGTAA, what is the symbol? ="
    history, _, plot = client.predict(question, [], "", None, api_name="/chat")
    reply = text_of(history[-1])
    assert "reading_comprehension" in reply and "field: TP53" in reply and "gene_biotype" not in reply
    history, _, _ = client.predict("symbol=TP53, ACGTACGTAA, what is the gene? =", [], "", None, api_name="/chat")
    assert "'gene', which no field" in text_of(history[-1])


def test_chat_asks_to_clarify_when_nothing_matches(client):
    history, _, plot = client.predict("hello, how are you?", [], CDS, None, api_name="/chat")
    assert "couldn't tell which question" in text_of(history[-1]) and plot is None


def test_the_chat_tab_uses_the_assistant_where_its_base_is_at_hand(monkeypatch, tmp_path):
    """Unset ("auto"): the assistant where SmolLM2 is converted, else the keyword router; "off" always the router."""
    import assistant.chat
    import tasks.paths
    from space import app

    loaded = []
    monkeypatch.setattr(assistant.chat, "load_assistant", lambda adapter, base, tools: loaded.append(adapter) or "bot")
    monkeypatch.setattr(tasks.paths, "CHAT_BASE_DIR", tmp_path)
    monkeypatch.delitem(app.STATE, "assistant", raising=False)  # the served app's choice comes back afterwards
    for env, marker, expected in [(None, False, None), (None, True, "bot"), ("off", True, None), ("on", False, "bot")]:
        if env is None:
            monkeypatch.delenv("GENOMICLLM_ASSISTANT", raising=False)
        else:
            monkeypatch.setenv("GENOMICLLM_ASSISTANT", env)
        (tmp_path / tasks.paths.CHAT_BASE_MARKER).unlink(missing_ok=True)
        if marker:
            (tmp_path / tasks.paths.CHAT_BASE_MARKER).write_text("{}")
        app.STATE.pop("assistant", None)
        assert app.get_assistant() == expected, (env, marker)
    assert loaded == [app.ASSISTANT_DIR, app.ASSISTANT_DIR]


def test_batch_fasta_to_csv(client, tmp_path):
    from gradio_client import handle_file

    fasta = tmp_path / "many.fa"
    fasta.write_text(">one\nACGTTGCAAGGCTTAC\n>two\nggggccccaattacgt\n>three\n" + CDS + "\n")
    path, summary, _ = client.predict("gc_content", "", handle_file(str(fasta)), api_name="/batch")
    rows = list(csv.DictReader(Path(path).read_text().splitlines()))
    assert [r["name"] for r in rows] == ["one", "two", "three"]
    assert rows[1]["exact"] == f"{exact('gc_content', 'GGGGCCCCAATTACGT'):.3f}"
    assert {"answer", "agrees", "parseable"} <= set(rows[0]) and "3 record(s)" in summary
    path, _, _ = client.predict("promoter", ">a\n" + CDS + "\n>b\n" + CDS[::-1] + "\n", None, api_name="/batch")
    rows = list(csv.DictReader(Path(path).read_text().splitlines()))
    assert len(rows) == 2 and {"p_yes", "p_no"} <= set(rows[0])


def test_long_sequences_are_windowed_explicitly(client, loaded):
    from space.core import window_size

    gc, rc = (window_size(*loaded, t) for t in ("gc_content", "reverse_complement"))  # from the model's context
    long = (CDS * (3 * gc // len(CDS) + 1))[: 2 * gc + 300]  # three windows, the last 300 nt
    md, _ = client.predict(long, None, api_name="/gc_content")
    assert "in 3 windows" in md and "cut into 3 windows" in md and f"| 3 | {2 * gc + 1}–{2 * gc + 300} |" in md
    assert f"{exact('gc_content', long):.3f}" in md
    md, label = client.predict("promoter", long, None, api_name="/classify")
    assert "window votes" in md and len(label["confidences"]) == 2
    two = (CDS * (2 * rc // len(CDS) + 1))[: rc + 60]  # one window and a bit
    md = client.predict("reverse_complement", two, None, api_name="/reverse_complement")
    assert "in 2 windows" in md and "last window first" in md
    md = client.predict("complement", two, None, api_name="/reverse_complement")
    assert "in 2 windows" in md and "joined in order" in md


# --- bad input ------------------------------------------------------------------------------------------------

def test_non_dna_letters_are_named_with_line_and_column(client):
    msg = error_of(client, ">read\nACGTXACGT\nACJT", None, api_name="/gc_content")
    assert "'X' at line 2, column 5" in msg and "'J' at line 3, column 3" in msg and "Traceback" not in msg
    msg = error_of(client, "promoter", "hello world", None, api_name="/classify")
    assert "not a nucleotide sequence" in msg


def test_a_sequence_too_short_to_read_as_dna_is_refused_naming_the_rule(client):
    msg = error_of(client, "reverse_complement", "GAATTC", None, api_name="/reverse_complement")
    assert "GAATTC (6 letters) is too short to be read as DNA" in msg and "from 8 letters" in msg


def test_empty_input_is_refused(client):
    assert "No sequence given" in error_of(client, "", None, api_name="/translate")
    assert "No sequence given" in error_of(client, "gc_content", "   \n", None, api_name="/batch")
    assert "empty record" in error_of(client, ">only a header\n", None, api_name="/gc_content")
    assert "Type a question" in error_of(client, "", [], CDS, None, api_name="/chat")


def test_too_long_input_names_the_limit(client):
    from space.core import MAX_BASES

    msg = error_of(client, "ACGT" * (MAX_BASES // 4 + 1), None, api_name="/gc_content")
    assert f"{MAX_BASES + 4:,} letters" in msg and f"up to {MAX_BASES:,} bases" in msg


def test_many_records_in_a_single_question_tab_point_to_batch(client):
    msg = error_of(client, ">a\nACGTACGTAC\n>b\nACGTACGTAC\n", None, api_name="/gc_content")
    assert "2 FASTA records" in msg and "Batch" in msg


def test_a_task_outside_the_tab_is_refused(client):
    msg = error_of(client, "gc_content", CDS, None, api_name="/classify")  # Gradio checks the dropdown
    assert "gc_content is not in the list of choices" in msg and "promoter" in msg
    msg = error_of(client, "gene_name", CDS, None, api_name="/reverse_complement")  # and the radio
    assert "'gene_name'" in msg and "not in the list of choices" in msg


# --- what the app is made of ----------------------------------------------------------------------------------

def test_tabs_offer_the_tasks_their_entries_describe():
    from space import app
    from tasks.registry import TASKS

    assert set(app.DNA_TASKS) == {"reverse", "complement", "reverse_complement"}
    assert set(app.TEXT_TASKS) == {"gene_description", "gene_name"}
    assert all(TASKS[n].labels for n in app.CLASSIFY_TASKS) and "histone_mark" in app.CLASSIFY_TASKS


def test_the_app_imports_only_tasks_modeling_and_its_own_modules(shipped):
    """A fresh interpreter builds the app (model loaded) with the packages the Space does not install made absent:
    nothing needed them, and no module of the data, training or Hub code was imported."""
    absent = ["pyfaidx", "pyliftover", "datasets", "sentencepiece", "rouge_score"]
    code = f"""
import sys
for name in {absent!r}:
    sys.modules[name] = None  # as if not installed: importing it raises ImportError, find_spec says absent
import os
os.environ["GENOMICLLM_MODEL"] = {str(shipped)!r}
from space import app
app.build_demo()
packages = {{n.split(".")[0] for n, m in sys.modules.items() if m is not None}}
print(sorted(packages & {{"dataset_scripts", "finetune", "hub", "tokenizer", "studies", *{absent!r}}}))
print(sorted(p for p in packages if p in ("tasks", "modeling", "space")))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines() == ["[]", "['modeling', 'space', 'tasks']"]


def test_classify_by_a_benchmarks_own_head_or_a_clear_error(client, loaded):
    from modeling.scores import label_probabilities

    md, label = client.predict("histone_mark", CDS, None, "GUE/emp_H4", api_name="/classify")
    confs = {c["label"]: c["confidence"] for c in label["confidences"]}
    tok, model = loaded
    local = label_probabilities(model, tok, "histone_mark", CDS, benchmark="GUE/emp_H4")
    assert all(math.isclose(confs[k], local[k], abs_tol=1e-4) for k in local)
    assert "head fitted on GUE/emp_H4 alone" in md
    md, _ = client.predict("histone_mark", CDS, None, None, api_name="/classify")  # pooled: the others named
    assert "the task's head, fitted on all its benchmarks; GUE/emp_H3, " in md
    msg = error_of(client, "promoter", CDS, None, "GUE/emp_H4", api_name="/classify")  # another task's head
    assert "promoter has no head fitted on 'GUE/emp_H4'" in msg


def test_chat_asks_a_named_marks_own_head(client, loaded):
    from modeling.scores import label_probabilities

    history, _, _ = client.predict("does this carry H3K79me3?", [], CDS, None, api_name="/chat")
    reply = text_of(history[-1])
    tok, model = loaded
    probs = label_probabilities(model, tok, "histone_mark", CDS, benchmark="GUE/emp_H3K79me3")
    assert "head fitted on GUE/emp_H3K79me3 alone" in reply and "(from the label head)" in reply
    assert f"**Model's answer:** {max(probs, key=probs.get)}" in reply
    history, _, _ = client.predict("does this carry H3K27me3?", [], CDS, None, api_name="/chat")  # no such head
    assert text_of(history[-1]).startswith("I have no head for H3K27me3; the marks I was fitted on") and \
        "H3K79me3" in text_of(history[-1])
