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
