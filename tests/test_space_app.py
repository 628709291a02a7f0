"""The Gradio Space (space/app.py) with the shipped model, served on loopback and called through gradio_client:
every endpoint, bad inputs with their specific messages, long inputs windowed, 16 concurrent clients, and a
headless-Chromium screenshot of a real question. Also the router, the class-probability helper and the CLI."""

from __future__ import annotations

import csv
import math
import socket
from pathlib import Path

import pytest

gradio = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "release" / "GenomicLLM"
CDS = ("ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTC"
       "AGTGGAGAGGGTGAAGGTGATGCAACATACGGAAAACTTACCCTTAAATTTATTTGCACTACTGGAAAACTACCTGTTCCATGGCCAACA")

pytestmark = pytest.mark.skipif(not (MODEL / "model.safetensors").is_file(), reason="release/GenomicLLM not shipped")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    import os

    os.environ["GENOMICLLM_MODEL"] = str(MODEL)
    from space import app

    app.STATE.clear()
    demo = app.build_demo()
    port = free_port()
    demo.queue(default_concurrency_limit=1).launch(prevent_thread_lock=True, server_name="127.0.0.1",
                                                    server_port=port, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def loaded():
    from modeling.inference import load_model

    return load_model(MODEL)


def exact(task, seq):
    from tasks.grammar import parse_answer
    from tasks.rules import exact_answer

    return parse_answer(task, exact_answer(task, seq))


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
    from space.scores import label_probabilities

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
    history, box, _ = client.predict("what's the GC content?", [], CDS, None, api_name="/chat")
    reply = history[-1]["content"]
    assert "Routed to task **gc_content**" in reply and "Exact answer" in reply and box == ""
    history, _, _ = client.predict("is this a promoter?", history, CDS, None, api_name="/chat")
    assert "Routed to task **promoter**" in history[-1]["content"] and len(history) == 4
    history, _, _ = client.predict("reverse complement of ACGTTGCAAGG", [], "", None, api_name="/chat")
    assert "reverse_complement" in history[-1]["content"] and "CCTTGCAACGT" in history[-1]["content"]
    history, _, _ = client.predict("translate", [], "", None, api_name="/chat")  # no sequence yet: asks for one
    assert "paste a sequence" in history[-1]["content"]


def test_chat_asks_to_clarify_when_nothing_matches(client):
    history, _, plot = client.predict("hello, how are you?", [], CDS, None, api_name="/chat")
    assert "couldn't tell which question" in history[-1]["content"] and plot is None


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


def test_long_sequences_are_windowed_explicitly(client):
    long = (CDS * 30)[:5400]  # > the 2,400 nt window of GC content
    md, _ = client.predict(long, None, api_name="/gc_content")
    assert "in 3 windows" in md and "cut into 3 windows" in md and "| 3 | 4801–5400 |" in md
    assert f"{exact('gc_content', long):.3f}" in md
    md, label = client.predict("promoter", long, None, api_name="/classify")
    assert "window votes" in md and len(label["confidences"]) == 2
    md = client.predict("reverse_complement", CDS * 8, None, api_name="/reverse_complement")  # 1,440 nt > 1,200
    assert "in 2 windows" in md and "last window first" in md


# --- bad input ------------------------------------------------------------------------------------------------

def test_non_dna_letters_are_named_with_line_and_column(client):
    msg = error_of(client, ">read\nACGTXACGT\nACJT", None, api_name="/gc_content")
    assert "'X' at line 2, column 5" in msg and "'J' at line 3, column 3" in msg and "Traceback" not in msg
    msg = error_of(client, "promoter", "hello world", None, api_name="/classify")
    assert "not a nucleotide sequence" in msg


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


def test_unknown_task_is_refused(client):
    msg = error_of(client, "gc_content", CDS, None, api_name="/classify")  # Gradio checks the dropdown
    assert "gc_content is not in the list of choices" in msg and "promoter" in msg


# --- load, browser --------------------------------------------------------------------------------------------

def test_sixteen_concurrent_clients_without_errors(server):
    from space.load_test import report, run

    r = run(server, clients=16, requests=1)
    print("\n" + report(r))
    assert r["errors"] == [] and r["ok"] == 16


def test_headless_browser_shows_the_answer(server):
    from urllib.parse import quote

    from space.screenshot import capture, find_chromium

    if not find_chromium():
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium); the browser check needs it")
    seq = CDS[:60]
    url = f"{server}?q={quote('what is the GC content?')}&seq={seq}"
    png = ROOT / "space" / "screenshot.png"
    text = capture(url, png, ["Routed to task gc_content", "Exact answer"], timeout=90)
    assert "Model's answer" in text and f"{exact('gc_content', seq):.3f}" in text
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- pieces ---------------------------------------------------------------------------------------------------

def test_router_rules():
    from tasks.router import route

    cases = {"what's the GC content": "gc_content", "Translate this please": "nt2aa",
             "reverse complement": "reverse_complement", "the complement": "complement",
             "read it backwards": "reverse", "is this a promoter?": "promoter", "an enhancer?": "enhancer",
             "is it protein coding?": "gene_biotype", "which reading frame": "orf_frame",
             "describe this gene": "gene_description", "ACGTACGTAA, GC content =": "gc_content",
             "splice donor or acceptor?": "splice_site", "does a transcription factor bind": "tf_binding"}
    for text, task in cases.items():
        assert route(text).task == task, text
    r = route("reverse complement of acgt acgt acgt")
    assert r.sequence == "acgtacgtacgt"
    assert route("hello there").task is None


def test_label_probabilities_are_the_softmax_of_answer_scores(loaded):
    from space.scores import label_logprobs, label_probabilities

    tok, model = loaded
    lp = label_logprobs(model, tok, f"{CDS}, promoter =", ("yes", "no"))
    probs = label_probabilities(model, tok, "promoter", CDS)
    assert all(v < 0 for v in lp.values())
    assert math.isclose(probs["yes"] / probs["no"], math.exp(lp["yes"] - lp["no"]), rel_tol=1e-6)


def test_orfs_and_gc_profile():
    from space.core import find_orfs, gc_profile

    seq = "CC" + "ATG" + "GCT" * 10 + "TAA" + "GG"
    assert find_orfs(seq) == [(3, 2, 38)]
    xs, ys, w = gc_profile("GGGGAAAA" * 10, window=8)
    assert w == 8 and min(ys) >= 0 and max(ys) <= 1 and len(xs) == len(ys)


def test_command_line(capsys):
    from modeling.inference import main

    assert main(["ACGTTGCAAGGCTTAC, GC content =", "--model", str(MODEL)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ACGTTGCAAGGCTTAC, GC content = ") and "exact: 0.500" in out
    assert main(["--task", "reverse_complement", "acgttgcaag", "--model", str(MODEL)]) == 0
    assert "exact: CTTGCAACGT" in capsys.readouterr().out
    assert main(["hello ACGTACGTAC", "--model", str(MODEL)]) == 2
    assert "pass --task" in capsys.readouterr().err
