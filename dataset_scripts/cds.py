"""Spliced transcript sequence and its coding sequence (CDS), verified by translation with the standard code.

The mirror's canonical transcripts (SpliceAI) carry exons but no CDS, and its GENCODE tables pool the start/stop
codons of all of a gene's transcripts. The CDS of a canonical transcript is therefore found as the longest ORF that
starts at an annotated start codon, reads ATG…stop in frame across the transcript's exons, and ends exactly at an
annotated stop codon. GTF transcripts with CDS features use their annotated CDS (still verified the same way).
"""

from __future__ import annotations

from dataclasses import dataclass

from Bio.Seq import Seq

from .annotation import Transcript
from .genome import Genome

STOPS = {"TAA", "TAG", "TGA"}


@dataclass
class SplicedTranscript:
    transcript: Transcript
    sequence: str  # mature RNA (as DNA), 5'->3' on the transcript strand
    genomic: list[int]  # genomic position of each base of `sequence`

    def tx_index(self, genomic_pos: int) -> int | None:
        """Index in `sequence` of a genomic base, or None if the base is not exonic."""
        offset = 0
        exons = self.transcript.exons if self.transcript.strand == "+" else self.transcript.exons[::-1]
        for s, e in exons:
            if s <= genomic_pos < e:
                return offset + (genomic_pos - s if self.transcript.strand == "+" else e - 1 - genomic_pos)
            offset += e - s
        return None


def splice(t: Transcript, genome: Genome) -> SplicedTranscript:
    parts, positions = [], []
    exons = t.exons if t.strand == "+" else t.exons[::-1]
    for s, e in exons:
        parts.append(genome.fetch(t.chrom, s, e, t.strand))
        positions.extend(range(s, e) if t.strand == "+" else range(e - 1, s - 1, -1))
    return SplicedTranscript(t, "".join(parts), positions)


@dataclass
class CodingSequence:
    spliced: SplicedTranscript
    start: int  # index in spliced.sequence of the A of ATG
    end: int  # index just past the stop codon

    @property
    def sequence(self) -> str:
        return self.spliced.sequence[self.start : self.end]

    def protein(self) -> str:
        """1-letter protein without the terminal stop."""
        return str(Seq(self.sequence).translate(table=1, cds=True))


def orf_end(seq: str, start: int) -> int | None:
    """Index just past the first in-frame stop codon from `start`, or None when the frame runs off the end."""
    for i in range(start, len(seq) - 2, 3):
        if seq[i : i + 3] in STOPS:
            return i + 3
    return None


def find_cds(sp: SplicedTranscript, start_sites: set[int], stop_sites: set[int]) -> CodingSequence | None:
    """Longest ORF from an annotated start codon to an annotated stop codon on this spliced transcript."""
    seq, best = sp.sequence, None
    stop_idx = {sp.tx_index(p) for p in stop_sites} - {None}
    for site in sorted(start_sites):
        i = sp.tx_index(site)
        if i is None or seq[i : i + 3] != "ATG":
            continue
        end = orf_end(seq, i)
        if end is None or end - 3 not in stop_idx or set(seq[i:end]) - set("ACGT"):
            continue
        if best is None or end - i > best.end - best.start:
            best = CodingSequence(sp, i, end)
    return best


def annotated_cds(sp: SplicedTranscript) -> CodingSequence | None:
    """The CDS a GTF annotates (genomic span incl. stop), if it translates cleanly."""
    t = sp.transcript
    if t.cds is None:
        return None
    first, last = (t.cds[0], t.cds[1] - 1) if t.strand == "+" else (t.cds[1] - 1, t.cds[0])
    i, j = sp.tx_index(first), sp.tx_index(last)
    if i is None or j is None or (j + 1 - i) % 3 or sp.sequence[i : i + 3] != "ATG" or orf_end(sp.sequence, i) != j + 1:
        return None
    return CodingSequence(sp, i, j + 1)
