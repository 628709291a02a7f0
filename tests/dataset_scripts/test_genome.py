import gzip

import pytest
from Bio import SeqIO

from dataset_scripts.genome import Genome, RegionUnavailable, reverse_complement
from dataset_scripts.sources import source_path


def test_piece_offsets_are_chromosome_coordinates(grch37):
    # chr22 piece record is `22:20000001-21000000`: its first base is chromosome position 20,000,000 (0-based)
    with gzip.open(source_path("genome/GRCh37_chr22_20-21M.fa.gz"), "rt") as f:
        record = next(SeqIO.parse(f, "fasta"))
    assert grch37.fetch("chr22", 20_000_000, 20_000_060) == str(record.seq[:60]).upper()
    assert grch37.fetch("22", 20_000_500, 20_000_560, "-") == reverse_complement(str(record.seq[500:560]).upper())


def test_softmasked_sequence_is_upper_case(grch38):
    seq = grch38.fetch("chr2", 10_000, 12_000)
    assert seq == seq.upper() and set(seq) <= set("ACGTN")


def test_iupac_reverse_complement():
    assert reverse_complement("ACGTNRYKMSWBDHVacgtn") == "nacgtBDHVWSKMRYNACGT"


@pytest.mark.parametrize("args, reason", [
    (("chr1", 0, 10), "unknown_chromosome"),
    (("X", 69_999_900, 70_000_100), "not_covered"),
    (("22", 19_000_000, 19_000_100), "not_covered"),
    (("20", 63_025_500, 63_025_530), "past_chromosome_end"),
])
def test_unavailable_regions_say_why(grch37, args, reason):
    with pytest.raises(RegionUnavailable) as e:
        grch37.fetch(*args)
    assert e.value.reason == reason and str(args[0]).removeprefix("chr") in str(e.value)


def test_bad_intervals_are_errors(grch37):
    with pytest.raises(ValueError, match="invalid interval"):
        grch37.fetch("20", 100, 100)
    with pytest.raises(ValueError, match="strand"):
        grch37.fetch("20", 100, 200, "x")


def test_plain_fasta_with_iupac_and_lowercase(tmp_path):
    fa = tmp_path / "mini.fa"
    fa.write_text(">chrM desc\nacgtNNRYac\nGGCC\n")
    g = Genome("test", [fa])
    assert g.chromosomes() == ["MT"]
    assert g.fetch("M", 0, 14) == "ACGTNNRYACGGCC"
    assert g.fetch("chrM", 4, 8, "-") == "RYNN"


def test_plain_gzip_fasta_is_refused_clearly(tmp_path):
    fa = tmp_path / "plain.fa.gz"
    with gzip.open(fa, "wt") as f:
        f.write(">1\nACGT\n")
    with pytest.raises(Exception, match="BGZF|bgzip|compress"):
        Genome("test", [fa])
