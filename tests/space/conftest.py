"""Fixtures of the Space's tests: the shipped model loaded once, and the app served once on loopback with it."""

from __future__ import annotations

from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parents[2] / "release" / "GenomicLLM"


@pytest.fixture(scope="session")
def shipped() -> Path:
    if not (MODEL / "model.safetensors").is_file():
        pytest.skip("release/GenomicLLM not shipped")
    return MODEL


@pytest.fixture(scope="session")
def loaded(shipped):
    """(tokenizer, model) of the shipped model, loaded as the app loads it."""
    from modeling.inference import load_model

    return load_model(shipped)


@pytest.fixture(scope="session")
def server(shipped):
    """URL of the app serving the shipped model (one server for every test of the session)."""
    pytest.importorskip("gradio")
    from space import app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENOMICLLM_MODEL", str(shipped))
        mp.delenv("GENOMICLLM_REVISION", raising=False)
        mp.setenv("GENOMICLLM_ASSISTANT", "off")  # the Chat tab's keyword router (test_chat_assistant: the assistant)
        app.STATE.clear()
        demo = app.serve(port=None, block=False)
        yield demo.local_url
        demo.close()
        app.STATE.clear()


@pytest.fixture(scope="session")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)
