"""How far is ORF frame decidable from the sequence? (issue 15's goal: MCC >= 0.95)

An ORF-frame row is a 60-149 nt window of a CDS (label: where its first whole codon starts, 1-3) or of an intron
(label: none). The one thing the sequence says for certain is where stop codons are: the coding frame of a CDS
window has none. So the rule here answers the one stop-free frame when there is exactly one, `none` when every frame
has a stop, and the first stop-free frame when several are; the table counts rows by label and by how many frames
are stop-free, which bounds what any reader of the sequence can do: a CDS window with two stop-free frames, or an
intron window with one, cannot be told apart by stops (only by codon usage, statistically).

How far does codon usage take it, and how fast does it grow with rows? A phased k-mer logistic regression (each
frame's 3- to 6-mers counted apart, each frame's counts L2-normalised, and which frames are stop-free), fitted on a
quarter, a half and all of the train rows, scored on dev and test: the learning curve says how many rows a reader of
the sequence would need for MCC 0.95; with and without the stop-free frames.

    python -m studies.orf_decidability     # -> studies/results/orf_decidability.{md,json}
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from functools import partial
from pathlib import Path

from sklearn.metrics import matthews_corrcoef

from tasks.benchmarks import DATASETS_DIR, discover
from tasks.registry import get_task
from tasks.rules import STOPS

from .tables import write_results

TABLE = Path("studies/results/orf_decidability")
TASK = "orf_frame"
SIZES = (3, 4, 5, 6)
FRACTIONS = (0.25, 0.5, 1.0)


def stop_free_frames(sequence: str) -> list[str]:
    """The labels (1-3) of the frames whose whole codons hold no stop."""
    return [str(f + 1) for f in range(3)
            if not any(sequence[i:i + 3] in STOPS for i in range(f, len(sequence) - 2, 3))]


def rule(sequence: str) -> str:
    free = stop_free_frames(sequence)
    return free[0] if free else "none"


def frame_kmers(sequence: str, frame: int) -> list[str]:
    """The 3- to 6-mers starting in one frame (every third base from `frame`)."""
    s = sequence.upper()
    return [s[i:i + k] for k in SIZES for i in range(frame, len(s) - k + 1, 3)]


def stop_free_tokens(sequence: str) -> list[str]:
    return [f"free{f}" for f in stop_free_frames(sequence.upper())]


def phased_lr(stop_free: bool):
    """The phased k-mer logistic regression: per frame, its k-mers' counts, L2-normalised; and the stop-free frames."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import Normalizer

    parts = [make_pipeline(CountVectorizer(analyzer=partial(frame_kmers, frame=f)), Normalizer()) for f in range(3)]
    if stop_free:
        parts.append(CountVectorizer(analyzer=stop_free_tokens))
    return make_pipeline(make_union(*parts), LogisticRegression(max_iter=3000))


def learning_curve(root: Path = DATASETS_DIR) -> list[dict]:
    """The phased k-mer LR's dev and test MCC fitted on `FRACTIONS` of the train rows (one draw, seed 0)."""
    bench = orf_benchmark(root)
    train, dev, test = (bench.load(s, root, ["sequence", "answer"]) for s in ("train", bench.dev, "test"))
    out = []
    for stop_free in (False, True):
        for fraction in FRACTIONS:
            rows = train.sample(frac=fraction, random_state=0) if fraction < 1 else train
            start = time.process_time()
            model = phased_lr(stop_free).fit(rows["sequence"].tolist(), rows["answer"].tolist())
            out.append({"stop_free": stop_free, "rows": len(rows), "cpu_s": round(time.process_time() - start, 1),
                        **{split: matthews_corrcoef(df["answer"], model.predict(df["sequence"].tolist()))
                           for split, df in (("dev", dev), ("test", test))}})
    return out


def orf_benchmark(root: Path = DATASETS_DIR):
    return next(b for b in discover(root, ("classify",)) if TASK in b.tasks and b.dataset == "GenomicLLM_GRCh38")


def measure(split: str, root: Path = DATASETS_DIR) -> dict:
    bench = orf_benchmark(root)
    wanted = bench.dev if split == "dev" else split
    rows = bench.load(wanted, root, ["sequence", "answer"])
    pred = [rule(s) for s in rows["sequence"]]
    counts = Counter((a, len(stop_free_frames(s))) for s, a in zip(rows["sequence"], rows["answer"]))
    return {"split": wanted, "n": len(rows), "mcc": matthews_corrcoef(rows["answer"], pred),
            "accuracy": sum(p == a for p, a in zip(pred, rows["answer"])) / len(rows),
            "counts": {f"{a}|{k}": v for (a, k), v in sorted(counts.items())}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.parse_args(argv)
    results = [measure(s) for s in ("dev", "test")]
    curve = learning_curve()
    labels = get_task(TASK).labels
    lines = ["| split | n | stop rule MCC | accuracy | " + " | ".join(f"{a}: 0/1/2/3 stop-free frames" for a in labels)
             + " |", "|" + "---|" * (4 + len(labels))]
    for r in results:
        cells = ["/".join(str(r["counts"].get(f"{a}|{k}", 0)) for k in range(4)) for a in labels]
        lines.append(f"| {r['split']} | {r['n']} | {r['mcc']:.3f} | {r['accuracy']:.3f} | " + " | ".join(cells) + " |")
    lr = ["| reads | train rows | dev MCC | test MCC | fit CPU-s |", "|---|---|---|---|---|"]
    lr += [f"| each frame's 3- to 6-mers{' + stop-free frames' if r['stop_free'] else ''} | {r['rows']:,} | "
           f"{r['dev']:.3f} | {r['test']:.3f} | {r['cpu_s']} |" for r in curve]
    write_results(TABLE, {"stop_rule": results, "phased_kmer_lr": curve},
                  "ORF frame read from stop codons alone (`python -m studies.orf_decidability`): the one stop-free "
                  "frame, `none` when every frame has a stop, the first stop-free frame when several are.\n\n"
                  + "\n".join(lines) + "\n\n"
                  "Read from codon usage: a phased k-mer logistic regression (each frame's 3- to 6-mers counted "
                  "apart, each frame L2-normalised; with the stop-free frames as features too), fitted on a quarter, "
                  "a half and all of the train rows:\n\n" + "\n".join(lr) + "\n")


if __name__ == "__main__":
    main()
