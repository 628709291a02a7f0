"""The conversations an assistant evaluation got wrong, one block each: the group, what was wrong, the user's last
message, the expected and the made call, and the reply. It reads the workers' rows (`<eval>/shard-*/rows.jsonl`,
written by `finetune.chat.assistant_eval` with `--workers 2`, the default) and rebuilds the same conversations.

    python -m studies.assistant_failures --eval build/assistant-eval --per-task 50 [--group complement]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finetune.chat import assistant_data, assistant_eval

SCORES = ("routing", "arguments", "faithful", "ok")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eval", type=Path, default=Path("build/assistant-eval"))
    p.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    p.add_argument("--per-task", type=int, default=50, help="as the evaluation was run")
    p.add_argument("--seed", type=int, default=0, help="as the evaluation was run")
    p.add_argument("--group", help="only this group (eval.md's first column)")
    args = p.parse_args(argv)
    convs = assistant_data.build("test", args.per_task, args.seed, args.datasets)
    rows = assistant_eval.shard_rows(sorted(d for d in args.eval.glob("shard-*") if (d / "rows.jsonl").is_file()))
    if not rows:
        raise FileNotFoundError(f"no {args.eval}/shard-*/rows.jsonl: run the evaluation with --workers 2")
    for r in rows:
        conv, turn = convs[r["index"]], r["turn"]
        wrong = [k for k in SCORES if r["scores"][k] == 0]
        group = assistant_eval.group_of(conv)
        if not wrong or args.group not in (None, group):
            continue
        print(f"[{group}] {', '.join(wrong)} wrong. User: {conv.extra['user'][-1]!r}")
        print(f"   expected {conv.extra['calls'][-1]} | made {[(c['name'], c['arguments']) for c in turn['calls']]}")
        print(f"   reply: {turn['reply'][:200]!r}")


if __name__ == "__main__":
    main()
