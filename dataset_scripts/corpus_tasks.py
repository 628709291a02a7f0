"""Record generators of the GenomicLLM_GRCh38 corpus, one function per config, from one gene (or one chromosome).

Each yields plain dicts: `task, sequence, answer, label, fields, question, start, end, strand, gene` plus the
config's extra columns. Randomness comes from the `rng` passed in, seeded per gene, so the records of a gene do not
depend on what else is in the build. Windows are read on the gene's strand (5'->3' of the transcript).
"""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Iterator

import numpy as np

from tasks.grammar import render_answer

from .annotation import Gene, Transcript
from .cds import CodingSequence, SplicedTranscript
from .genome import Genome, RegionUnavailable, reverse_complement

SPLICE_FLANK = 200  # 400 nt windows, junction at index 200 (as GUE splice/reconstructed)
DECOY_MIN_DISTANCE = 10  # a "none" centre is this far from every annotated exon boundary
MAX_JUNCTIONS_PER_GENE = 30
ORF_WINDOW = (60, 150)
WINDOW = (20, 300)  # gc_content, reverse/complement, direction
NT2AA_MAX_NT = 360
BIOTYPE_WINDOW = 300
DESCRIPTION_WINDOW = 300


def row(task: str, sequence: str, answer, start: int, end: int, strand: str, gene: str, label: str | None = None,
        fields: dict | None = None, question: str | None = None, **extra) -> dict:
    return dict(task=task, sequence=sequence, answer=render_answer(task, answer), label=label,
                fields=fields or {}, question=question, start=int(start), end=int(end), strand=strand,
                gene=gene, **extra)


# Windows left out because they hold N or IUPAC letters (the rule: answers are only defined on A/C/G/T), counted per
# generator; the builder resets it per build and reports it in the card.
SKIPPED_NON_ACGT: Counter = Counter()


def _clean(seq: str, where: str = "window") -> bool:
    if set(seq) - set("ACGT"):
        SKIPPED_NON_ACGT[where] += 1
        return False
    return True


def _window(genome: Genome, chrom: str, centre_left: int, strand: str, flank: int) -> str | None:
    try:
        seq = genome.fetch(chrom, centre_left - flank, centre_left + flank, strand)
    except (RegionUnavailable, ValueError):
        return None
    return seq if _clean(seq, "splice window") else None


def _near(sorted_positions: list[int], pos: int, distance: int) -> bool:
    i = bisect.bisect_left(sorted_positions, pos - distance)
    return i < len(sorted_positions) and sorted_positions[i] <= pos + distance


