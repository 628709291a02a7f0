"""How far is sequence direction decidable from the k-mers? (issue 15's goal: MCC >= 0.95)

A sequence-direction row is a ~160 nt genomic window written 5'->3' (forward) or read backwards (reversed, not
complemented). What tells them apart is strand asymmetry in k-mer usage (a k-mer against its reverse), which k-mer
logistic regression reads. Its learning curve (a quarter, a half and all of the train rows) and longer k-mers say
whether more rows or a wider profile would reach 0.95: the shipped head reads the same 3- to 6-mer profile beside
the states.

A reader with far more to learn from: a Markov chain of order k (each base given the k before it) counted on both
strands of every train-split block of the GRCh37 sequence the corpus is cut from (~100 Mb, where the train rows hold
1.3 Mb), answering "forward" where the row is likelier than its reverse. Its accuracy per window length says where
the errors are: the corpus' windows are 20-300 nt, and a 20-60 nt window says little.

    python -m studies.direction_decidability     # -> studies/results/direction_decidability.{md,json}
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import matthews_corrcoef

from dataset_scripts.build_grch38 import BLOCK, split_of
from dataset_scripts.genome import Genome
from dataset_scripts.sources import MIRROR_GENOMES, mirror_genome_files
from finetune.training.label_heads import _of_task
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.rules import reverse_complement

from .tables import write_results

TABLE = Path("studies/results/direction_decidability")
TASK = "sequence_direction"
FRACTIONS = (0.25, 0.5, 1.0)
SIZES = ((3, 6), (4, 8), (6, 8))  # k-mer LR's (the baseline's), and longer
ORDERS = (2, 4, 6, 8)  # the Markov chains' orders
LENGTHS = ((20, 60), (60, 120), (120, 200), (200, 301))  # window lengths, nt, whose accuracy is reported apart
ASSEMBLY, SEED = "GRCh37", 0  # the corpus' sequence and its split seed (dataset_scripts.build_grch38)
CODE = np.full(256, 4, dtype=np.int64)  # A, C, G, T -> 0..3, any other byte -> 4
CODE[np.frombuffer(b"ACGT", np.uint8)] = np.arange(4)


def kmer_lr(sizes: tuple[int, int]):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    return make_pipeline(CountVectorizer(analyzer="char", ngram_range=sizes, lowercase=False), Normalizer(),
                         LogisticRegression(max_iter=3000))


def splits(root: Path = DATASETS_DIR) -> dict:
    bench = next(b for b in discover(root, ("classify",)) if TASK in b.tasks and b.dataset == "GenomicLLM_GRCh38")
    out = {}
    for name, split in (("train", "train"), ("dev", bench.dev), ("test", "test")):
        out[name] = _of_task(bench.load(split, root), TASK)
    return out


def measure(root: Path = DATASETS_DIR) -> list[dict]:
    data = splits(root)
    points = [(sizes, 1.0) for sizes in SIZES] + [(SIZES[0], f) for f in FRACTIONS if f < 1]
    out = []
    for sizes, fraction in points:
        rows = data["train"].sample(frac=fraction, random_state=0) if fraction < 1 else data["train"]
        start = time.process_time()
        model = kmer_lr(sizes).fit(rows["sequence"].tolist(), rows["answer"].tolist())
        scores = {split: matthews_corrcoef(data[split]["answer"], model.predict(data[split]["sequence"].tolist()))
                  for split in ("dev", "test")}
        out.append({"sizes": f"{sizes[0]}-{sizes[1]}", "rows": len(rows),
                    "cpu_s": round(time.process_time() - start, 1), **scores})
    return sorted(out, key=lambda r: (r["sizes"], r["rows"]))


def train_blocks() -> list[str]:
    """The corpus' GRCh37 sequence in the train split's 1 Mb blocks (`split_of`, seed 0), as the corpus was cut."""
    genome = Genome(ASSEMBLY, mirror_genome_files(ASSEMBLY), MIRROR_GENOMES[ASSEMBLY]["partial"])
    out = []
    for chrom in genome.chromosomes():
        for lo, hi in genome.covered(chrom):
            out += [genome.fetch(chrom, b, min(hi, b + BLOCK)) for b in range(lo, hi, BLOCK)
                    if split_of(SEED, ASSEMBLY, chrom, b) == "train"]
    return out


def words(seq: str, k: int) -> np.ndarray:
    """The codes of `seq`'s overlapping k-mers (base i - j the j-th digit), -1 where one holds an N."""
    x = CODE[np.frombuffer(seq.encode(), np.uint8)]
    n = len(x) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    code, bad = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    for j in range(k):
        code, bad = code * 4 + (x[j : j + n] & 3), bad | (x[j : j + n] == 4)
    return np.where(bad, -1, code)


