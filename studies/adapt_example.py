"""The worked example of `genomicllm finetune` (issue 17): tasks the shipped model never trained on, a user's file only.

For each GUE set the *dev* split plays the user's labelled file (the command splits its own dev off it for early
stopping) and the *test* split is the held-out file. Each variant is the product command in a child process, so its
CPU-seconds (user + system, all threads) are measured from outside:

- zero-shot: the base model asked the new task's phrase, no training (`genomicllm score --adapter`-style scoring of
  the task from the LoRA folder, with the base weights);
- lora / full / head: `genomicllm finetune` with the same step cap, scored on test by the command itself;
- k-mer LR: the baseline the command fits on the same train split (its `results.json`).

One more row is a user-style file: the set written as a CSV with 0/1 labels and a phrase of the user's own.

    python -m studies.adapt_example --sets mouse_1 emp_H3 --user emp_H4 --max-steps 300  # -> build/studies/adapt/*.json
    python -m studies.adapt_example --table                                   # -> studies/results/adapt_example.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd

GUE = Path("build/datasets/GUE/data")
OUT = Path("build/studies/adapt")
RESULTS = Path("studies/results/adapt_example")
VARIANTS = {"lora": [], "full": ["--full"], "head": ["--head"]}
PHRASES = {  # what a user might type; the grammar asks `<sequence>, <phrase> =`
    "mouse_1": "does a mouse transcription factor bind here",
    "emp_H3": "is this DNA wrapped around H3 histones",
    "emp_H3K4me3": "does this region carry H3K4me3",
    "emp_H4": "is this DNA wrapped around H4 histones",
}
USER_PHRASE = "is this sequence occupied by a nucleosome"


def child_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd: list[str]) -> float:
    """Run one product command (one thread); its CPU-seconds."""
    before = child_cpu_s()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)
    return child_cpu_s() - before


def weights_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("*.safetensors")) / 1e6


def finetune(name: str, data: Path, test: Path, model: str, max_steps: int, extra: list[str],
             label_column: str = "label_name", phrase: str | None = None) -> dict:
    out = OUT / name
    cmd = [sys.executable, "-m", "genomicllm", "finetune", "--data", str(data), "--test", str(test),
           "--label-column", label_column, "--task-name", name.replace("-", "_").lower(), "--phrase", phrase or name,
           "--out", str(out), "--model", model, "--max-steps", str(max_steps), "--overwrite", "--quiet", *extra]
    done = out / "study_cpu.json"  # a finished variant is reused (the study resumes where it stopped)
    if (out / "training" / "results.json").is_file() and done.is_file():
        cpu = json.loads(done.read_text())["cpu_s"]
    else:
        cpu = run(cmd)
        done.write_text(json.dumps({"cpu_s": cpu, "command": cmd}))
    res = json.loads((out / "training" / "results.json").read_text())
    return {"ours": res["ours"], "kmer_lr": res["baselines"]["kmer_lr"], "majority": res["baselines"]["majority"],
            "cpu_min": cpu / 60, "weights_mb": weights_mb(out), "folder": str(out)}


def zero_shot(lora_folder: Path, test: Path, model: str, label_column: str = "label_name") -> dict:
    """The base model, untouched, asked the task's phrase: what a user gets before fine-tuning."""
    code = ("import json,sys; from pathlib import Path; from modeling.inference import load; "
            "from tasks.custom import read_task_file; from finetune.adapt.evaluate_adapter import score_file; "
            f"task, meta = read_task_file(Path({str(lora_folder)!r})); tok, m = load({model!r}); "
            "meta = {**meta, 'objective': 'lm'}; "
            f"print(json.dumps(score_file(tok, m, task, meta, Path({str(test)!r}), label_column={label_column!r})))")
    before = child_cpu_s()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True).stdout
    return {"ours": json.loads(out.strip().splitlines()[-1]), "cpu_min": (child_cpu_s() - before) / 60,
            "weights_mb": 0.0}


def user_style_file(name: str, gue: Path = GUE) -> tuple[Path, Path]:
    """The set as a user would have it: CSV, `sequence,label` with 0/1 labels (no label names)."""
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for split in ("dev", "test"):
        df = pd.read_parquet(gue / name / f"{split}.parquet")[["sequence", "label"]]
        path = OUT / f"{name}-user-{split}.csv"
        df.to_csv(path, index=False)
        paths.append(path)
    return paths[0], paths[1]


