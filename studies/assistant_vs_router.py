"""Which answers the Chat tab's questions better: the assistant's first tool call or the keyword router?

Scores the keyword router (`tasks.router.route`, the Chat tab's fallback) on the very single-turn questions an
assistant evaluation asked (`assistant_eval --out DIR`: same split, per-task count, seed and phrasing set), against
that evaluation's routing score (first call = the expected tool and task), per dataset task. The router knows only
the dataset tasks, so the tool-only tasks (length, ORFs, gene look-ups…) and reading comprehension are left out.

    python -m studies.assistant_vs_router --eval build/assistant-described/eval --per-task 50 \
        --out studies/results/assistant_vs_router
    python -m studies.assistant_vs_router --eval build/assistant-described/eval-fresh --per-task 20 --fresh \
        --out studies/results/assistant_vs_router_fresh
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finetune.chat import assistant_data, assistant_eval, chat_data
from tasks.router import route

from .tables import write_results


def compare(eval_dir: Path, per_task: int, fresh: str | None, datasets: Path, seed: int = 0) -> list[dict]:
    convs = assistant_eval.conversations("test", per_task, seed, datasets, fresh=fresh)
    rows = assistant_eval.shard_rows(sorted(eval_dir.glob("shard-*")))
    if [r["index"] for r in rows] != list(range(len(convs))):
        raise ValueError(f"{eval_dir} was not evaluated on these conversations (per-task, seed or --fresh differ)")
    out: dict[str, dict] = {}
    for conv, row in zip(convs, rows):
        if conv.kind != "single" or conv.task not in chat_data.SOURCES or conv.task in assistant_data.NO_TOOL:
            continue
        r = out.setdefault(conv.task, {"task": conv.task, "n": 0, "router": 0, "assistant": 0})
        r["n"] += 1
        r["router"] += int(route(conv.extra["user"][-1]).task == conv.task)
        r["assistant"] += row["scores"]["routing"]
    return list(out.values())


def markdown(rows: list[dict]) -> str:
    lines = ["| task | n | keyword router | assistant |", "|---|---|---|---|"]
    lines += [f"| {r['task']} | {r['n']} | {r['router'] / r['n']:.3f} | {r['assistant'] / r['n']:.3f} |" for r in rows]
    n = sum(r["n"] for r in rows)
    lines.append(f"| **all** | {n} | {sum(r['router'] for r in rows) / n:.3f} | "
                 f"{sum(r['assistant'] for r in rows) / n:.3f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", type=Path, required=True, help="an assistant_eval --out folder (its shard-*/rows.jsonl)")
    p.add_argument("--per-task", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fresh", nargs="?", const="second", choices=tuple(assistant_eval.BLIND_SETS),
                   help="the evaluation asked with a held-out set written blind (second, the default, or third)")
    p.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    p.add_argument("--out", type=Path, required=True, help="writes OUT.json and OUT.md")
    args = p.parse_args(argv)
    rows = compare(args.eval, args.per_task, args.fresh, args.datasets, args.seed)
    title = (f"Routing of single questions ({f'{args.fresh} held-out set' if args.fresh else 'held-out templates'}, "
             f"test records, {args.per_task} per task): the keyword router vs the assistant ({args.eval}).")
    md = f"{title}\n\n{markdown(rows)}"
    write_results(args.out, {"eval": str(args.eval), "fresh": args.fresh, "rows": rows}, md)  # prints md too


if __name__ == "__main__":
    main()