def markov_chain(blocks: list[str], order: int) -> np.ndarray:
    """log P(base | the `order` before it), indexed by the (order + 1)-mer's code, counted on both strands (+0.5)."""
    counts = np.full(4 ** (order + 1), 0.5)
    for block in blocks:
        for strand in (block, reverse_complement(block)):
            w = words(strand, order + 1)
            counts += np.bincount(w[w >= 0], minlength=len(counts))
    counts = counts.reshape(-1, 4)
    return np.log(counts / counts.sum(1, keepdims=True)).ravel()


def markov(root: Path = DATASETS_DIR) -> list[dict]:
    """Each order's dev and test MCC, and its test accuracy per window length (`LENGTHS`)."""
    data, start = splits(root), time.process_time()
    blocks = train_blocks()
    bases, read_s = sum(map(len, blocks)), time.process_time() - start
    out = []
    for order in ORDERS:
        start = time.process_time()
        logp = markov_chain(blocks, order)
        loglik = lambda s: logp[(w := words(s, order + 1))[w >= 0]].sum()
        row = {"order": order, "genome_bases": bases, "read_cpu_s": round(read_s, 1)}
        for split in ("dev", "test"):
            df = data[split]
            said = np.array(["forward" if loglik(s) >= loglik(s[::-1]) else "reversed" for s in df["sequence"]])
            row[split] = matthews_corrcoef(df["answer"], said)
            if split == "test":
                right, length = said == df["answer"].to_numpy(), df["sequence"].str.len().to_numpy()
                row["test_accuracy_by_length"] = {f"{lo}-{hi - 1}": float(right[(length >= lo) & (length < hi)].mean())
                                                  for lo, hi in LENGTHS}
        row["cpu_s"] = round(time.process_time() - start, 1)
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.parse_args(argv)
    rows, chains = measure(), markov()
    lines = ["| k-mers | train rows | dev MCC | test MCC | fit CPU-s |", "|---|---|---|---|---|"]
    lines += [f"| {r['sizes']} | {r['rows']:,} | {r['dev']:.3f} | {r['test']:.3f} | {r['cpu_s']} |" for r in rows]
    spans = [f"{lo}-{hi - 1}" for lo, hi in LENGTHS]
    chain = ["| order | dev MCC | test MCC | " + " | ".join(f"test acc. {s} nt" for s in spans) + " | CPU-s |",
             "|---|---|---|" + "---|" * len(spans) + "---|"]
    chain += [f"| {r['order']} | {r['dev']:.3f} | {r['test']:.3f} | "
              + " | ".join(f"{r['test_accuracy_by_length'][s]:.3f}" for s in spans) + f" | {r['cpu_s']} |"
              for r in chains]
    write_results(TABLE, {"kmer_lr": rows, "markov": chains}, "Sequence direction read by k-mer logistic regression "
                  "(`python -m studies.direction_decidability`): overlapping k-mer counts, L2-normalised, fitted on "
                  "a quarter, a half and all of the train rows, and with longer k-mers.\n\n" + "\n".join(lines)
                  + f"\n\nRead by a Markov chain counted on both strands of the train split's "
                  f"{chains[0]['genome_bases'] / 1e6:.0f} Mb of GRCh37 (read in {chains[0]['read_cpu_s']} CPU-s): "
                  "forward where the row is likelier than its reverse.\n\n" + "\n".join(chain) + "\n")


if __name__ == "__main__":
    main()
