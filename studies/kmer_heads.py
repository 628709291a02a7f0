"""A head reading the k-mer profile beside the states (early fusion): does it pass k-mer LR where the heads lose?

`studies.kmer_fusion` mixed a states head's and a k-mer LR's log-probabilities (late fusion): +0.002 mean dev MCC over
k-mer LR. Here one head reads both (`heads_genomicllm`'s `"kmers:<lo>-<hi>"` feature: the DNA run's 3- to 6-mer
counts, L2-normalised, what k-mer LR reads, computed by the model from the question's ids): the same class-balanced
logistic regression on standardised features as every head (`label_heads.fit_head`), fitted on the same train rows
with and without the profile. Per benchmark (the ones where the shipped head loses to k-mer LR on test):
- **shipped**: the head in the model folder, as it is;
- **states**: the same features refitted on `--rows` train rows (what `label_heads` would write);
- **states + k-mers**: those features and the profile, the same rows: standardised like the states (`std`), or
  unscaled as k-mer LR reads them (`x1`), or unscaled times 10 (`x10`: a weaker penalty; what `label_heads` fits);
- **k-mer LR**: the baseline (`dataset_scripts.audit.kmer_lr`) on the same rows;
scored on dev (400 rows: the dev split, or GenomicBenchmarks' train rows held out) and on up to `--test-rows` test
rows (the baselines' split). A head with a motif reader (`conv:`) keeps its reader frozen here: its linear map is
refitted on rows the reader may have been trained on, so its "states" column is optimistic.

One thread; the cost is one forward pass per row (both strands where the task is strand-symmetric; with and without
fields where rows have them):

    python -m studies.kmer_heads --only promoter:GenomicBenchmarks/human_nontata_promoters --rows 10000
        # -> studies/results/kmer_heads.{md,json}; each invocation adds its benchmarks' rows
    python -m studies.kmer_heads --only orf_frame:GenomicLLM_GRCh38/orf_frame --profile phased:3
        # codon usage per frame beside the ORF frame head's states
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dataset_scripts.audit import kmer_lr
from finetune.training.label_heads import (PROFILE_SCALE, _columns, _of_task, _sample, benchmark_rows, fit_head,
                                           fit_states, head_features, profile_columns, task_benchmarks, with_letters)
from modeling.heads_genomicllm import feature_width
from modeling.inference import load
from modeling.scores import head, head_probabilities, task_states
from tasks.metrics import classification
from tasks.paths import SHIPPED_MODEL
from tasks.registry import get_task

from .tables import write_results

TABLE = Path("studies/results/kmer_heads")
PROFILE = "kmers:3-6"  # the k-mer LR baseline's sizes
DEV_ROWS = 400
GAINS = (1, 10)
COLUMNS = ("shipped", "states", "states_kmers_std", *(f"states_kmers_x{g}" for g in GAINS), "kmer_lr")


def mcc(labels: tuple[str, ...], gold: list[str], probs: np.ndarray) -> float:
    return classification(gold, [labels[i] for i in probs.argmax(1)])["mcc"]


def measure(model, tok, task_name: str, bench_name: str, rows: int, test_rows: int, profile: str = PROFILE) -> dict:
    task = get_task(task_name)
    bench = next((b for b in task_benchmarks(task_name) if b.name == bench_name), None)
    if bench is None:
        raise SystemExit(f"{task_name}:{bench_name}: no such benchmark with a train split")
    shipped = head(model, task_name, bench_name)
    reads = list(shipped["features"] if shipped else head_features(model, task))
    both = reads + [profile]
    fit, dev = benchmark_rows(bench, task_name, rows, select_rows=DEV_ROWS)
    test = _sample(_of_task(bench.load("test"), task_name), test_rows, 0)
    start = time.process_time()
    x, answers = fit_states(model, tok, task, fit, both)
    width = x.shape[1] - feature_width(model.config, profile)  # the profile is read last
    as_is = profile_columns(model.config, both)
    heads = {"states": {**fit_head(x[:, :width], answers, task.labels), "features": reads},
             "states_kmers_std": {**fit_head(x, answers, task.labels), "features": both}}
    for gain in GAINS:  # the profile as k-mer LR reads it, times `gain` (a weaker penalty on it)
        scaled = x * np.where(as_is, gain * PROFILE_SCALE, 1.0)  # fit_head divides the profile by PROFILE_SCALE
        h = fit_head(scaled, answers, task.labels, as_is)
        h["weight"] = (np.asarray(h["weight"]) * np.where(as_is, gain * PROFILE_SCALE, 1.0)).tolist()  # folded in
        heads[f"states_kmers_x{gain}"] = {**h, "features": both}
    lr = kmer_lr(fit["sequence"].tolist(), fit["answer"].tolist())
    out = {"benchmark": bench_name, "task": task_name, "fit_rows": len(fit), "questions": len(answers),
           "features": reads, "profile": profile}
    for split, df in (("dev", dev), ("test", test)):
        s = task_states(model, tok, task, *_columns(df)[:2], both)
        gold = df["answer"].tolist()
        probs = {k: head_probabilities(h, s if k.startswith("states_kmers") else s[:, :width])
                 for k, h in heads.items()}
        if shipped:
            probs["shipped"] = head_probabilities(shipped, s[:, :width])
        classes = list(lr.classes_)
        probs["kmer_lr"] = lr.predict_proba(df["sequence"].tolist())[:, [classes.index(a) for a in task.labels]]
        out[split] = {k: round(mcc(task.labels, gold, p), 4) for k, p in probs.items()}
        out[f"{split}_rows"] = len(df)
    out["cpu_s"] = round(time.process_time() - start)
    return out


def markdown(rows: list[dict]) -> str:
    cells = " | ".join(f"dev {c} | test {c}" for c in COLUMNS)
    head_ = (f"| benchmark | profile | fit rows | {cells} | CPU-s |\n|---|---|---|" + "---|" * (2 * len(COLUMNS) + 1)
             + "\n")

    def cell(r, split, c):
        v = r[split].get(c)
        return "–" if v is None else f"{v:.3f}"

    body = "".join(f"| {r['benchmark']} | {r.get('profile', PROFILE)} | {r['fit_rows']:,} | "
                   + " | ".join(f"{cell(r, 'dev', c)} | {cell(r, 'test', c)}" for c in COLUMNS)
                   + f" | {r['cpu_s']:,} |\n" for r in rows)
    return ("MCC per benchmark (`python -m studies.kmer_heads --only TASK:BENCHMARK ... --rows N`; dev: 400 dev rows "
            "or held-out train rows; test: up to 1,000 test rows; shipped: the head in the model folder; states: its "
            "features refitted on the fit rows; states_kmers: with the run's k-mer profile beside them (3- to 6-mers; "
            "phased: counted per codon phase), "
            "standardised (std), as k-mer LR reads it (x1) or that times 10 (x10, what label_heads fits); k-mer LR on "
            "the same rows; –: not run).\n\n"
            f"{head_}{body}")


def main(argv: list[str] | None = None) -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(SHIPPED_MODEL))
    p.add_argument("--rows", type=int, default=10000, help="train rows the heads and the k-mer LR fit on")
    p.add_argument("--test-rows", type=int, default=1000)
    p.add_argument("--only", nargs="+", required=True, metavar="TASK:BENCHMARK")
    p.add_argument("--profile", default=PROFILE, help="the profile read beside the states: kmers:<lo>-<hi> (what "
                   "k-mer LR reads, the default) or phased:<lo>-<hi> (per codon phase)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    tok, model = load(args.model)
    with_letters(model.config, tok)
    rows = []
    for name in args.only:
        task_name, _, bench_name = name.partition(":")
        rows.append(measure(model, tok, task_name, bench_name, args.rows, args.test_rows, args.profile))
        print(rows[-1], flush=True)
    path = TABLE.with_suffix(".json")
    earlier = json.loads(path.read_text()) if path.is_file() else []
    done = {(r["benchmark"], r["profile"]) for r in rows}
    rows = [r for r in earlier if (r["benchmark"], r.get("profile", PROFILE)) not in done] + rows
    write_results(TABLE, rows, markdown(rows))


if __name__ == "__main__":
    main()
