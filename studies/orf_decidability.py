"""How far is ORF frame decidable from the sequence? (issue 15's goal: MCC >= 0.95)

An ORF-frame row is a 60-149 nt window of a CDS (label: where its first whole codon starts, 1-3) or of an intron
(label: none). The one thing the sequence says for certain is where stop codons are: the coding frame of a CDS
window has none. So the rule here answers the one stop-free frame when there is exactly one, `none` when every frame
has a stop, and the first stop-free frame when several are; the table counts rows by label and by how many frames
are stop-free, which bounds what any reader of the sequence can do: a CDS window with two stop-free frames, or an
intron window with one, cannot be told apart by stops (only by codon usage, statistically).

    python -m studies.orf_decidability     # -> studies/results/orf_decidability.{md,json}
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from sklearn.metrics import matthews_corrcoef

from tasks.benchmarks import DATASETS_DIR, discover
from tasks.registry import get_task
from tasks.rules import STOPS

from .tables import write_results

TABLE = Path("studies/results/orf_decidability")
TASK = "orf_frame"


def stop_free_frames(sequence: str) -> list[str]:
    """The labels (1-3) of the frames whose whole codons hold no stop."""
    return [str(f + 1) for f in range(3)
            if not any(sequence[i:i + 3] in STOPS for i in range(f, len(sequence) - 2, 3))]


def rule(sequence: str) -> str:
    free = stop_free_frames(sequence)
    return free[0] if free else "none"


def measure(split: str, root: Path = DATASETS_DIR) -> dict:
    bench = next(b for b in discover(root, ("classify",)) if TASK in b.tasks and b.dataset == "GenomicLLM_GRCh38")
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
    labels = get_task(TASK).labels
    lines = ["| split | n | stop rule MCC | accuracy | " + " | ".join(f"{a}: 0/1/2/3 stop-free frames" for a in labels)
             + " |", "|" + "---|" * (4 + len(labels))]
    for r in results:
        cells = ["/".join(str(r["counts"].get(f"{a}|{k}", 0)) for k in range(4)) for a in labels]
        lines.append(f"| {r['split']} | {r['n']} | {r['mcc']:.3f} | {r['accuracy']:.3f} | " + " | ".join(cells) + " |")
    write_results(TABLE, results,
                  "ORF frame read from stop codons alone (`python -m studies.orf_decidability`): the one stop-free "
                  "frame, `none` when every frame has a stop, the first stop-free frame when several are.\n\n"
                  + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
