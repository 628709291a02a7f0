"""The model levers at equal compute: tokens, position streams, short convolution, prompt loss weight (issue 15).

Every candidate is the product trainer (`finetune.training.train`) on the same mixture, stopped at the same number of
process CPU-seconds (`cpu_budget_s`, one thread each, the lr schedule running on CPU time), then its release folder is
scored on dev by the product evaluation (`finetune.evaluation.evaluate`: greedy generation, the grammar's parser,
unparseable answers wrong). Two candidates train side by side (one core each); say what else ran when quoting.

    python -m studies.levers --budget 900 --rows 48            # all candidates -> studies/results/levers.{md,json}
    python -m studies.levers --budget 900 --only char-streams-conv

Mixture: the GenomicLLM_GRCh38 train splits (every generation/regression task and four classifiers) plus two GUE
classifiers, with the exact tasks up-weighted as the shipped run does (a short run must see their answers).
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from finetune.evaluation.evaluate import main_metric

from .runs import train_then_score

OUT = Path("build/studies/levers")
TOKENIZERS = Path("build/studies/tokenizers")  # each candidate's tokenizer, built as `make tokenizer` builds one
TABLE = Path("studies/results/levers")

SOURCES = [f"GenomicLLM_GRCh38/{c}" for c in ("gc_content", "gene_biotype", "nt2aa", "orf_frame",
                                                "reading_comprehension", "reverse_complement", "sequence_direction",
                                                "splice_site")] + ["GUE/tf_0", "GUE/prom_300_all"]
SOURCE_WEIGHTS = {"GenomicLLM_GRCh38/reverse_complement": 4.0, "GenomicLLM_GRCh38/nt2aa": 3.0,
                  "GenomicLLM_GRCh38/gc_content": 2.0}
CROP_WEIGHTS = {"reverse": 1.2, "complement": 1.2, "reverse_complement": 1.2, "nt2aa": 1.5, "gc_content": 1.0}
DEV = SOURCES  # scored on their dev / validation splits

SHAPE = {"hidden_size": 256, "intermediate_size": 688, "num_layers": 4}
STREAMS8 = ["token", "token", "run_start", "run_start", "run_end", "run_end", "codon", "codon"]
BASE = {"max_len": 1024, "tokens_per_batch": 2048, "microbatch_tokens": 2048, "steps": 100_000, "lr": 1.5e-3,
        "min_lr_ratio": 0.05, "warmup_steps": 60, "prompt_weight": 0.2, "temperature": 0.5,
        "only_sources": SOURCES, "source_weights": SOURCE_WEIGHTS, "checkpoint_every": 100, "keep_checkpoints": 1}

CANDIDATES: dict[str, dict] = {
    # today's shipped design: 6-mers, plain RoPE
    "kmer6-plain": {"tokenizer": "kmer6", "model": {**SHAPE, "num_attention_heads": 4}},
    "char-plain": {"tokenizer": "char", "model": {**SHAPE, "num_attention_heads": 8}},
    "char-conv": {"tokenizer": "char",
                  "model": {**SHAPE, "num_attention_heads": 8, "conv_kernel_size": 4}},
    "char-streams": {"tokenizer": "char",
                     "model": {**SHAPE, "num_attention_heads": 8, "position_streams": STREAMS8}},
    "char-streams-conv": {"tokenizer": "char",
                          "model": {**SHAPE, "num_attention_heads": 8, "position_streams": STREAMS8,
                                    "conv_kernel_size": 4}},
    # half of the exact tasks' share as crops of their train sequences, with the length curriculum (same total share)
    "char-streams-conv-crops": {"tokenizer": "char", "crops": list(CROP_WEIGHTS), "source_weights": {
        "GenomicLLM_GRCh38/reverse_complement": 2.0, "GenomicLLM_GRCh38/nt2aa": 1.5,
        "GenomicLLM_GRCh38/gc_content": 1.0, **{f"crops/{t}": w for t, w in CROP_WEIGHTS.items()}},
                                "model": {**SHAPE, "num_attention_heads": 8, "position_streams": STREAMS8,
                                          "conv_kernel_size": 4}},
    # per-base prompts are ~6x longer than 6-mer ones: 0.2 per base puts ~97% of a 400-nt classification row's loss
    # on predicting genome bases; 0.05 per base is about what 0.2 per 6-mer gave
    "char-streams-conv-pw0.05": {"tokenizer": "char", "prompt_weight": 0.05,
                              "model": {**SHAPE, "num_attention_heads": 8, "position_streams": STREAMS8,
                                        "conv_kernel_size": 4}},
}


def tokenizer_dir(name: str) -> str:
    """The tokenizer candidate `name` (tokenizer.candidates), built once from the datasets' train splits."""
    from tokenizer.build import build

    folder = TOKENIZERS / name
    if not (folder / "tokenizer.json").is_file():
        build(name, out=folder)
    return str(folder)


