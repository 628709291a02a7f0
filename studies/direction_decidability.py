"""How far is sequence direction decidable from the k-mers? (issue 15's goal: MCC >= 0.95)

A sequence-direction row is a ~160 nt genomic window written 5'->3' (forward) or read backwards (reversed, not
complemented). What tells them apart is strand asymmetry in k-mer usage (a k-mer against its reverse), which k-mer
logistic regression reads. Its learning curve (a quarter, a half and all of the train rows) and longer k-mers say
whether more rows or a wider profile would reach 0.95: the shipped head reads the same 3- to 6-mer profile beside
the states.

    python -m studies.direction_decidability     # -> studies/results/direction_decidability.{md,json}
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sklearn.metrics import matthews_corrcoef

from finetune.training.label_heads import _of_task
from tasks.benchmarks import DATASETS_DIR, discover

from .tables import write_results

TABLE = Path("studies/results/direction_decidability")
TASK = "sequence_direction"
FRACTIONS = (0.25, 0.5, 1.0)
SIZES = ((3, 6), (4, 8), (6, 8))  # k-mer LR's (the baseline's), and longer


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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.parse_args(argv)
    rows = measure()
    lines = ["| k-mers | train rows | dev MCC | test MCC | fit CPU-s |", "|---|---|---|---|---|"]
    lines += [f"| {r['sizes']} | {r['rows']:,} | {r['dev']:.3f} | {r['test']:.3f} | {r['cpu_s']} |" for r in rows]
    write_results(TABLE, rows, "Sequence direction read by k-mer logistic regression "
                  "(`python -m studies.direction_decidability`): overlapping k-mer counts, L2-normalised, fitted on "
                  "a quarter, a half and all of the train rows, and with longer k-mers.\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
