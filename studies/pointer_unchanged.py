"""Does adding pointer heads change any answer but reading comprehension? The test split's prompts of every benchmark
through two released models (before and after the pointer phase, `finetune/training/pointer_heads.py`), compared
logit for logit at every prompt position, the one the answer starts from included.

The pointer heads write only where a question asks for a field of its prompt; the phase trains nothing else. So
every prompt that asks no field must give bit-identical logits, and then every result of the earlier evaluation
(generation, label heads, value heads: all read these states) holds for the new model unchanged. Counted per
benchmark: prompts compared, prompts where a field is asked, and the largest absolute logit difference on the others.

    python -m studies.pointer_unchanged --before build/train/genomicllm-classify/release --after release/GenomicLLM \
        --rows 20 --out studies/results/pointer_unchanged
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from modeling.inference import load
from tasks.benchmarks import discover
from tasks.paths import DATASETS_DIR

from .tables import write_results


@torch.no_grad()
def compare(before: Path, after: Path, root: Path, rows: int, seed: int = 0) -> list[dict]:
    tok, old = load(before)
    _, new = load(after)
    out = []
    for b in discover(root, ("classify", "regress", "generate", "extract")):
        if "test" not in b.splits:
            continue
        df = b.load("test", root, ["prompt"])
        df = df.sample(n=min(rows, len(df)), random_state=seed)
        asked, diffs = 0, []
        for prompt in df["prompt"]:
            ids = tok(prompt, return_tensors="pt")["input_ids"]
            _, fields = new.model.position_streams(ids, torch.ones_like(ids, dtype=torch.bool))
            if fields[0].any():
                asked += 1
                continue
            diffs.append(float((old(ids).logits - new(ids).logits).abs().max()))
        out.append({"benchmark": b.name, "prompts": len(df), "asked": asked,
                    "max_abs_logit_diff": max(diffs) if diffs else None})
        print(out[-1], flush=True)
    return out


def markdown(rows: list[dict], before: Path, after: Path) -> str:
    lines = [f"Logits of the test prompts, `{before}` vs `{after}` (pointer heads added), every position. "
             "Prompts that ask a field are counted, not compared (the pointer heads write there).", "",
             "| benchmark | prompts | a field asked | max abs logit difference on the others |", "|---|---|---|---|"]
    fmt = lambda x: "–" if x is None else f"{x:.3g}"  # noqa: E731
    lines += [f"| {r['benchmark']} | {r['prompts']} | {r['asked']} | {fmt(r['max_abs_logit_diff'])} |" for r in rows]
    other = [r["max_abs_logit_diff"] for r in rows if r["max_abs_logit_diff"] is not None]
    lines += ["", f"{sum(r['prompts'] - r['asked'] for r in rows)} prompts that ask no field; largest difference "
              f"{max(other):.3g}" if other else "no prompt without a field question"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", type=Path, required=True)
    p.add_argument("--after", type=Path, required=True)
    p.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    p.add_argument("--rows", type=int, default=20, help="test prompts per benchmark")
    p.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    args = p.parse_args(argv)
    rows = compare(args.before, args.after, args.datasets, args.rows)
    write_results(args.out, rows, markdown(rows, args.before, args.after))


if __name__ == "__main__":
    main()
