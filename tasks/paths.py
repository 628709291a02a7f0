"""Default locations, relative to the repository root (each command takes an option to point elsewhere)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATASETS_DIR = Path("build/datasets")  # built datasets, one Hub dataset repo per folder (`make datasets`)
MODEL_DIR = Path("release/GenomicLLM")  # the shipped model
SHIPPED_MODEL = REPO / MODEL_DIR  # the same, wherever a command runs from
LORA_DIR = Path("release/GenomicLLM-chat-lora")  # the shipped chat adapter
EVAL_DIR = Path("build/eval")  # `make eval` results
