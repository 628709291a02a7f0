"""Random access to genome sequence, one interval at a time (never a whole chromosome in memory).

A `Genome` is an assembly name plus one or more FASTA files (plain or BGZF with .fai/.gzi). Records may be whole
chromosomes (`>20`, `>chrX`, `>X gi|…`) or pieces named `chrom:start-end` (1-based, as samtools writes them), e.g.
`>22:20000001-21000000`; coordinates are always chromosome coordinates, 0-based half-open, and pieces are placed by
their offset. Chromosome names are normalised (`chr` prefix dropped, `M` -> `MT`) so `chr20` and `20` are the same.

Case: FASTA soft-masking (lower case = repeat) is not a different base, so sequence is returned upper case.
Letters other than ACGT (N, IUPAC codes) are returned as they are; callers decide (and count) what to do with them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyfaidx

from .sources import CACHE_DIR

_PIECE = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>\d+)-(?P<end>\d+)$")
_IUPAC, _IUPAC_COMPLEMENT = "ACGTUNRYKMSWBDHV", "TGCAANYRMKSWVHDB"
_COMPLEMENT = str.maketrans(_IUPAC + _IUPAC.lower(), _IUPAC_COMPLEMENT + _IUPAC_COMPLEMENT.lower())


class RegionUnavailable(LookupError):
    """The requested interval cannot be read from this genome; `reason` is a short machine-readable tag."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def normalise_chrom(name: str) -> str:
    name = name.removeprefix("chr")
    return "MT" if name == "M" else name


def reverse_complement(seq: str) -> str:
    """Reverse complement, IUPAC-aware (R<->Y, K<->M, B<->V, D<->H; S, W, N fixed), case kept."""
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True)
class Piece:
    chrom: str
    offset: int  # chromosome coordinate of the record's first base (0-based)
    length: int
    key: str  # record name in the FASTA index
    fasta: int  # index into Genome._fastas
    partial: bool  # True when the record is known to be only part of the chromosome


class Genome:
    """Interval access over FASTA files of one assembly.

    `partial` lists chromosomes whose record covers only a prefix (e.g. the mirror's chrX 1-70M), so that reads
    past its end are reported as `not_covered` rather than `past_chromosome_end`.
    """

    def __init__(self, assembly: str, fastas: list[Path | str], partial: tuple[str, ...] = ()):
        self.assembly = assembly
        self.paths = [Path(p) for p in fastas]
        self._fastas: list[pyfaidx.Fasta] = []
        self.pieces: dict[str, list[Piece]] = {}
        for i, path in enumerate(self.paths):
            fa = self._open(path)
            self._fastas.append(fa)
            for key in fa.keys():
                m = _PIECE.match(key)
                if m:
                    chrom, offset, is_partial = normalise_chrom(m["chrom"]), int(m["start"]) - 1, True
                else:
                    chrom, offset = normalise_chrom(key), 0
                    is_partial = chrom in {normalise_chrom(c) for c in partial}
                piece = Piece(chrom, offset, len(fa[key]), key, i, is_partial)
                self.pieces.setdefault(chrom, []).append(piece)
        for plist in self.pieces.values():
            plist.sort(key=lambda p: p.offset)

    @staticmethod
    def _open(path: Path) -> pyfaidx.Fasta:
        if not path.is_file():
            raise FileNotFoundError(f"genome FASTA {path} does not exist")
        index = Path(str(path) + ".fai")
        kwargs = {}
        if not index.is_file() and not os.access(path.parent, os.W_OK):
            # The source folder may be read-only: build the index in the cache instead.
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            kwargs["indexname"] = str(CACHE_DIR / (path.name + ".fai"))
            if path.suffix == ".gz":
                kwargs["gzi_indexname"] = str(CACHE_DIR / (path.name + ".gzi"))
        try:
            return pyfaidx.Fasta(str(path), as_raw=True, sequence_always_upper=True, read_ahead=1 << 16, **kwargs)
        except pyfaidx.UnsupportedCompressionFormat as e:
            raise ValueError(f"{path}: gzip FASTA must be BGZF-compressed (bgzip) for random access: {e}") from e

    def chromosomes(self) -> list[str]:
        return sorted(self.pieces)

    def covered(self, chrom: str) -> list[tuple[int, int]]:
        """Intervals (0-based half-open, chromosome coordinates) for which sequence is available."""
        return [(p.offset, p.offset + p.length) for p in self.pieces.get(normalise_chrom(chrom), [])]

    def fetch(self, chrom: str, start: int, end: int, strand: str = "+") -> str:
        """Sequence of chrom:[start, end) on `strand` (reverse complement for '-'), upper case."""
        if strand not in ("+", "-"):
            raise ValueError(f"strand must be '+' or '-', got {strand!r}")
        if not 0 <= start < end:
            raise ValueError(f"invalid interval {chrom}:{start}-{end} (need 0 <= start < end)")
        norm = normalise_chrom(chrom)
        plist = self.pieces.get(norm)
        if not plist:
            raise RegionUnavailable(
                "unknown_chromosome", f"{self.assembly} has no sequence for chromosome {chrom!r} in {self.paths}"
            )
        for p in plist:
            if p.offset <= start and end <= p.offset + p.length:
                fa = self._fastas[p.fasta]
                seq = fa[p.key][start - p.offset : end - p.offset]
                return reverse_complement(seq) if strand == "-" else seq
        last = plist[-1]
        if not last.partial and len(plist) == 1 and end > last.offset + last.length:
            raise RegionUnavailable(
                "past_chromosome_end",
                f"{self.assembly} {chrom}:{start}-{end} runs past the end of {chrom} ({last.offset + last.length:,} bp)",
            )
        spans = ", ".join(f"{a:,}-{b:,}" for a, b in self.covered(norm))
        raise RegionUnavailable("not_covered", f"{self.assembly} {chrom}:{start}-{end} is outside the available sequence ({spans})")