def splice_sites(t: Transcript, genome: Genome, boundaries: list[int], rng: np.random.Generator) -> Iterator[dict]:
    """Donor and acceptor windows of every junction, and as many 'none' decoys with the same central dinucleotide.

    The junction sits between index 199 and 200 of the window: donors have GT at 200-201, acceptors AG at 198-199.
    On '+' the junction is at genomic c (window [c-200, c+200)); on '-' the reverse complement of the same span.
    """
    fields = {"chromosome": t.chrom, "strand": t.strand}
    sites = []
    for (s1, e1), (s2, e2) in zip(t.exons, t.exons[1:]):
        donor, acceptor = (e1, s2) if t.strand == "+" else (s2, e1)
        sites += [("donor", donor), ("acceptor", acceptor)]
    if len(sites) > 2 * MAX_JUNCTIONS_PER_GENE:
        keep = np.sort(rng.choice(len(sites) // 2, MAX_JUNCTIONS_PER_GENE, replace=False))
        sites = [s for k in keep for s in sites[2 * k : 2 * k + 2]]
    for label, c in sites:
        seq = _window(genome, t.chrom, c, t.strand, SPLICE_FLANK)
        if seq:
            yield row("splice_site", seq, label, c - SPLICE_FLANK, c + SPLICE_FLANK, t.strand, t.gene, label, fields)
    for label, _ in sites:  # one decoy per true site, mimicking its dinucleotide
        motif = "GT" if label == "donor" else "AG"
        for _ in range(50):
            c = int(rng.integers(t.start + SPLICE_FLANK, max(t.start + SPLICE_FLANK + 1, t.end - SPLICE_FLANK)))
            if _near(boundaries, c, DECOY_MIN_DISTANCE):
                continue
            seq = _window(genome, t.chrom, c, t.strand, SPLICE_FLANK)
            if seq and seq[SPLICE_FLANK - 2 * (motif == "AG") :][:2] == motif:
                yield row("splice_site", seq, "none", c - SPLICE_FLANK, c + SPLICE_FLANK, t.strand, t.gene, "none", fields)
                break


def _span(sp: SplicedTranscript, i: int, j: int) -> tuple[int, int]:
    a, b = sp.genomic[i], sp.genomic[j - 1]
    return min(a, b), max(a, b) + 1


def orf_frames(cds: CodingSequence, introns: list[str], rng: np.random.Generator) -> Iterator[dict]:
    """Windows of the CDS with a known frame (label = 1-based index where the first whole codon starts) and
    'none' windows of intron sequence, balanced: m windows per frame, m intron windows."""
    t, sp, seq = cds.spliced.transcript, cds.spliced, cds.sequence
    fields = {"chromosome": t.chrom, "strand": t.strand}
    m = min(4, len(seq) // 150)
    for frame, residue in (("1", 0), ("3", 1), ("2", 2)):
        for _ in range(m):
            length = int(rng.integers(*ORF_WINDOW))
            o = int(rng.integers(0, (len(seq) - length) // 3)) * 3 + residue
            if o + length > len(seq):
                continue
            start, end = _span(sp, cds.start + o, cds.start + o + length)
            yield row("orf_frame", seq[o : o + length], frame, start, end, t.strand, t.gene, frame, fields)
    usable = [s for s in introns if len(s) > ORF_WINDOW[1] and _clean(s, "intron")]
    for _ in range(m if usable else 0):
        intron = usable[int(rng.integers(len(usable)))]
        length = int(rng.integers(*ORF_WINDOW))
        o = int(rng.integers(0, len(intron) - length))
        yield row("orf_frame", intron[o : o + length], "none", t.start, t.end, t.strand, t.gene, "none", fields)


def nt2aa(cds: CodingSequence, rng: np.random.Generator, passes: int = 2) -> Iterator[dict]:
    """The CDS cut into consecutive in-frame fragments of 30-360 nt, twice with different cuts."""
    t, sp, seq = cds.spliced.transcript, cds.spliced, cds.sequence
    protein = cds.protein() + "*"
    for _ in range(passes):
        o = 0
        while o < len(seq):
            n = min(int(rng.integers(10, NT2AA_MAX_NT // 3 + 1)) * 3, len(seq) - o)
            start, end = _span(sp, cds.start + o, cds.start + o + n)
            aa = protein[o // 3 : (o + n) // 3]
            yield row("nt2aa", seq[o : o + n], aa, start, end, t.strand, t.gene, protein=aa, cds_offset=o)
            o += n


def random_windows(genome: Genome, chrom: str, lo: int, hi: int, strand: str, n: int, rng: np.random.Generator,
                   length: tuple[int, int] = WINDOW) -> Iterator[tuple[int, int, str]]:
    """n windows of random length inside [lo, hi) with clean bases (windows with N/IUPAC are skipped)."""
    for _ in range(n):
        size = int(rng.integers(length[0], length[1] + 1))
        if hi - lo <= size:
            return
        s = int(rng.integers(lo, hi - size))
        seq = genome.fetch(chrom, s, s + size, strand)
        if _clean(seq, "random window"):
            yield s, s + size, seq


def gc_content(genome: Genome, chrom: str, lo: int, hi: int, n: int, rng: np.random.Generator) -> Iterator[dict]:
    for s, e, seq in random_windows(genome, chrom, lo, hi, "+", n, rng):
        gc = (seq.count("G") + seq.count("C")) / len(seq)
        yield row("gc_content", seq, gc, s, e, "+", "", gc=gc)


def reverse_complement_ops(genome: Genome, chrom: str, lo: int, hi: int, n: int,
                           rng: np.random.Generator) -> Iterator[dict]:
    ops = {"reverse": lambda s: s[::-1], "complement": lambda s: reverse_complement(s)[::-1],
           "reverse_complement": reverse_complement}
    names = sorted(ops)
    for s, e, seq in random_windows(genome, chrom, lo, hi, "+", n, rng):
        op = names[int(rng.integers(len(names)))]
        yield row(op, seq, ops[op](seq), s, e, "+", "")


def sequence_direction(t: Transcript, genome: Genome, n: int, rng: np.random.Generator) -> Iterator[dict]:
    fields = {"chromosome": t.chrom}
    for s, e, seq in random_windows(genome, t.chrom, t.start, t.end, t.strand, n, rng):
        label = "reversed" if rng.random() < 0.5 else "forward"
        yield row("sequence_direction", seq[::-1] if label == "reversed" else seq, label, s, e, t.strand, t.gene,
                  label, fields)


def gene_start(g: Gene, genome: Genome, length: int) -> tuple[int, int, str] | None:
    """The first `length` nt of a gene from its 5' end, on its strand (None when not readable or not clean)."""
    n = min(length, g.end - g.start)
    s, e = (g.start, g.start + n) if g.strand == "+" else (g.end - n, g.end)
    try:
        seq = genome.fetch(g.chrom, s, e, g.strand)
    except (RegionUnavailable, ValueError):
        return None
    return (s, e, seq) if _clean(seq, "gene 5' window") else None


def gene_biotype(g: Gene, genome: Genome, rng: np.random.Generator) -> Iterator[dict]:
    label = "protein_coding" if g.biotype == "protein_coding" else "other"
    fields = {"chromosome": g.chrom, "strand": g.strand}
    first = gene_start(g, genome, BIOTYPE_WINDOW)
    if first:
        yield row("gene_biotype", first[2], label, first[0], first[1], g.strand, g.name, label, fields,
                  source_biotype=g.biotype)
    for s, e, seq in random_windows(genome, g.chrom, g.start, g.end, g.strand, 2, rng, (100, BIOTYPE_WINDOW)):
        yield row("gene_biotype", seq, label, s, e, g.strand, g.name, label, fields, source_biotype=g.biotype)


def gene_fields(g: Gene) -> dict:
    """The annotation facts shown with a gene's sequence (1-based inclusive coordinates, as genome browsers show)."""
    return {"symbol": g.name, "chromosome": g.chrom, "start": g.start + 1, "end": g.end, "strand": g.strand,
            "biotype": g.biotype}


def gene_description(g: Gene, genome: Genome, info: dict) -> Iterator[dict]:
    """Partial gene sequence + annotation fields -> NCBI summary; and -> full name."""
    first = gene_start(g, genome, DESCRIPTION_WINDOW)
    if not first:
        return
    s, e, seq = first
    extra = dict(full_name=info["full_name"], summary=info["summary"], entrez_id=info.get("entrez_id", ""))
    if info["summary"]:
        yield row("gene_description", seq, info["summary"], s, e, g.strand, g.name, None, gene_fields(g), **extra)
    if info["full_name"]:
        yield row("gene_name", seq, info["full_name"], s, e, g.strand, g.name, None, gene_fields(g), **extra)


def reading_comprehension(g: Gene, genome: Genome, rng: np.random.Generator, n: int = 2) -> Iterator[dict]:
    first = gene_start(g, genome, int(rng.integers(30, 200)))
    if not first:
        return
    s, e, seq = first
    fields = gene_fields(g)
    for key in rng.choice(sorted(fields), size=min(n, len(fields)), replace=False):
        yield row("reading_comprehension", seq, str(fields[key]), s, e, g.strand, g.name, None, fields, str(key))
