"""What a head's motif reader (`finetune.training.conv_heads`) should read, and whether the model's states are worth
reading at all: the same reader (kernel 9, 32 -> 64 channels, mean and max pooled; per codon position for the ORF
frame) trained on the same train rows for the same epochs, on the embeddings alone (layer 0: a CNN over the bases,
what the CNN baseline reads, only larger), on the last block's states alone, and on both (what `conv_heads` fits).
Each is scored on the benchmark's dev rows (as asked, no other readings) beside the head it would replace. One thread:

    python -m studies.conv_head_layers --only orf_frame:GenomicLLM_GRCh38/orf_frame tf_binding:GUE/mouse_3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from finetune.training.conv_heads import fit_conv_head
from modeling.inference import load
from tasks.registry import get_task

from .tables import write_results


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="release/GenomicLLM", help="a model folder with label heads (not written)")
    ap.add_argument("--only", nargs="+", required=True, help="task:benchmark pairs")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--select-rows", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--out", type=Path, default=Path("studies/results/conv_head_layers"))
    args = ap.parse_args(argv)
    tok, model = load(args.model)
    last = model.config.num_layers
    candidates = {"embeddings (0)": [0], f"last block ({last})": [last], f"both (0, {last})": [0, last]}
    results = {}
    for pair in args.only:
        task, _, bench = pair.partition(":")
        get_task(task)
        for name, layers in candidates.items():
            start = time.process_time()
            fitted = fit_conv_head(model, tok, task, bench, args.rows, args.select_rows, args.epochs,
                                   spec={"layers": layers})
            sel = fitted["entry"]["selection"]
            results.setdefault(bench, {"replaced": sel["replaced_mcc"], "rows": sel["rows"]})[name] = {
                "mcc": sel["mcc"], "cpu_s": round(time.process_time() - start)}
    lines = [f"# Motif readers on which states ({args.model}, dev, {args.rows:,} train rows, {args.epochs} epochs)",
             "", __doc__.split("\n\n")[0].replace("\n", " "), "",
             "| benchmark | dev rows | head replaced | " + " | ".join(candidates) + " |",
             "|---|---|---|" + "---|" * len(candidates)]
    for bench, r in results.items():
        cells = [f"{r[c]['mcc']:.3f} ({r[c]['cpu_s']} CPU-s)" for c in candidates]
        lines.append(f"| {bench} | {r['rows']} | {r['replaced']:.3f} | " + " | ".join(cells) + " |")
    lines += ["", "MCC on the dev rows as asked; CPU-s: states, training and scoring of that candidate, one thread.",
              ""]
    write_results(args.out, {"model": args.model, "rows": args.rows, "epochs": args.epochs, "results": results},
                  "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
