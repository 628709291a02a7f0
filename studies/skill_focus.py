"""Can the phase-2 models learn ORF frame and reading comprehension when those rows dominate? (issue 15)

In the classification phase (3,000 CPU-s, `studies/results/kmer_phase.md`) neither skill moved: ORF frame stayed at
MCC 0.12-0.20, reading comprehension at 0.23-0.31 exact (the model writes plausible numbers instead of copying the
asked field). Each skill had a few percent of the rows. Here two phase-2 models continue for `--budget` CPU-seconds on
those two sources alone (plus the reading-comprehension crops), one thread each, side by side:

- `phased`: from the run with phased 3-mers (the codon phase of each 3-mer is an input: a stop codon of each reading
  frame is its own row of the k-mer table) and reading-comprehension crops;
- `plain`: from the run with plain 3..6-mers only.

If ORF frame rises in `phased` and not in `plain`, the codon phase is the missing input and the rows were too few;
if reading comprehension rises in both, copying a field is learnable and only needs its share of the mixture.

    python -m studies.skill_focus --budget 600     # -> studies/results/skill_focus.{md,json}

Needs the two phase-2 runs: `finetune/training/configs/genomicllm-classify-kmers{,-rc}.json` trained into
`build/train/genomicllm-classify-kmers{,-rc}` (init_from the first phase, `build/train/genomicllm`).
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from finetune.evaluation.evaluate import main_metric

from .runs import train_then_score
from .tables import write_results

OUT = Path("build/studies/skill_focus")
TABLE = Path("studies/results/skill_focus")
CONFIGS = Path("finetune/training/configs")
SOURCES = ["GenomicLLM_GRCh38/orf_frame", "GenomicLLM_GRCh38/reading_comprehension"]
CANDIDATES = {  # name -> (phase-2 config whose model it continues, its run folder)
    "phased": ("genomicllm-classify-kmers-rc.json", "build/train/genomicllm-classify-kmers-rc"),
    "plain": ("genomicllm-classify-kmers.json", "build/train/genomicllm-classify-kmers"),
}


def config(name: str, budget: float) -> dict:
    phase2_config, run = CANDIDATES[name]
    phase2 = json.loads((CONFIGS / phase2_config).read_text())
    keep = ("tokenizer", "model", "max_len", "microbatch_tokens", "min_lr_ratio", "weight_decay", "prompt_weight",
            "temperature")
    return {**{k: phase2[k] for k in keep}, "init_from": run, "only_sources": SOURCES,
            "crops": ["reading_comprehension"], "source_weights": {"crops/reading_comprehension": 1.0},
            "tokens_per_batch": 4096, "steps": 100_000, "cpu_budget_s": budget, "lr": 6e-4, "warmup_steps": 20,
            "checkpoint_every": 1000, "keep_checkpoints": 1, "seed": 2}


def run(name: str, budget: float, rows: int) -> dict:
    out = OUT / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config(name, budget), indent=1))
    train_then_score(out, rows, SOURCES)
    last = json.loads((out / "run/log.jsonl").read_text().splitlines()[-1])
    results = json.loads((out / "eval/results.json").read_text())
    return {"candidate": name, "from": CANDIDATES[name][1], "cpu_s": round(last["cpu_s"], 1), "steps": last["step"],
            "tokens": last["tokens"],
            "dev": {k: r["ours"][main_metric(r["task"], k)] for k, r in results.items()},
            "metric": {k: main_metric(r["task"], k) for k, r in results.items()}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=600.0, help="process CPU-seconds per candidate")
    p.add_argument("--rows", type=int, default=200, help="dev rows per benchmark")
    args = p.parse_args(argv)
    with ThreadPoolExecutor(2) as pool:
        rows = list(pool.map(lambda n: run(n, args.budget, args.rows), CANDIDATES))
    names = list(rows[0]["dev"])
    lines = ["| continues | CPU-s | steps | tokens | " + " | ".join(f"{n.split('/')[-1]} ({rows[0]['metric'][n]})"
                                                           for n in names) + " |", "|" + "---|" * (4 + len(names))]
    lines += [f"| {r['candidate']} ({r['from']}) | {r['cpu_s']:.0f} | {r['steps']} | {r['tokens']:,} | "
              + " | ".join(f"{r['dev'][n]:.3f}" for n in names) + " |" for r in rows]
    write_results(TABLE, rows,
                  f"ORF frame and reading comprehension alone (+ reading-comprehension crops), {args.budget:.0f} "
                  f"process CPU-seconds from each phase-2 model, one thread each, side by side; {args.rows} dev rows "
                  f"(`python -m studies.skill_focus --budget {args.budget:.0f}`). Before it: `kmer_phase.md`.\n\n"
                  + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
