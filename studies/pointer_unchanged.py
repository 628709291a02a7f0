"""Does adding pointer heads change any answer but reading comprehension? The test split's prompts of every benchmark
through two released models (before and after the pointer phase, `finetune/training/pointer_heads.py`), compared
state for state (every layer) and logit for logit at every position of the question and its gold answer.

The pointer heads write only where a question asks for a field of its prompt; the phase trains nothing else. So
every prompt that asks no field must give bit-identical states, and then every label and value head fitted on them
reads the same. The aligned copy (`aligned_gate`) writes only inside an answer, after bases that one alignment alone
explains: the positions where it may write are counted apart (a reverse, a complement: most of the answer; an answer
with no bases: none), and every other logit must be bit-identical too. Counted per benchmark: prompts compared, prompts where a field is asked, the largest absolute
state difference and logit difference on the others, and their positions where the aligned copy writes.

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
        df = b.load("test", root, ["prompt", "answer"])
        df = df.sample(n=min(rows, len(df)), random_state=seed)
        asked, aligned, states, diffs = 0, 0, [], []
        for prompt, answer in zip(df["prompt"], df["answer"]):
            ids = tok(prompt, " " + answer, return_tensors="pt")["input_ids"]  # the question and its gold answer
            real = torch.ones_like(ids, dtype=torch.bool)
            _, fields = new.model.position_streams(ids, real)
            if fields[0].any():
                asked += 1
                continue
            a, b_ = old(ids, output_hidden_states=True), new(ids, output_hidden_states=True)
            states.append(max(float((x - y).abs().max()) for x, y in zip(a.hidden_states, b_.hidden_states)))
            copied = (new.model.position_streams.aligned_writes(ids, real)[0] >= 0).any(0) \
                if new.config.aligned_copy else torch.zeros(ids.shape[1], dtype=torch.bool)
            aligned += int(copied.sum())
            diffs.append(float((a.logits - b_.logits)[0, ~copied].abs().max()))
        out.append({"benchmark": b.name, "prompts": len(df), "asked": asked, "aligned_positions": aligned,
                    "max_abs_state_diff": max(states) if states else None,
                    "max_abs_logit_diff": max(diffs) if diffs else None})
        print(out[-1], flush=True)
    return out


def markdown(rows: list[dict], before: Path, after: Path) -> str:
    lines = [f"States (every layer) and logits of the test questions with their gold answers, `{before}` vs `{after}`, "
             "every position. Prompts that ask a field are counted, not compared (the pointer heads write there); logits "
             "where the aligned copy may write are counted, not compared.", "",
             "| benchmark | prompts | a field asked | max abs state difference on the others | aligned positions | "
             "max abs logit difference elsewhere |", "|---|---|---|---|---|---|"]
    fmt = lambda x: "–" if x is None else f"{x:.3g}"  # noqa: E731
    lines += [f"| {r['benchmark']} | {r['prompts']} | {r['asked']} | {fmt(r.get('max_abs_state_diff'))} | "
              f"{r.get('aligned_positions', 0)} | {fmt(r['max_abs_logit_diff'])} |" for r in rows]
    other = [r["max_abs_logit_diff"] for r in rows if r["max_abs_logit_diff"] is not None]
    states = [r["max_abs_state_diff"] for r in rows if r.get("max_abs_state_diff") is not None]
    lines += ["", f"{sum(r['prompts'] - r['asked'] for r in rows)} prompts that ask no field; largest state difference "
              f"{max(states):.3g}, largest logit difference off the aligned positions {max(other):.3g}" if other
              else "no prompt without a field question"]
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
