import shutil

import pytest

from dataset_scripts import sources
from dataset_scripts.sources import SourceError, sha256_file, source_path


@pytest.fixture
def fake_sources(tmp_path, monkeypatch):
    real = source_path("genes/ncbi_gene_info.tsv.gz")
    (tmp_path / "genes").mkdir()
    shutil.copy(real, tmp_path / "genes" / "ncbi_gene_info.tsv.gz")
    (tmp_path / "SHA256SUMS").write_text(
        f"{sha256_file(real)}  ./genes/ncbi_gene_info.tsv.gz\n{'0' * 64}  ./genes/absent.tsv\n")
    monkeypatch.setenv(sources.ENV_VAR, str(tmp_path))
    return tmp_path


def test_real_mirror_file_verifies():
    assert source_path("annotation/spliceai/grch37.txt").is_file()


def test_env_var_selects_sources(fake_sources):
    assert sources.sources_dir() == fake_sources
    assert source_path("genes/ncbi_gene_info.tsv.gz") == fake_sources / "genes" / "ncbi_gene_info.tsv.gz"


def test_missing_file_is_named(fake_sources):
    with pytest.raises(SourceError, match="absent.tsv.*missing"):
        source_path("genes/absent.tsv")


def test_unlisted_file_is_refused(fake_sources):
    with pytest.raises(SourceError, match="not listed"):
        source_path("genes/other.tsv")


def test_corrupt_file_is_named(fake_sources):
    path = fake_sources / "genes" / "ncbi_gene_info.tsv.gz"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(SourceError, match="ncbi_gene_info.tsv.gz.*corrupt"):
        source_path("genes/ncbi_gene_info.tsv.gz")


def test_missing_sources_folder(monkeypatch, tmp_path):
    monkeypatch.setenv(sources.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(SourceError, match="does not exist"):
        sources.sources_dir()
