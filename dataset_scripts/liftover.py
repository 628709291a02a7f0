"""Gap-free liftover of whole intervals between assemblies, from a local UCSC chain file (never downloaded).

Why not `pyliftover.LiftOver.convert_coordinate`: it maps single positions, and an interval whose two ends both lift
can still span an alignment gap (an indel between the assemblies), so the bases read at the target would not be the
bases of the source interval. Here an interval is kept only when it lies inside ONE ungapped block of a chain whose
target strand is '+': then the lifted interval has the same length and the same orientation, base for base.
Ungapped blocks can still hold single-base substitutions between assemblies; those are not detectable from a chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pyliftover import LiftOver

from .genome import RegionUnavailable, normalise_chrom
from .sources import source_path

HG38_TO_HG19 = "annotation/liftover/hg38ToHg19.over.chain.gz"


class LiftFailed(RegionUnavailable):
    """`reason` is `lift_failed` (start not aligned at all) or `lift_gapped_or_strand` (crosses a gap/strand flip)."""


@dataclass(frozen=True)
class Lifted:
    chrom: str  # target chromosome as the chain names it (UCSC style, e.g. chr20)
    start: int
    end: int


def ucsc_chrom(name: str) -> str:
    """Chain files name chromosomes UCSC-style: chr1…chrX, chrM."""
    norm = normalise_chrom(str(name))
    return "chrM" if norm == "MT" else f"chr{norm}"


class IntervalLifter:
    """Lifts 0-based half-open intervals through the ungapped blocks of a chain file (pyliftover's index)."""

    def __init__(self, chain_path: Path | str, source: str = "", target: str = ""):
        self.chain_path = Path(chain_path)
        self.source, self.target = source, target
        # A path string makes pyliftover open the local file; it only downloads when given assembly names.
        self._index = LiftOver(str(self.chain_path)).chain_file.chain_index

    def lift(self, chrom: str, start: int, end: int) -> Lifted:
        """The target interval of [start, end), or raise LiftFailed with the reason."""
        if not 0 <= start < end:
            raise ValueError(f"invalid interval {chrom}:{start}-{end}")
        name = ucsc_chrom(chrom)
        tree = self._index.get(name)
        hits = tree.query(start) if tree is not None else []
        if not hits:
            raise LiftFailed("lift_failed", f"{name}:{start}-{end} does not lift ({self.chain_path.name})")
        # Each hit is one ungapped block (source_from, source_to, (target_from, chain)); prefer the best chain.
        whole = [h for h in hits if end <= h[1]]
        if not whole:
            raise LiftFailed("lift_gapped_or_strand", f"{name}:{start}-{end} crosses an alignment gap")
        sfrom, _, (tfrom, chain) = max(whole, key=lambda h: (h[2][1].score, str(h[2][1].id)))
        if chain.target_strand != "+":
            raise LiftFailed("lift_gapped_or_strand", f"{name}:{start}-{end} lifts to the '-' strand of {chain.target_name}")
        tstart = tfrom + (start - sfrom)
        return Lifted(chain.target_name, tstart, tstart + (end - start))


@lru_cache(maxsize=None)
def hg38_to_hg19() -> IntervalLifter:
    """The mirror's hg38 -> hg19 chain (SHA256-verified), loaded once per process (~2 s)."""
    return IntervalLifter(source_path(HG38_TO_HG19), "GRCh38", "GRCh37")
