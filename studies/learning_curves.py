"""Learning curves of a training run: dev metrics of the exact tasks at each kept checkpoint, against training tokens.

Each checkpoint (`<run>/checkpoints/step-N`, kept by `keep_checkpoints`) is loaded into the run's model, scored on
dev by the product evaluation (greedy answers, unparseable = wrong), and placed at the tokens the log says the run
had seen by then. Writes `<out>.json`, `<out>.md` and `<out>.png` (exact match / MAE vs tokens, one line per task),
so the tokens a task needs for 0.99 can be read off, or extrapolated where the run stops short.

    python -m studies.learning_curves --run build/train/genomicllm --rows 64 --out studies/results/learning_curves
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from finetune.evaluation.evaluate import evaluate_all, main_metric
from finetune.loop import checkpoints
from finetune.training.train import TrainConfig, initial_model

EXACT = ["GenomicLLM_GRCh38/reverse_complement", "GenomicLLM_GRCh38/nt2aa", "GenomicLLM_GRCh38/gc_content",
         "GenomicLLM_GRCh38/reading_comprehension", "GenomicLLM_GRCh38/orf_frame",
         "GenomicLLM_GRCh38/sequence_direction"]


def curve(run: Path, rows: int, only: list[str], every: int = 1) -> list[dict]:
    from transformers import AutoTokenizer

    cfg = TrainConfig.load(run / "train_config.json", {})
    tok = AutoTokenizer.from_pretrained(cfg.tokenizer)
    log = {r["step"]: r for r in map(json.loads, (run / "log.jsonl").read_text().splitlines())}
    points = []
    for ckpt in checkpoints(run)[::every]:
        step = int(ckpt.name.removeprefix("step-"))
        model = initial_model(cfg, tok)
        missing, unexpected = model.load_state_dict(load_file(ckpt / "model.safetensors"), strict=False)
        if unexpected or set(missing) - {"lm_head.weight"}:  # only the tied head may be absent from the file
            raise ValueError(f"{ckpt}: not this run's model (missing {missing}, unexpected {unexpected})")
        model.tie_weights()
        with torch.no_grad():
            results = evaluate_all(None, run / "curve_eval", max_rows=rows, only=only, split="dev",
                                   loaded=(tok, model.eval()))
        scored = {k: v for k, v in results.items() if "ours" in v}
        points.append({"step": step, "tokens": log[step]["tokens"], "cpu_s": log[step]["cpu_s"],
                       "dev": {k: v["ours"] for k, v in scored.items()},
                       "headline": {k: main_metric(v["task"], k) for k, v in scored.items()}})  # as `make eval`
        print(f"step {step}: " + ", ".join(f"{k.split('/')[-1]} {metric_of(points[-1], k):.3f}" for k in scored),
              flush=True)
    return points


def metric_of(point: dict, name: str) -> float:
    """A checkpoint's headline metric of one benchmark."""
    return point["dev"][name][point["headline"][name]]


def write(points: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(points, indent=1))
    names = sorted({k for p in points for k in p["dev"]})
    lines = ["| step | tokens | CPU-s | " + " | ".join(n.split("/")[-1] for n in names) + " |",
             "|" + "---|" * (3 + len(names))]
    for p in points:
        cells = [f"{metric_of(p, n):.3f}" if n in p["dev"] else "–" for n in names]
        lines.append(f"| {p['step']} | {p['tokens']:,} | {p['cpu_s']:.0f} | " + " | ".join(cells) + " |")
    headline = {n: p["headline"][n] for p in points for n in p["dev"]}
    heads = ", ".join(f"{n.split('/')[-1]}: {headline[n]}" for n in names)
    out.with_suffix(".md").write_text(f"Dev metrics per checkpoint ({heads}).\n\n" + "\n".join(lines) + "\n")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    for n in names:
        xs = [p["tokens"] for p in points if n in p["dev"]]
        ys = [metric_of(p, n) for p in points if n in p["dev"]]
        (bx if n.endswith("gc_content") else ax).plot(xs, ys, marker="o", label=n.split("/")[-1])
    ax.set_xlabel("training tokens")
    ax.set_ylabel("dev exact match / MCC")
    ax.axhline(0.99, color="grey", lw=0.5, ls="--")
    ax.legend(fontsize=7)
    bx.set_xlabel("training tokens")
    bx.set_ylabel("GC content dev MAE")
    bx.axhline(0.002, color="grey", lw=0.5, ls="--")
    bx.set_yscale("log")
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, default=Path("build/train/genomicllm"))
    p.add_argument("--rows", type=int, default=64, help="dev rows per task")
    p.add_argument("--every", type=int, default=1, help="score every n-th kept checkpoint")
    p.add_argument("--only", nargs="*", default=EXACT)
    p.add_argument("--out", type=Path, default=Path("studies/results/learning_curves"))
    args = p.parse_args(argv)
    write(curve(args.run, args.rows, args.only, args.every), args.out)
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
