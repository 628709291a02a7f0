"""The one place that knows where the source data lives and that it is intact.

Every builder asks for a file through `source_path(relpath)`; the file is checked against the mirror's
`SHA256SUMS` the first time it is used in a process. The sources folder is `$GENOMICLLM_SOURCES`, default
`../shared/data` (relative to the repository root), and may be read-only: nothing is ever written there.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = REPO_ROOT.parent / "shared" / "data"
ENV_VAR = "GENOMICLLM_SOURCES"
CHECKSUMS = "SHA256SUMS"
# Writable cache for indexes and lifted coordinates (never inside the sources folder).
CACHE_DIR = Path(os.environ.get("GENOMICLLM_CACHE", REPO_ROOT / "cache"))


class SourceError(RuntimeError):
    """A source file is missing, not listed in SHA256SUMS, or corrupt."""


def sources_dir() -> Path:
    root = Path(os.environ.get(ENV_VAR) or DEFAULT_SOURCES)
    if not root.is_absolute():
        root = (REPO_ROOT / root).resolve()
    if not root.is_dir():
        raise SourceError(
            f"sources folder {root} does not exist: set {ENV_VAR} to the folder holding MANIFEST.md and SHA256SUMS"
        )
    return root


@lru_cache(maxsize=None)
def _checksums(root: Path) -> dict[str, str]:
    listing = root / CHECKSUMS
    if not listing.is_file():
        raise SourceError(f"{listing} is missing: cannot verify the sources in {root}")
    sums = {}
    for line in listing.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip().removeprefix("./")] = digest
    return sums


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


_verified: set[Path] = set()


def source_path(relpath: str, root: Path | None = None) -> Path:
    """Absolute path of a source file after checking it against SHA256SUMS (once per process)."""
    root = root or sources_dir()
    path = root / relpath
    if path in _verified:
        return path
    expected = _checksums(root).get(relpath)
    if expected is None:
        raise SourceError(f"source file {relpath!r} is not listed in {root / CHECKSUMS}")
    if not path.is_file():
        raise SourceError(f"source file {relpath!r} is missing from {root}")
    actual = sha256_file(path)
    if actual != expected:
        raise SourceError(f"source file {relpath!r} is corrupt: sha256 {actual[:12]}… != expected {expected[:12]}…")
    _verified.add(path)
    return path


def source_files(prefix: str, root: Path | None = None) -> list[str]:
    """Relative paths of all listed source files under `prefix`, sorted (the listing is the inventory)."""
    root = root or sources_dir()
    return sorted(name for name in _checksums(root) if name.startswith(prefix))


# The genome FASTA files of the mirror, per assembly, and which records cover only part of a chromosome.
MIRROR_GENOMES: dict[str, dict] = {
    "GRCh37": {
        "fastas": ["genome/GRCh37_chr20.fa.gz", "genome/GRCh37_chrX_1-70M.fa.gz", "genome/GRCh37_chr22_20-21M.fa.gz"],
        "partial": ("X",),
    },
    "GRCh38": {"fastas": ["genome/hg38_chr2_1-2333275.fa.gz"], "partial": ("2",)},
}


def mirror_genome_files(assembly: str) -> list[Path]:
    """Verified paths of the mirror's FASTA files (with their .fai/.gzi) for `assembly`."""
    if assembly not in MIRROR_GENOMES:
        raise SourceError(f"the sources mirror has no genome for assembly {assembly!r}; known: {sorted(MIRROR_GENOMES)}")
    paths = []
    for rel in MIRROR_GENOMES[assembly]["fastas"]:
        for idx in (".fai", ".gzi"):
            source_path(rel + idx)
        paths.append(source_path(rel))
    return paths
