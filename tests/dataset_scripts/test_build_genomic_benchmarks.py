"""GenomicBenchmarks rebuild: sequences checked base for base against independent reads, gap-free lifting, counting
of unobtainable rows, determinism, cross-split de-duplication and offline loading. Small real slices only."""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache

import pandas as pd
import pyfaidx
import pytest
from Bio.Seq import Seq
from pyliftover import LiftOver

from dataset_scripts.build_genomic_benchmarks import (
    Reference,
    Sources,
    balance_shift,
    build,
    build_config,
    load_rows,
    reference_of,
    references,
)
from dataset_scripts.liftover import HG38_TO_HG19, IntervalLifter, LiftFailed
from dataset_scripts.sources import source_path

NONTATA = "human_nontata_promoters"
HG38_PIECE = "genome/hg38_chr2_1-2333275.fa.gz"
GRCH37 = {"20": "genome/GRCh37_chr20.fa.gz", "X": "genome/GRCh37_chrX_1-70M.fa.gz"}


@pytest.fixture(scope="module")
def nontata_slice():
    """Rows on the GRCh38 chr2 piece (both strands), some on chr20/chrX (lifted) and some elsewhere."""
    rows = load_rows(NONTATA)
    on_piece = rows[(rows.region == "chr2") & (rows.end <= 2_333_275)]
    near = (rows.region == "chr20") | ((rows.region == "chrX") & (rows.end < 60_000_000))  # GRCh37 chrX piece: 70 Mb
    lifted = rows[near].groupby(["region", "split", "strand"]).head(8)
    elsewhere = rows.groupby(["split", "label"]).head(25)
    subset = pd.concat([on_piece, lifted, elsewhere])
    subset = subset[~subset.index.duplicated()]
    report, splits = build_config(NONTATA, rows=subset)
    return subset, report, splits


@lru_cache(maxsize=None)
def _fasta(fasta_rel: str) -> pyfaidx.Fasta:
    return pyfaidx.Fasta(str(source_path(fasta_rel)), as_raw=True)  # an independent reader of the mirror file


def _read(fasta_rel: str, key: str, start: int, end: int, strand: str) -> str:
    seq = _fasta(fasta_rel)[key][start:end].upper()
    return str(Seq(seq).reverse_complement()) if strand == "-" else seq


def test_direct_grch38_rows_match_the_fasta(nontata_slice):
    _, _, splits = nontata_slice
    df = pd.concat(splits.values())
    direct = df[df.assembly_used == "GRCh38"]
    assert set(direct.strand) == {"+", "-"}
    assert len(direct) == 9  # every row of this dataset on the piece
    for r in direct.itertuples():
        assert (r.lifted_chrom, r.lifted_start, r.lifted_end) == (r.region, r.start, r.end)
        assert r.sequence == _read(HG38_PIECE, "chr2", r.start, r.end, r.strand)
        assert len(r.sequence) == r.end - r.start == 251
    # FP001987, test positive, chr2:46454-46705 on '-': the reverse complement of the forward read
    row = direct[direct.id == "FP001987"].iloc[0]
    assert row.sequence == str(Seq(_read(HG38_PIECE, "chr2", 46454, 46705, "+")).reverse_complement())


def test_lifted_rows_match_an_independent_lift_and_grch37_read(nontata_slice):
    _, _, splits = nontata_slice
    df = pd.concat(splits.values())
    lifted = df[df.assembly_used == "GRCh37"]
    assert set(lifted.region) >= {"chr20", "chrX"} and set(lifted.strand) == {"+", "-"}
    lo = LiftOver(str(source_path(HG38_TO_HG19)))
    for r in lifted.itertuples():
        first, last = lo.convert_coordinate(r.region, r.start)[0], lo.convert_coordinate(r.region, r.end - 1)[0]
        assert first[0] == last[0] == r.lifted_chrom and first[2] == last[2] == "+"
        assert (first[1], last[1] + 1) == (r.lifted_start, r.lifted_end)
        chrom = r.lifted_chrom.removeprefix("chr")
        assert r.sequence == _read(GRCH37[chrom], chrom, r.lifted_start, r.lifted_end, r.strand)


def test_gapped_and_strand_flipped_lifts_are_rejected(tmp_path):
    # chr1 100-300 aligns in two blocks with a 10 bp insertion in the target between them; chr2 maps to '-'.
    chain = tmp_path / "toy.over.chain"
    chain.write_text("chain 1000 chr1 1000 + 100 300 chr1 1000 + 200 410 1\n50 0 10\n150\n\n"
                     "chain 900 chr2 1000 + 0 100 chr5 2000 - 0 100 2\n100\n\n")
    lifter = IntervalLifter(chain)
    lifted = lifter.lift("1", 120, 140)
    assert (lifted.chrom, lifted.start, lifted.end) == ("chr1", 220, 240)
    assert lifter.lift("chr1", 160, 300).start == 270
    for args, reason in [(("chr1", 140, 160), "lift_gapped_or_strand"), (("chr2", 10, 20), "lift_gapped_or_strand"),
                         (("chr1", 0, 10), "lift_failed"), (("chr3", 10, 20), "lift_failed")]:
        with pytest.raises(LiftFailed) as e:
            lifter.lift(*args)
        assert e.value.reason == reason
    # Point-wise lifting of both ends would have accepted the gapped interval with a different length.
    lo = LiftOver(str(chain))
    assert lo.convert_coordinate("chr1", 159)[0][1] + 1 - lo.convert_coordinate("chr1", 140)[0][1] == 30


