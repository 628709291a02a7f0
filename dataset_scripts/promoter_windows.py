"""Promoter and non-promoter windows cut from the mirror's genome pieces + annotation, for benchmark classes the
sources lack (GenomicBenchmarks' non-TATA negatives, GUE's missing train splits).

- Promoter: a window around an annotated TSS (5' end of a SpliceAI canonical transcript), on the transcript's strand.
- Non-promoter, as Umarov & Solovyev 2017 (the source of GenomicBenchmarks `human_nontata_promoters`) built theirs:
  "random fragments of human genes located after first exons", same length, read on the gene's strand, and here also
  kept `PROMOTER_MARGIN` nt away from every annotated TSS of any transcript on either strand (not promoter by the
  annotation) and free of N.
- GUE's non-TATA promoter negatives (DeePromoter, Oubounyt et al. 2019): the promoter split into 20 parts, 8 kept
  in place and 12 replaced by random bases (GUE prom_300 dev/test negatives share exactly 8 of 20 parts with a
  positive, which is how the rule was checked).
Splits are by region: a transcript's windows follow the 1 Mb block of its start (`build_grch38.split_of`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np

from .annotation import Transcript, _read_table
from .annotation_sources import MirrorAnnotation
from .build_grch38 import rng_for, split_of
from .genome import Genome, RegionUnavailable
from .sources import MIRROR_GENOMES, mirror_genome_files

PROMOTER_MARGIN = 1_000  # a non-promoter fragment keeps this far from every annotated TSS
TATA_BOX = re.compile(r"TATA[AT]A[AT]")  # TATAWAW, the TATA-box consensus (Bucher 1990, as EPD)
# Where a TATA box starts relative to the TSS: EPD's -31/-30, widened because annotated TSSs are imprecise.
TATA_WINDOW = (-40, -15)
_BASES = np.array(list("ACGT"))


@dataclass(frozen=True)
class Piece:
    """One chromosome of a mirror assembly with what the windows need from its annotation."""

    genome: Genome
    chrom: str
    transcripts: tuple[Transcript, ...]  # canonical, one per gene
    tss: tuple[int, ...]  # every annotated TSS (all transcripts, both strands), sorted


def tss_of(t: Transcript) -> int:
    return t.start if t.strand == "+" else t.end - 1


@lru_cache(maxsize=None)
def mirror_pieces() -> tuple[Piece, ...]:
    """Every chromosome of the mirror's assemblies (GRCh37 pieces, GRCh38 chr2 piece), one Piece each."""
    out = []
    for asm, spec in MIRROR_GENOMES.items():
        genome, ann = Genome(asm, mirror_genome_files(asm), spec["partial"]), MirrorAnnotation(asm)
        for chrom in genome.chromosomes():
            tx = _read_table(ann.folder, "transcripts", chrom)
            tss = set(np.where(tx.Strand == "+", tx.start, tx.end - 1).tolist())
            canonical = [t for t in ann.transcripts(chrom) if inside(genome, chrom, t.start, t.end)]
            tss |= {tss_of(t) for t in canonical}
            out.append(Piece(genome, chrom, tuple(canonical), tuple(sorted(tss))))
    return tuple(out)


def inside(genome: Genome, chrom: str, start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in genome.covered(chrom))


def near_tss(tss: tuple[int, ...], start: int, end: int, margin: int = PROMOTER_MARGIN) -> bool:
    """True when an annotated TSS lies within `margin` of [start, end)."""
    i = bisect.bisect_left(tss, start - margin)
    return i < len(tss) and tss[i] < end + margin


def read(genome: Genome, chrom: str, start: int, end: int, strand: str) -> str | None:
    """The window on `strand`, or None when it is not covered or holds a letter other than A/C/G/T."""
    try:
        seq = genome.fetch(chrom, start, end, strand)
    except (RegionUnavailable, ValueError):
        return None
    return seq if not set(seq) - set("ACGT") else None


def promoter_span(tss: int, strand: str, upstream: int, downstream: int) -> tuple[int, int]:
    """Genomic [start, end) of TSS-upstream .. TSS+downstream on the transcript's strand (TSS = position 0)."""
    return (tss - upstream, tss + downstream + 1) if strand == "+" else (tss - downstream, tss + upstream + 1)


def has_tata(seq: str, upstream: int) -> bool:
    """A TATA box starting in TATA_WINDOW of a promoter window whose TSS is at index `upstream`."""
    lo, hi = upstream + TATA_WINDOW[0], upstream + TATA_WINDOW[1]
    return TATA_BOX.search(seq[max(0, lo) : hi + 7]) is not None


def promoters(upstream: int, downstream: int, seed: int = 0) -> Iterator[dict]:
    """One window per canonical transcript TSS: sequence on the transcript's strand, with provenance and split."""
    for p in mirror_pieces():
        asm = p.genome.assembly
        for t in p.transcripts:
            start, end = promoter_span(tss_of(t), t.strand, upstream, downstream)
            seq = read(p.genome, p.chrom, start, end, t.strand)
            if seq:
                yield dict(sequence=seq, assembly=asm, chrom=p.chrom, start=start, end=end, strand=t.strand,
                           gene=t.gene, split=split_of(seed, asm, p.chrom, t.start), tata=has_tata(seq, upstream))


def gene_body_fragments(length: int, per_transcript: int = 3, seed: int = 0) -> Iterator[dict]:
    """Random fragments of genes after their first exon (Umarov & Solovyev's non-promoters), on the gene's strand,
    away from every annotated TSS, A/C/G/T only. Deterministic: the draws of a gene depend only on the gene."""
    for p in mirror_pieces():
        asm = p.genome.assembly
        for t in p.transcripts:
            lo, hi = (t.exons[0][1], t.end) if t.strand == "+" else (t.start, t.exons[-1][0])
            if hi - lo < length or len(t.exons) < 2:
                continue
            rng = rng_for(seed, "non-promoter", asm, p.chrom, t.gene, t.start)
            for s in sorted(set(rng.integers(lo, hi - length + 1, per_transcript).tolist())):
                if near_tss(p.tss, s, s + length):
                    continue
                seq = read(p.genome, p.chrom, s, s + length, t.strand)
                if seq:
                    yield dict(sequence=seq, assembly=asm, chrom=p.chrom, start=s, end=s + length, strand=t.strand,
                               gene=t.gene, split=split_of(seed, asm, p.chrom, t.start))


def substituted(seq: str, rng: np.random.Generator, parts: int = 20, keep: int = 8) -> str:
    """DeePromoter's negative of a promoter: `parts` equal parts, `keep` of them in place, the rest random bases."""
    size = len(seq) // parts
    kept = set(rng.choice(parts, keep, replace=False).tolist())
    out = [seq[i * size : (i + 1) * size] if i in kept else "".join(rng.choice(_BASES, size)) for i in range(parts)]
    return "".join(out) + seq[parts * size :]
