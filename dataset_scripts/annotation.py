"""Gene and transcript annotation, read from the mirror's tables or from any GTF/GFF3, per chromosome.

Everything is converted to one model: 0-based half-open genomic intervals, normalised chromosome names
(`chr20` -> `20`). Readers take a chromosome filter so a whole-genome annotation is never held in memory at once
beyond one chromosome's rows.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pandas as pd
import pyarrow.parquet as pq

from .genome import normalise_chrom
from .sources import source_path

GENE_INFO = "genes/ncbi_gene_info.tsv.gz"  # NCBI gene_info (symbol, full name, synonyms, summary) in the sources


@dataclass
class Transcript:
    gene: str
    chrom: str
    strand: str
    exons: list[tuple[int, int]]  # genomic order, 0-based half-open
    transcript_id: str = ""
    biotype: str = ""
    cds: tuple[int, int] | None = None  # genomic [start, end) of the CDS incl. stop codon, when annotated

    @property
    def start(self) -> int:
        return self.exons[0][0]

    @property
    def end(self) -> int:
        return self.exons[-1][1]

    def introns(self) -> list[tuple[int, int]]:
        return [(a[1], b[0]) for a, b in zip(self.exons, self.exons[1:]) if b[0] > a[1]]


@dataclass(frozen=True)
class Gene:
    name: str
    chrom: str
    start: int  # 0-based
    end: int
    strand: str
    biotype: str


@dataclass
class CodonSites:
    """Annotated first bases (genomic, 0-based) of start and stop codons, per gene, from all of its transcripts."""

    starts: dict[str, set[int]] = field(default_factory=dict)
    stops: dict[str, set[int]] = field(default_factory=dict)


# --- SpliceAI canonical transcripts: `#NAME CHROM STRAND TX_START TX_END EXON_START EXON_END` (0-based starts)

def read_spliceai(path: Path, chrom: str) -> list[Transcript]:
    df = pd.read_csv(path, sep="\t", dtype=str)
    df = df[df["CHROM"].map(normalise_chrom) == normalise_chrom(chrom)]
    out = []
    for row in df.itertuples(index=False):
        starts = [int(x) for x in row.EXON_START.rstrip(",").split(",")]
        ends = [int(x) for x in row.EXON_END.rstrip(",").split(",")]
        if len(starts) != len(ends) or any(e <= s for s, e in zip(starts, ends)):
            raise ValueError(f"{path}: malformed exon lists for {row._0}")
        out.append(Transcript(row._0, normalise_chrom(row.CHROM), row.STRAND, sorted(zip(starts, ends)), row._0))
    return sorted(out, key=lambda t: (t.start, t.gene))


# --- The mirror's GENCODE-derived parquet tables (1-based inclusive `_starts`, `_ends`, chrom in `_labels`).

def _read_table(folder: Path, table: str, chrom: str) -> pd.DataFrame:
    wanted = {chrom, "chr" + normalise_chrom(chrom), normalise_chrom(chrom)}
    df = pq.read_table(folder / f"{table}.parquet", filters=[("_labels", "in", sorted(wanted))]).to_pandas()
    df["start"] = df["_starts"].astype("int64") - 1
    df["end"] = df["_ends"].astype("int64")
    return df


def read_genes(folder: Path, chrom: str) -> list[Gene]:
    df = _read_table(folder, "genes", chrom)
    genes = [Gene(r.gene_name, normalise_chrom(chrom), int(r.start), int(r.end), r.Strand, r.gene_type)
             for r in df.itertuples(index=False)]
    return sorted(genes, key=lambda g: (g.start, g.name))


def read_codon_sites(folder: Path, chrom: str) -> CodonSites:
    sites = CodonSites()
    for table, target in (("start_codons", sites.starts), ("stop_codons", sites.stops)):
        df = _read_table(folder, table, chrom)
        for r in df.itertuples(index=False):
            first = r.start if r.Strand == "+" else r.end - 1  # first base of the codon on its own strand
            target.setdefault(r.gene_name, set()).add(int(first))
    return sites


def read_splice_boundaries(folder: Path, chrom: str) -> list[int]:
    """Every annotated exon boundary (exon starts and ends, genomic) of every transcript: decoys must avoid them."""
    df = _read_table(folder, "exons", chrom)
    return sorted(set(df["start"].tolist()) | set(df["end"].tolist()))


# --- GTF / GFF3

_GTF_ATTR = re.compile(r'(\S+) "([^"]*)"')


def _attributes(text: str, gff3: bool) -> dict[str, str]:
    if gff3:
        return dict(kv.split("=", 1) for kv in text.strip().strip(";").split(";") if "=" in kv)
    return dict(_GTF_ATTR.findall(text))


def _open_text(path: Path):
    return gzip.open(path, "rt") if str(path).endswith(".gz") else open(path)


def iter_gtf_transcripts(path: Path, chrom: str | None = None) -> Iterator[Transcript]:
    """Transcripts (exons, CDS span, gene name, biotype) from a GTF or GFF3, one chromosome at a time.

    Rows are grouped by transcript id; GFF3 exons/CDS point at their transcript through `Parent`.
    """
    gff3 = ".gff3" in str(path) or ".gff" in str(path)
    want = normalise_chrom(chrom) if chrom else None
    tx: dict[str, Transcript] = {}
    cds: dict[str, list[tuple[int, int]]] = {}
    with _open_text(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 9:
                raise ValueError(f"{path}: not a GTF/GFF3 line (need 9 tab-separated columns): {line[:80]!r}")
            c, feature, start, end, strand, attrs = normalise_chrom(cols[0]), cols[2], int(cols[3]) - 1, int(cols[4]), cols[6], cols[8]
            if want and c != want:
                continue
            a = _attributes(attrs, gff3)
            if feature in ("transcript", "mRNA") and not gff3:
                continue
            if gff3 and feature in ("mRNA", "transcript", "lnc_RNA", "ncRNA"):
                tid = a.get("ID", "").removeprefix("transcript:")
                t = tx.setdefault(tid, Transcript("", c, strand, [], tid))
                t.gene = a.get("Name", a.get("gene_name", tid)).split("-")[0] if not t.gene else t.gene
                t.biotype = a.get("biotype", a.get("transcript_biotype", ""))
                continue
            tid = a.get("transcript_id") or a.get("Parent", "").removeprefix("transcript:")
            if not tid:
                continue
            t = tx.setdefault(tid, Transcript("", c, strand, [], tid))
            t.gene = t.gene or a.get("gene_name") or a.get("ref_gene_id") or a.get("gene_id", tid)
            t.biotype = t.biotype or a.get("gene_type") or a.get("gene_biotype") or a.get("transcript_biotype", "")
            if feature == "exon":
                t.exons.append((start, end))
            elif feature in ("CDS", "stop_codon"):
                cds.setdefault(tid, []).append((start, end))
    for tid, t in sorted(tx.items(), key=lambda kv: (kv[1].exons[0][0] if kv[1].exons else 0, kv[0])):
        if not t.exons:
            continue
        t.exons.sort()
        if tid in cds:
            t.cds = (min(s for s, _ in cds[tid]), max(e for _, e in cds[tid]))
        yield t


def gtf_chromosomes(path: Path) -> list[str]:
    seen: dict[str, None] = {}
    with _open_text(path) as f:
        for line in f:
            if not line.startswith("#") and line.strip():
                seen.setdefault(normalise_chrom(line.split("\t", 1)[0]))
    return list(seen)


# --- NCBI gene table: entrez_id, symbol, full_name, synonyms, summary, type, organism

def read_gene_info(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = {"symbol", "full_name", "summary"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    return df.drop_duplicates("symbol").set_index("symbol")


def ncbi_gene_table() -> pd.DataFrame:
    """The sources folder's NCBI gene table (checksum-verified), indexed by symbol: the dataset builder's gene
    facts and the assistant's gene look-up."""
    return read_gene_info(source_path(GENE_INFO))
