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

And from a gene finder's statistics: a 3-periodic Markov chain (each base given the K before it, counted per codon
position on every train CDS the dataset holds: the ORF rows' and the NT2AA rows', 2.8 Mb) against one of non-coding
DNA (the intron rows and the forward sequence-direction rows, 0.9 Mb); each frame's log-likelihood ratio (and per
base), the stop-free frames and the best frame's margin into a 4-class logistic regression fitted on the ORF train
rows, scored on dev and test.

    python -m studies.orf_decidability     # -> studies/results/orf_decidability.{md,json}
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.metrics import matthews_corrcoef

from tasks.benchmarks import DATASETS_DIR, discover
from tasks.registry import get_task
from tasks.rules import STOPS

from .direction_decidability import words
from .tables import write_results

TABLE = Path("studies/results/orf_decidability")
TASK = "orf_frame"
SIZES = (3, 4, 5, 6)
FRACTIONS = (0.25, 0.5, 1.0)
ORDERS = (2, 4, 5)  # the Markov chains' context lengths
# the codon position (0-2) of a window's first base, by label: frame f starts its first whole codon at base f - 1
FIRST_PHASE = {"1": 0, "2": 2, "3": 1}


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
    train, dev, test = orf_splits(root)
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


class MarkovFrames:
    """log P(base | the `order` before it), indexed by the (order + 1)-mer's code (`direction_decidability.words`):
    per codon position of the base in CDS, and in non-coding DNA (add-one counts; k-mers holding an N not counted)."""

    def __init__(self, coding: list[tuple[str, int]], noncoding: list[str], order: int):
        self.order = order
        c, n = np.ones((3, 4 ** (order + 1))), np.ones(4 ** (order + 1))
        for seq, phase in coding:
            w = words(seq, order + 1)
            np.add.at(c, ((np.arange(len(w)) + order + phase) % 3, w), w >= 0)
        for seq in noncoding:
            w = words(seq, order + 1)
            n += np.bincount(w[w >= 0], minlength=len(n))
        c, n = c.reshape(3, -1, 4), n.reshape(-1, 4)
        self.coding = np.log(c / c.sum(2, keepdims=True)).reshape(3, -1)
        self.noncoding = np.log(n / n.sum(1, keepdims=True)).ravel()

    def features(self, sequence: str) -> list[float]:
        """Per frame (1-3) the log-likelihood ratio coding / non-coding, the same per base, the stop-free frames and
        the best frame's margin over the second."""
        w = words(sequence.upper(), self.order + 1)
        at = np.flatnonzero(w >= 0) + self.order  # the predicted base's position
        w = w[w >= 0]
        background = self.noncoding[w].sum()
        ratios = [self.coding[(at + FIRST_PHASE[f]) % 3, w].sum() - background for f in "123"]
        free = stop_free_frames(sequence.upper())
        top = sorted(ratios)
        return ratios + [r / len(sequence) for r in ratios] + [float(f in free) for f in "123"] + [top[-1] - top[-2]]


def markov_readers(root: Path = DATASETS_DIR) -> list[dict]:
    """The Markov-chain reader's dev and test MCC at each of `ORDERS`."""
    from sklearn.linear_model import LogisticRegression

    bench = orf_benchmark(root)
    train, dev, test = orf_splits(root)
    others = {b.tasks[0]: b for b in discover(root, ("classify", "generate")) if b.dataset == bench.dataset}
    cds = others["nt2aa"].load("train", root, ["sequence"])["sequence"].tolist()
    direction = others["sequence_direction"].load("train", root, ["sequence", "answer"])
    coding = [(s, 0) for s in cds] + [(s, FIRST_PHASE[a]) for s, a in zip(train["sequence"], train["answer"])
                                      if a != "none"]
    noncoding = train.loc[train["answer"] == "none", "sequence"].tolist() + \
        direction.loc[direction["answer"] == "forward", "sequence"].tolist()
    out = []
    for order in ORDERS:
        start = time.process_time()
        chain = MarkovFrames(coding, noncoding, order)
        x = {k: np.array([chain.features(s) for s in df["sequence"]]) for k, df in
             (("train", train), ("dev", dev), ("test", test))}
        model = LogisticRegression(max_iter=3000).fit(x["train"], train["answer"])
        out.append({"order": order, "coding_bases": sum(len(s) for s, _ in coding),
                    "noncoding_bases": sum(map(len, noncoding)), "cpu_s": round(time.process_time() - start, 1),
                    **{k: matthews_corrcoef(df["answer"], model.predict(x[k])) for k, df in
                       (("dev", dev), ("test", test))}})
    return out


def orf_benchmark(root: Path = DATASETS_DIR):
    return next(b for b in discover(root, ("classify",)) if TASK in b.tasks and b.dataset == "GenomicLLM_GRCh38")


def orf_splits(root: Path = DATASETS_DIR) -> tuple:
    """The ORF benchmark's train, dev and test rows (sequence, answer)."""
    bench = orf_benchmark(root)
    return tuple(bench.load(s, root, ["sequence", "answer"]) for s in ("train", bench.dev, "test"))


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
    chains = markov_readers()
    mc = ["| context (bases) | coding / non-coding bases counted | dev MCC | test MCC | CPU-s |",
          "|---|---|---|---|---|"]
    mc += [f"| {r['order']} | {r['coding_bases']:,} / {r['noncoding_bases']:,} | {r['dev']:.3f} | {r['test']:.3f} | "
           f"{r['cpu_s']} |" for r in chains]
    write_results(TABLE, {"stop_rule": results, "phased_kmer_lr": curve, "markov_chain": chains},
                  "ORF frame read from stop codons alone (`python -m studies.orf_decidability`): the one stop-free "
                  "frame, `none` when every frame has a stop, the first stop-free frame when several are.\n\n"
                  + "\n".join(lines) + "\n\n"
                  "Read from codon usage: a phased k-mer logistic regression (each frame's 3- to 6-mers counted "
                  "apart, each frame L2-normalised; with the stop-free frames as features too), fitted on a quarter, "
                  "a half and all of the train rows:\n\n" + "\n".join(lr) + "\n\n"
                  "Read as a gene finder reads it: a 3-periodic Markov chain of CDS (per codon position) against one "
                  "of non-coding DNA, counted on the train split's CDS and intron / genome rows; per frame the "
                  "log-likelihood ratio, with the stop-free frames, into a logistic regression on the ORF train "
                  "rows:\n\n" + "\n".join(mc) + "\n")


if __name__ == "__main__":
    main()
