"""Train splits for the GUE configs whose upstream train is missing from the sources mirror, rebuilt from the
mirror's genome pieces + annotation the way GUE built the task (dev/test stay GUE's own rows).

- `prom_300_notata`: -249..+50 around annotated TSSs (SpliceAI canonical transcripts; GUE used EPDnew) without a
  TATA box, each with GUE's negative (DeePromoter: 12 of 20 parts replaced by random bases).
- `prom_300_all`: the same plus TATA promoters, whose negatives are, like GUE's TATA negatives (they share no part
  with any promoter), genomic non-promoter windows (gene fragments after the first exon) holding a TATA box.
- `splice_reconstructed`: 400 nt donor / acceptor / none windows of canonical transcripts (corpus_tasks.splice_sites:
  the junction between index 199 and 200, decoys with the same central dinucleotide).
Only windows of the GenomicLLM_GRCh38 train blocks are used (split by region: no corpus validation/test locus enters
a train split), and a row whose sequence (exact string) is a GUE dev/test row is dropped with its pair.
Yeast (EMP) and mouse (`mouse_1`) sets cannot be rebuilt without their genomes: they stay evaluation-only.
"""

from __future__ import annotations

import pandas as pd

from tasks.benchmarks import GUE_GROUPS, gue_group

from . import corpus_tasks as ct
from . import promoter_windows as pw
from .annotation_sources import MirrorAnnotation
from .build_grch38 import rng_for

PROMOTER = (249, 50)  # upstream, downstream of the TSS: 300 nt
# GUE folder -> why a config of it without train cannot be rebuilt here
NOT_RECONSTRUCTABLE = {"EMP": "no yeast (S. cerevisiae) genome in the sources mirror",
                       "mouse": "no mouse genome in the sources mirror"}
NOTES = {
    "prom_300_notata": "train is a reconstruction: -249..+50 around annotated TSSs (canonical transcripts of the "
                       "mirror's genome pieces, no TATA box at -40..-15) and GUE's negatives (12 of 20 parts of each "
                       "promoter replaced by random bases); not GUE's own train rows",
    "prom_300_all": "train is a reconstruction: the prom_300_notata reconstruction plus TATA-box promoters, whose "
                    "negatives are non-promoter gene fragments after the first exon holding a TATA box; not GUE's own "
                    "train rows",
    "splice_reconstructed": "train is a reconstruction: 400 nt donor / acceptor / none windows of canonical "
                            "transcripts of the mirror's genome pieces (junction between index 199 and 200, decoys "
                            "with the same central dinucleotide); not GUE's own train rows",
}


def promoter_rows(config: str, seed: int = 0) -> pd.DataFrame:
    """Columns sequence, label_name, pair (a promoter and its negative share a pair id)."""
    rows, tata = [], 0
    for i, r in enumerate(pw.promoters(*PROMOTER, seed=seed)):
        if r["split"] != "train" or (r["tata"] and config == "prom_300_notata"):
            continue
        rows.append((r["sequence"], "yes", i))
        if r["tata"]:
            tata += 1
        else:
            rng = rng_for(seed, config, r["assembly"], r["chrom"], r["start"])
            rows.append((pw.substituted(r["sequence"], rng), "no", i))
    if tata:  # TATA promoters' negatives: genomic non-promoter windows with a TATA box
        frags = [f for f in pw.gene_body_fragments(sum(PROMOTER) + 1, per_transcript=12, seed=seed)
                 if f["split"] == "train" and pw.TATA_BOX.search(f["sequence"])]
        rows += [(f["sequence"], "no", -1 - k) for k, f in enumerate(frags[:tata])]
    return pd.DataFrame(rows, columns=["sequence", "label_name", "pair"])


def splice_rows(seed: int = 0) -> pd.DataFrame:
    rows = []
    for p in pw.mirror_pieces():
        asm = p.genome.assembly
        boundaries = MirrorAnnotation(asm).boundaries(p.chrom)
        for i, t in enumerate(p.transcripts):
            if pw.split_of(seed, asm, p.chrom, t.start) != "train":
                continue
            rng = rng_for(seed, "gue-splice", asm, p.chrom, t.gene, t.start)
            rows += [(r["sequence"], r["answer"], -1) for r in ct.splice_sites(t, p.genome, boundaries, rng)]
    return pd.DataFrame(rows, columns=["sequence", "label_name", "pair"])


def reconstruct_train(config: str, held_out: set[str], seed: int = 0) -> tuple[pd.DataFrame, int]:
    """(train rows: sequence, label (GUE integer), label_name; rows dropped for sharing a sequence with dev/test)."""
    df = splice_rows(seed) if config == "splice_reconstructed" else promoter_rows(config, seed)
    shared = df.sequence.isin(held_out)
    drop = shared | (df.pair.isin(df.pair[shared & (df.pair >= 0)]) & (df.pair >= 0))  # a pair goes together
    df = df[~drop].drop_duplicates("sequence").reset_index(drop=True)
    code = {name: k for k, name in GUE_GROUPS[gue_group(config)][2].items()}
    return df.assign(label=df.label_name.map(code).astype("int64"))[["sequence", "label", "label_name"]], int(drop.sum())
