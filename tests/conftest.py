"""Shared fixtures: the real sources mirror (tests use small real slices of it) and small builds reused across tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataset_scripts.genome import Genome
from dataset_scripts.sources import MIRROR_GENOMES, mirror_genome_files


@pytest.fixture(scope="session")
def grch37() -> Genome:
    return Genome("GRCh37", mirror_genome_files("GRCh37"), MIRROR_GENOMES["GRCh37"]["partial"])


@pytest.fixture(scope="session")
def grch38() -> Genome:
    return Genome("GRCh38", mirror_genome_files("GRCh38"), MIRROR_GENOMES["GRCh38"]["partial"])


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """GenomicLLM_GRCh38 built on the two small pieces (GRCh37 chr22:20-21M, GRCh38 chr2:0-2.33M): ~2 s."""
    from dataset_scripts.build_grch38 import build

    out = tmp_path_factory.mktemp("corpus") / "GenomicLLM_GRCh38"
    build(out, chroms=["22", "2"], progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_setup(small_corpus, tmp_path_factory):
    """A tiny training config over the small corpus, with a kmer3 tokenizer built as `make tokenizer` builds one."""
    import pandas as pd

    from finetune.training.train import TrainConfig
    from tokenizer.build import build

    texts = []
    for path in sorted((small_corpus / "data").glob("*/train.parquet")):
        df = pd.read_parquet(path, columns=["prompt", "answer"]).head(300)
        texts += (df.prompt + " " + df.answer).tolist()
    tok_dir = tmp_path_factory.mktemp("tok")
    build("kmer3", texts, tok_dir)  # as `make tokenizer` writes it: with its remote code
    cfg = TrainConfig(tokenizer=str(tok_dir), datasets=str(small_corpus.parent), max_len=768,
                      model={"hidden_size": 32, "intermediate_size": 64, "num_layers": 2, "num_attention_heads": 2},
                      tokens_per_batch=600, steps=4, warmup_steps=2, checkpoint_every=2, max_rows_per_source=200)
    return cfg


@pytest.fixture(scope="session")
def tiny_release(tiny_setup, tmp_path_factory) -> Path:
    """A release folder of a 2-step tiny model (answers are nonsense; the path through it is what is tested)."""
    from dataclasses import asdict

    from finetune.training.train import TrainConfig, train

    return train(TrainConfig(**{**asdict(tiny_setup), "steps": 2}), tmp_path_factory.mktemp("tiny_run"), progress=False)