def test_every_source_row_is_built_or_counted(nontata_slice):
    subset, report, splits = nontata_slice
    built = sum(len(df) for df in splits.values())
    assert built + sum(report.duplicates_removed.values()) + sum(report.unobtainable.values()) == len(subset)
    assert report.unobtainable["unknown_chromosome"] > 0 and report.rows == {}  # rows filled by write_config
    report, splits = build_config("human_ocr_ensembl", limit_per_file=150)
    assert sum(map(len, splits.values())) + sum(report.duplicates_removed.values()) \
        + sum(report.unobtainable.values()) == 4 * 150
    report, splits = build_config("demo_human_or_worm", limit_per_file=5)
    assert splits == {} and report.unobtainable == {"genome_absent": 20}
    assert "genome WBcel235 absent (20 rows)" in report.notes[0]
    # The mirror covers classes unevenly: a built slice whose class mix drifted from upstream's says so.
    src = pd.DataFrame({"split": ["test"] * 4, "label": ["negative", "negative", "positive", "positive"]})
    assert balance_shift(src, {"test": src.iloc[1:]}) and not balance_shift(src, {"test": src.iloc[[0, 2]]})


def test_build_is_deterministic_and_loads_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    digests = []
    for name in ("a", "b"):
        reports = build(tmp_path / name, limit_per_file=250, progress=False, configs=[NONTATA, "demo_human_or_worm"])
        files = sorted((tmp_path / name).rglob("*.parquet"))
        assert [f.relative_to(tmp_path / name).as_posix() for f in files] == \
            [f"data/{NONTATA}/test.parquet", f"data/{NONTATA}/train.parquet"]
        digests.append([hashlib.sha256(f.read_bytes()).hexdigest() for f in files + [tmp_path / name / "README.md"]])
    assert digests[0] == digests[1]
    assert [r.name for r in reports] == [NONTATA, "demo_human_or_worm"]
    card = (tmp_path / "a" / "README.md").read_text()
    assert "license: apache-2.0" in card and "demo_human_or_worm**: genome WBcel235 absent (1,000 rows)" in card
    import datasets

    ds = datasets.load_dataset(str(tmp_path / "a"), NONTATA, cache_dir=str(tmp_path / "hf"))
    assert set(ds) == {"train", "test"} and ds["test"].num_rows == reports[0].rows["test"]
    assert {"id", "sequence", "label", "prompt", "answer", "region", "start", "end", "strand", "assembly_used",
            "lifted_chrom", "lifted_start", "lifted_end"} <= set(ds["train"].column_names)
    row = ds["test"][0]
    assert row["prompt"] == f"{row['sequence']}, promoter =" and row["answer"] == {"positive": "yes", "negative": "no"}[row["label"]]


def test_no_sequence_crosses_splits(nontata_slice):
    subset, report, splits = nontata_slice
    assert not set(splits["train"].sequence) & set(splits["test"].sequence)
    # A train row copying a test row's interval is removed from train, and counted.
    test_row = subset[(subset.split == "test") & (subset.region == "chr2") & (subset.end <= 2_333_275)].iloc[[0]]
    twin = test_row.assign(split="train", id="twin")
    report2, splits2 = build_config(NONTATA, rows=pd.concat([subset, twin], ignore_index=True))
    assert report2.duplicates_removed == {"train": 1, "test": 0}
    assert "twin" not in set(splits2["train"].id) and len(splits2["test"]) == len(splits["test"])


def test_reference_keys_and_transcript_rows(tmp_path):
    keys = {name: {c: r.key for c, r in references(name).items()} for name in
            ("demo_coding_vs_intergenomic_seqs", "demo_human_or_worm", "drosophila_enhancers_stark",
             "dummy_mouse_enhancers_ensembl", "human_ocr_ensembl")}
    assert keys["demo_coding_vs_intergenomic_seqs"] == {"coding_seqs": "GRCh38_cdna", "intergenomic_seqs": "GRCh38"}
    assert keys["demo_human_or_worm"] == {"human": "GRCh38", "worm": "WBcel235"}
    assert set(keys["drosophila_enhancers_stark"].values()) == {"BDGP6"}
    assert set(keys["dummy_mouse_enhancers_ensembl"].values()) == {"GRCm38"}
    assert reference_of({"url": "x/Homo_sapiens.GRCh38.cdna.all.fa.gz"}) == \
        Reference("GRCh38_cdna", "transcriptome", "x/Homo_sapiens.GRCh38.cdna.all.fa.gz")
    with pytest.raises(ValueError, match="unknown genome key"):
        build(tmp_path / "x", fastas={"hg38": tmp_path / "none.fa"}, configs=[NONTATA])
    # A user transcriptome (synthetic, versioned ids like Ensembl's) serves the ENST rows; one transcript is absent.
    rows = load_rows("demo_coding_vs_intergenomic_seqs", limit_per_file=4)
    coding = rows[rows.label == "coding_seqs"]
    rng = random.Random(0)
    seqs = {t: "".join(rng.choice("ACGT") for _ in range(e + 7)) for t, e in zip(coding.region, coding.end)}
    fasta = tmp_path / "cdna.fa"
    fasta.write_text("".join(f">{t}.3 cdna chromosome:GRCh38\n{s}\n" for t, s in list(seqs.items())[1:]))
    report, splits = build_config("demo_coding_vs_intergenomic_seqs", Sources({"GRCh38_cdna": fasta}), rows=rows)
    got = pd.concat(splits.values())
    got = got[got.label == "coding_seqs"]
    assert len(got) == 7 and report.unobtainable["unknown_transcript"] == 1
    for r in got.itertuples():
        assert r.sequence == seqs[r.region][r.start:r.end] and r.assembly_used == "GRCh38_cdna" and r.prompt == ""
