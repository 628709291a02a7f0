"""`make samples`: the shipped model answers one held-out test question of every task, through `modeling.inference`.

For every benchmark of the built datasets (one row per task of the multi-task corpus configs), the first test row's
sequence (and fields / question, for the corpus) is asked the way a user would ask it; the question, the gold answer,
the model's answer and whether they agree are printed, then how many agreed. A sample, not an evaluation: `make eval`
scores every test row. (`make demo` serves the app, space/app.py.)

    python -m space.demo [--model release/GenomicLLM] [--datasets build/datasets]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from modeling.inference import ask, load
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.grammar import parse_answer
from tasks.paths import SHIPPED_MODEL
from tasks.registry import KINDS

from .core import shorten


def sample_rows(root: Path, split: str = "test") -> list[tuple[str, dict]]:
    """(benchmark name, first row of `split`) per benchmark, one per task for multi-task configs."""
    out = []
    for b in discover(root, KINDS):
        if split not in b.splits:
            continue
        df = b.load(split, root)
        by_task = df.groupby("task", sort=True) if "task" in df else [(b.task, df)]
        for task, rows in by_task:
            row = rows.iloc[0].to_dict()
            row.setdefault("task", task)
            out.append((b.name if "task" not in df or df["task"].nunique() == 1 else f"{b.name}:{task}", row))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    p.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    p.add_argument("--split", default="test")
    args = p.parse_args(argv)
    if not (args.model / "config.json").is_file():
        raise SystemExit(f"{args.model}: no model there (the repository ships release/GenomicLLM; `make train` "
                         "rebuilds it)")
    tok, model = load(args.model)
    summary = json.loads((args.model / "training_summary.json").read_text()) if (
        args.model / "training_summary.json").is_file() else {}
    print(f"GenomicLLM from {args.model}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters, "
          f"trained {summary.get('steps', '?')} steps on {summary.get('trained_on', '?')}\n")
    right = 0
    rows = sample_rows(args.datasets, args.split)
    if not rows:
        raise SystemExit(f"no {args.split} rows under {args.datasets}: run `make datasets`")
    start = time.perf_counter()
    for name, row in rows:
        fields = json.loads(row["fields"]) if isinstance(row.get("fields"), str) else None
        question = row.get("question") if isinstance(row.get("question"), str) else None
        a = ask(tok, model, row["task"], row["sequence"], fields, question)
        ok = a.ok and a.value == parse_answer(row["task"], row["answer"])
        right += ok
        print(f"[{name}]  {'RIGHT' if ok else 'wrong'}\n  Q: {shorten(a.prompt, 110)}\n  gold:  {shorten(str(row['answer']), 110)}"
              f"\n  model: {shorten(a.text, 110) if a.ok else repr(a.text) + ' (unparseable: ' + a.value.reason + ')'}\n")
    print(f"{right}/{len(rows)} sample answers agree with the gold answer ({time.perf_counter() - start:.1f} s). "
          "Every test row: `make eval` (build/eval/results.md).")


if __name__ == "__main__":
    main()