def study(name: str, model: str, max_steps: int, gue: Path = GUE,
          variants: tuple[str, ...] = tuple(VARIANTS)) -> dict:
    data, test = gue / name / "dev.parquet", gue / name / "test.parquet"
    rows = {}
    for variant, extra in ((v, VARIANTS[v]) for v in variants):
        rows[variant] = finetune(f"{name}-{variant}", data, test, model, max_steps, extra, phrase=PHRASES.get(name))
    rows["zero-shot"] = zero_shot(Path(rows["lora"]["folder"]), test, model)
    rows["kmer-lr"] = {"ours": rows["lora"]["kmer_lr"], "cpu_min": None, "weights_mb": None}
    return save(name, model, max_steps, data, test, rows)


def user_study(name: str, model: str, max_steps: int, gue: Path = GUE) -> dict:
    """A LoRA from the 0/1-label CSV with the user's own phrase, beside the same file's zero-shot answer."""
    dev_csv, test_csv = user_style_file(name, gue)
    rows = {"user-csv-lora": finetune(f"{name}-user", dev_csv, test_csv, model, max_steps, [], label_column="label",
                                      phrase=USER_PHRASE)}
    rows["user-csv-zero-shot"] = zero_shot(Path(rows["user-csv-lora"]["folder"]), test_csv, model, "label")
    rows["kmer-lr"] = {"ours": rows["user-csv-lora"]["kmer_lr"], "cpu_min": None, "weights_mb": None}
    return save(f"{name}-user", model, max_steps, dev_csv, test_csv, rows)


def save(name: str, model: str, max_steps: int, data: Path, test: Path, rows: dict) -> dict:
    read = pd.read_parquet if data.suffix == ".parquet" else pd.read_csv
    result = {"set": name, "model": model, "max_steps": max_steps, "user_file": str(data),
              "user_rows": len(read(data)), "test_rows": len(read(test)), "rows": rows}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=1))
    return result


def table(paths: list[Path]) -> str:
    lines = ["| set (user rows → test rows, step cap) | variant | test MCC | accuracy | macro F1 | unparseable | "
             "CPU-min | weights MB |", "|---|---|---|---|---|---|---|---|"]
    for path in paths:
        r = json.loads(path.read_text())
        for variant, row in r["rows"].items():
            m = row["ours"]
            cpu = "—" if row["cpu_min"] is None else f"{row['cpu_min']:.1f}"
            size = "—" if row["weights_mb"] is None else f"{row['weights_mb']:.2f}"
            lines.append(f"| {r['set']} ({r['user_rows']:,} → {r['test_rows']:,}, {r['max_steps']}) | {variant} | "
                         f"{m['mcc']:.3f} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | "
                         f"{m.get('unparseable_rate', 0.0):.3f} | {cpu} | {size} |")
    model = json.loads(paths[0].read_text())["model"] if paths else "?"
    head = (f"Base: `{model}`; each variant at most the set's step cap (steps of 2,048 tokens), one thread, "
            "early-stopped on a dev split cut from the user's file; CPU-min = the child process's "
            "user + system time (training, dev checks, test scoring and the k-mer LR fit). Unparseable = wrong.\n\n"
            if paths else "")
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", nargs="*", default=[], help="GUE sets to run (e.g. mouse_1 emp_H3)")
    p.add_argument("--model", default="release/GenomicLLM")
    p.add_argument("--max-steps", type=int, default=300)
    p.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--gue", type=Path, default=GUE, help="the built GUE parquet folder")
    p.add_argument("--user", help="a GUE set to write as a 0/1-label CSV and fine-tune with a user's phrase")
    p.add_argument("--table", action="store_true", help="render every build/studies/adapt/*.json to the results table")
    args = p.parse_args(argv)
    for name in args.sets:
        study(name, args.model, args.max_steps, args.gue, tuple(args.variants))
    if args.user:
        user_study(args.user, args.model, args.max_steps, args.gue)
    if args.table:
        md = table(sorted(p for p in OUT.glob("*.json")))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.with_suffix(".md").write_text(md)
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