def run_candidate(name: str, budget: float, rows: int) -> dict:
    """Train (resumable) then score one candidate in child processes pinned to one thread."""
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    config = {**BASE, **CANDIDATES[name], "cpu_budget_s": budget}
    config["tokenizer"] = tokenizer_dir(config["tokenizer"])
    (out / "config.json").write_text(json.dumps(config, indent=1))
    if scored(out, rows, budget):  # trained to this budget and scored on as many rows already: reuse
        return summary(name, out)
    train_then_score(out, rows, DEV)
    (out / "eval" / "rows.json").write_text(json.dumps({"rows": rows, "budget": budget}))
    return summary(name, out)


def scored(out: Path, rows: int, budget: float) -> bool:
    done = out / "eval" / "rows.json"
    return done.is_file() and json.loads(done.read_text()) == {"rows": rows, "budget": budget}


def summary(name: str, out: Path) -> dict:
    last = json.loads((out / "run/log.jsonl").read_text().splitlines()[-1])
    results = json.loads((out / "eval/results.json").read_text())
    return {"candidate": name, "cpu_s": round(last["cpu_s"], 1), "steps": last["step"], "tokens": last["tokens"],
            "final_loss": round(last["loss"], 4), "dev": {k: v["ours"] for k, v in results.items()},
            "headline": {k: main_metric(v["task"], k) for k, v in results.items()}}  # as `make eval` picks it


def markdown(rows: list[dict], budget: float, dev_rows: int) -> str:
    names = sorted({k for r in rows for k in r["dev"]})
    short = [n.split("/")[-1] for n in names]
    head = "| candidate | CPU-s | steps | tokens | loss | " + " | ".join(short) + " |"
    lines = [head, "|" + "---|" * (5 + len(names))]
    for r in rows:
        cells = []
        for n in names:
            m, metric = r["dev"].get(n, {}), r["headline"].get(n)
            cell = f"{m[metric]:.3f} {metric}" if metric in m else "–"
            if "identity" in m:  # copies and translations: how much of each answer is right, not only whole ones
                cell += f" ({m['identity']:.3f} identity)"
            cells.append(cell)
        lines.append(f"| {r['candidate']} | {r['cpu_s']:.0f} | {r['steps']} | {r['tokens']:,} | {r['final_loss']:.3f} | "
                     + " | ".join(cells) + " |")
    return (f"Dev metrics at {budget:.0f} process CPU-seconds per candidate (one thread each, two side by side; "
            f"{dev_rows} dev rows per task; unparseable answers count as wrong).\n\n"
            + "\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=900.0, help="process CPU-seconds of training per candidate")
    p.add_argument("--rows", type=int, default=48, help="dev rows per task")
    p.add_argument("--only", nargs="*", choices=list(CANDIDATES))
    p.add_argument("--parallel", type=int, default=2)
    args = p.parse_args(argv)
    names = args.only or list(CANDIDATES)
    for tok in {CANDIDATES[n]["tokenizer"] for n in names}:  # before the parallel runs: no two builds at once
        tokenizer_dir(tok)
    with ThreadPoolExecutor(args.parallel) as pool:
        rows = list(pool.map(lambda n: run_candidate(n, args.budget, args.rows), names))
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(TABLE.with_suffix(".json").read_text()) if TABLE.with_suffix(".json").is_file() else []
    merged = {r["candidate"]: r for r in old + rows}
    ordered = [merged[n] for n in CANDIDATES if n in merged]
    TABLE.with_suffix(".json").write_text(json.dumps(ordered, indent=1))
    TABLE.with_suffix(".md").write_text(markdown(ordered, args.budget, args.rows))
    print(TABLE.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
