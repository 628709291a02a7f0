"""The Space's Chat tab with the assistant (issue 16), through gradio_client: a scripted LLM stands in for SmolLM2 +
LoRA (no base needed), the tools are real (the shipped GenomicLLM answers `classify`). The reply states the tool's
value, says which tool answered, and a follow-up reaches the same sequence through the visible history."""

from __future__ import annotations

import json
import math

import pytest

gradio = pytest.importorskip("gradio")
pytest.importorskip("gradio_client")

CDS = ("ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTC"
       "AGTGGAGAGGGTGAAGGTGATGCAACATACGGAAAACTTACCCTTAAATTTATTTGCACTACTGGAAAACTACCTGTTCCATGGCCAACA")


def script(messages: list[dict]) -> str:
    last = messages[-1]
    if last["role"] == "tool":
        result = json.loads(last["content"])["result"]
        if isinstance(result, dict):
            return f"**{result['answer'].capitalize()}** (probability {result['probabilities'][result['answer']]})"
        return f"The GC content is **{result}**."
    if "promoter" in last["content"]:
        return '<tool_call>{"name": "classify", "arguments": {"task": "promoter", "sequence": "1"}}</tool_call>'
    if "GC" in last["content"]:
        return '<tool_call>{"name": "gc_content", "arguments": {"sequence": "1"}}</tool_call>'
    return "What would you like to know about it?"


@pytest.fixture(scope="module")
def client(shipped):
    from gradio_client import Client

    from assistant.chat import Assistant, ScriptedModel
    from assistant.tools import Toolbox
    from space import app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENOMICLLM_MODEL", str(shipped))
        mp.delenv("GENOMICLLM_REVISION", raising=False)
        app.STATE.clear()
        app.STATE["assistant"] = Assistant(ScriptedModel(script), Toolbox(app.get_model))
        demo = app.serve(port=None, block=False)
        yield Client(demo.local_url, verbose=False)
        demo.close()
        app.STATE.clear()


def text_of(message: dict) -> str:
    content = message["content"]
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def test_the_assistant_answers_with_the_tools_value_and_names_the_tool(client, loaded):
    from assistant.genomicllm_answers import classify
    from tasks.grammar import exact_answer

    history, box, _ = client.predict("What's the GC content?", [], CDS.lower(), None, api_name="/chat")
    reply = text_of(history[-1])
    assert f"**{float(exact_answer('gc_content', CDS))}**" in reply and "_Tools: gc_content(sequence=1)_" in reply
    assert box == "" and len(history) == 2
    history, _, _ = client.predict("and is it a promoter?", history, "", None, api_name="/chat")  # the follow-up
    reply = text_of(history[-1])
    expected = classify(*loaded, "promoter", CDS)
    assert f"**{expected['answer'].capitalize()}**" in reply and "classify(task=promoter, sequence=1)" in reply
    p = float(reply.split("probability ")[1].split(")")[0])
    assert math.isclose(p, expected["probabilities"][expected["answer"]], abs_tol=1e-3)
    history, _, _ = client.predict(f"here: {CDS}", [], "", None, api_name="/chat")
    assert text_of(history[-1]) == "What would you like to know about it?"  # no tool: no footer
