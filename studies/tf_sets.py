"""Do the GUE transcription-factor sets conflict under one prompt? k-mer LR per set vs one k-mer LR over all of them.

The ten GUE TF sets (tf_0-4 human, mouse_0-4) are asked with the same prompt, `<seq>, transcription factor binding
site =`, with nothing naming the TF; one model must then answer "binds any of ten TFs". If one k-mer logistic
regression fitted on the pooled sets scores far below the per-set fits on each set's dev split, the labels conflict
and a field naming the set is worth its product cost; if not, the model's low TF scores have another cause.

    python -m studies.tf_sets --max-train 5000      # -> studies/results/tf_sets.{md,json}
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.metrics import matthews_corrcoef

from dataset_scripts.audit import kmer_lr
from tasks.benchmarks import discover
from tasks.paths import DATASETS_DIR

from .tables import write_results

OUT = Path("studies/results/tf_sets")


def tf_benchmarks(root: Path) -> list:
    return [b for b in discover(root) if b.task == "tf_binding" and "train" in b.splits]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--max-train", type=int, default=5000, help="train rows per set (the same rows in both fits)")
    p.add_argument("--root", type=Path, default=DATASETS_DIR)
    args = p.parse_args(argv)
    sets = {}
    for b in tf_benchmarks(args.root):
        train = b.load("train", args.root, ["sequence", "answer"])
        train = train.sample(n=min(args.max_train, len(train)), random_state=0)
        sets[b.name] = (train, b.load(b.dev, args.root, ["sequence", "answer"]))
    pooled = kmer_lr(pd.concat([t.sequence for t, _ in sets.values()]).tolist(),
                     pd.concat([t.answer for t, _ in sets.values()]).tolist())
    rows = []
    for name, (train, dev) in sets.items():
        own = kmer_lr(train.sequence.tolist(), train.answer.tolist())
        mcc = {fit: matthews_corrcoef(dev.answer, model.predict(dev.sequence.tolist()))
               for fit, model in (("per_set", own), ("pooled", pooled))}
        rows.append({"set": name, "train_rows": len(train), "dev_rows": len(dev), **mcc})
        print(f"{name:<14} per-set MCC {mcc['per_set']:.3f}  pooled MCC {mcc['pooled']:.3f}", flush=True)
    lines = ["| set | train rows | dev rows | k-mer LR per set (MCC) | one k-mer LR over all sets (MCC) |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['set']} | {r['train_rows']:,} | {r['dev_rows']:,} | {r['per_set']:.3f} | {r['pooled']:.3f} |"
              for r in rows]
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("per_set", "pooled")}
    lines.append(f"| mean | | | {mean['per_set']:.3f} | {mean['pooled']:.3f} |")
    write_results(OUT, rows,
                  f"GUE TF sets, dev MCC: k-mer LR (3-6-mers) fitted per set vs one fitted on all sets pooled, "
                  f"{args.max_train:,} train rows per set (`python -m studies.tf_sets --max-train {args.max_train}`)."
                  "\n\n" + "\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
