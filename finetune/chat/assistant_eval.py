"""Evaluate the assistant on held-out conversations: routing, arguments, faithfulness, answers, latency.

    python -m finetune.chat.assistant_eval --adapter build/assistant/adapter --out build/assistant/eval [--per-task 50]

Conversations are `assistant_data.build("test")`: test records asked with the evaluation-only templates (with
`--fresh`, the single questions with a second held-out set, `assistant_eval_phrasings`; `--fresh third`, a third,
`assistant_eval_phrasings_third`, written blind after the last training phrasings). Each is
replayed through a fresh `Assistant` (the real LoRA, the real tools: GenomicLLM answers the learned tasks), one user
turn after another; the last turn is scored:
- routing: the first tool call is the expected tool (and task, for `classify`); no call where none is expected;
- arguments: its arguments are the expected ones (sequence reference, frame, gene symbol);
- faithfulness: the reply's bold value is exactly the tool's result (where the call was the right one);
- answer: the bold value against the record (exact tasks: the exact value; learned tasks: the task's metric, so
  the column compares with GenomicLLM in the grammar and with the old chat adapter's `eval.json`);
- refusals (the bad character in bold, no call), clarifications and no-task questions (a question back, no bold
  value, no call), general questions (no call, the concept named), off-topic requests (no call);
- latency: seconds per turn, p50 / p95 (all turns, and questions about 250-350 nt sequences).
Anything unparseable or missing counts as wrong. Writes eval.json, eval.md and verbatim example conversations.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from assistant.chat import Assistant, ToolCall, Turn
from assistant.tools import LEARNED, Toolbox
from tasks.grammar import Unparseable
from tasks.metrics import score
from tasks.paths import LORA_DIR
from tasks.registry import TASKS

from . import assistant_data, assistant_eval_phrasings, assistant_eval_phrasings_third, chat_data

OLD_EVAL = LORA_DIR / "eval.json"
# held-out question sets written without sight of any template (`--fresh`), beside the tables' held-out templates
BLIND_SETS = {"second": assistant_eval_phrasings.ASK, "third": assistant_eval_phrasings_third.ASK}
_ASKS_BACK = re.compile(r"\?|\b(paste|send|which sequence)\b", re.I)


def group_of(conv) -> str:
    return {"single": conv.task, "follow_up": "follow-up", "second": "second sequence", "refuse": "refusal",
            "clarify": "clarification", "no_task": "no task given", "concept": "no-tool question",
            "off_topic": "off-topic"}[conv.kind]


def bold(reply: str) -> str | None:
    m = chat_data.BOLD.search(reply)
    return m.group(1).strip() if m else None


def same_value(a: str | None, b: str | None) -> bool:
    """Equal as the reply states them: numbers numerically, labels case-blind, everything else exactly."""
    if a is None or b is None:
        return False
    try:
        return float(a) == float(b)
    except ValueError:
        return a.lower() == b.lower() if b.lower() in {lab for t in LEARNED for lab in TASKS[t].labels} else a == b


def _norm_args(name: str, args: dict) -> dict:
    """A call's arguments as the tool runs them: the sequence by its number, defaults written out (`frame: 1` is the
    call without a frame)."""
    out = dict(args or {})
    if "sequence" in out:
        m = re.search(r"\d+", str(out["sequence"]))
        out["sequence"] = m.group() if m else str(out["sequence"])
    return {**(Toolbox.defaults(name) if name in Toolbox.NAMES else {}), **out}


def judge(conv, turn: Turn, refs) -> dict:
    """Scores (1/0, or None where not applicable) of the last turn of one conversation."""
    expected = conv.extra["calls"][-1]
    reply, calls, value = turn.reply, turn.calls, bold(turn.reply)
    out = {"routing": None, "arguments": None, "faithful": None, "correct": None, "ok": None}
    if expected is None:
        no_call = not calls
        out["routing"] = int(no_call)
        kind_ok = {"refuse": lambda: value == conv.gold,
                   "clarify": lambda: value is None and bool(_ASKS_BACK.search(reply)),
                   "no_task": lambda: value is None and bool(_ASKS_BACK.search(reply)),
                   "concept": lambda: conv.extra.get("concept", "").lower() in reply.lower(),
                   "off_topic": lambda: value is None}.get(conv.kind)
        if kind_ok is not None:
            out["ok"] = int(no_call and kind_ok())
        else:  # answered from the question itself (reading comprehension)
            out["correct"] = int(no_call and same_value(value, conv.gold))
        return out
    first = calls[0] if calls else None
    routed = first is not None and first.name == expected["name"] and (
        expected["name"] != "classify" or first.arguments.get("task") == expected["arguments"]["task"])
    out["routing"] = int(routed)
    out["arguments"] = int(routed and _norm_args(first.name, first.arguments)
                           == _norm_args(expected["name"], expected["arguments"]))
    if routed and "result" in first.result:
        truth = refs.expand(assistant_data.bold_value(conv.task, first.result["result"]))
        out["faithful"] = int(same_value(value, truth))
    out["correct"] = int(same_value(value, conv.gold))
    return out


def conversations(split: str, per_task: int, seed: int, datasets: Path, tasks: list[str] | None = None,
                  fresh: str | None = None) -> list:
    """The conversations an evaluation replays: `split` records asked with the tables' held-out templates, or with
    a set written blind (`fresh`: a name in `BLIND_SETS`)."""
    return assistant_data.build(split, per_task, seed, datasets, tasks=tasks, ask=BLIND_SETS[fresh] if fresh else None)


def replay(bot: Assistant, conv) -> Turn:
    bot.reset()
    turn = None
    for text in conv.extra["user"]:
        turn = bot.ask(text)
    return turn


def answer_metric(task: str, convs: list, turns: list[Turn]) -> tuple[str, float] | None:
    """The task's headline metric on the bold values of single-turn answers of a learned task (unparseable = wrong)."""
    if task not in LEARNED:
        return None
    metric = TASKS[task].metrics[0]
    gold = [c.gold for c in convs]
    pred = [(bold(t.reply) or "").lower() or Unparseable(t.reply, "no bold value") for t in turns]
    pred = [p if isinstance(p, Unparseable) or p in TASKS[task].labels else Unparseable(p, "not a label") for p in pred]
    return metric, float(score(task, gold, pred)[metric])


def old_numbers(path: Path = OLD_EVAL) -> dict:
    """{group: (metric, old adapter strict, GenomicLLM grammar)} of the issue-6 adapter's evaluation."""
    if not path.is_file():
        return {}
    table = json.loads(path.read_text())["table"]
    return {g: (r["metric"], r["adapter"][r["metric"]], r.get("genomicllm", {}).get(r["metric"]))
            for g, r in table.items()}


def tabulate(convs: list, turns: list[Turn], scores: list[dict], old: dict) -> dict:
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(convs):
        groups.setdefault(group_of(c), []).append(i)
    table = {}
    for g, idx in groups.items():
        row = {"n": len(idx)}
        for key in ("routing", "arguments", "faithful", "correct", "ok"):
            vals = [scores[i][key] for i in idx if scores[i][key] is not None]
            if vals:
                row[key] = float(np.mean(vals))
        singles = [i for i in idx if convs[i].kind == "single"]
        m = answer_metric(g, [convs[i] for i in singles], [turns[i] for i in singles]) if singles else None
        if m:
            row["metric"], row["answer"] = m
        old_key = {"refusal": "refusal", "clarification": "clarification"}.get(g, g)
        if old_key in old:
            row["old_metric"], row["old_adapter"], row["genomicllm_grammar"] = old[old_key]
        table[g] = row
    seconds = [t.seconds for t in turns]
    mid = [t.seconds for c, t in zip(convs, turns) if c.kind == "single" and 250 <= first_sequence_length(c) <= 350]
    latency = {"p50_s": float(np.percentile(seconds, 50)), "p95_s": float(np.percentile(seconds, 95))}
    if mid:
        latency.update(p50_300nt_s=float(np.percentile(mid, 50)), p95_300nt_s=float(np.percentile(mid, 95)))
    return {"groups": table, "latency": latency,
            "overall": {k: float(np.mean([s[k] for s in scores if s[k] is not None]))
                        for k in ("routing", "arguments", "faithful", "correct", "ok")
                        if any(s[k] is not None for s in scores)}}


def first_sequence_length(conv) -> int:
    """The length of the first sequence the user pasted (0: none)."""
    m = re.search(r"\[sequence 1: ([\d,]+) nt\]", conv.messages[1]["content"])
    return int(m.group(1).replace(",", "")) if m else 0


def markdown(result: dict) -> str:
    cols = ["routing", "arguments", "faithful", "correct", "ok"]
    lines = ["| group | n | " + " | ".join(cols) + " | answer (metric) | old adapter | GenomicLLM grammar |",
             "|" + "---|" * (len(cols) + 5)]
    fmt = lambda x: "–" if x is None else f"{x:.3f}"  # noqa: E731
    for g, r in result["groups"].items():
        answer = f"{r['answer']:.3f} ({r['metric']})" if "answer" in r else "–"
        old = f"{r['old_adapter']:.3f} ({r['old_metric']})" if "old_adapter" in r else "–"
        lines.append(f"| {g} | {r['n']} | " + " | ".join(fmt(r.get(c)) for c in cols)
                     + f" | {answer} | {old} | {fmt(r.get('genomicllm_grammar'))} |")
    lat = result["latency"]
    lines.append("\nLatency per turn: " + ", ".join(f"{k} {v:.2f}" for k, v in lat.items()))
    return "\n".join(lines) + "\n"


def evaluate(bot: Assistant, convs: list) -> dict:
    rows = run_rows(bot, convs, range(len(convs)))
    return summarise(convs, [t for _, t, _ in rows], [s for _, _, s in rows])


def run_rows(bot: Assistant, convs: list, indices) -> list[tuple[int, Turn, dict]]:
    """(index, last turn, scores) of the conversations at `indices`, replayed one by one."""
    rows = []
    for n, i in enumerate(indices):
        turn = replay(bot, convs[i])
        rows.append((i, turn, judge(convs[i], turn, bot.refs)))
        if (n + 1) % 50 == 0:
            print(f"{n + 1}/{len(indices)} conversations", flush=True)
    return rows


def summarise(convs: list, turns: list[Turn], scores: list[dict]) -> dict:
    result = tabulate(convs, turns, scores, old_numbers())
    result["examples"] = examples(convs, turns)
    return result


def turn_from_json(d: dict) -> Turn:
    return Turn(**{**d, "calls": [ToolCall(**c) for c in d["calls"]]})


def run_workers(args, n_convs: int) -> tuple[list[Turn], list[dict]]:
    """The conversations split over `args.workers` one-thread processes (`--shard k/N`), their rows merged in order."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    shard_dirs = [args.out / f"shard-{k}" for k in range(args.workers)]
    procs = [subprocess.Popen([sys.executable, "-m", "finetune.chat.assistant_eval", "--adapter", str(args.adapter),
                               "--datasets", str(args.datasets), "--per-task", str(args.per_task),
                               "--seed", str(args.seed), "--split", args.split, "--out", str(d),
                               *(["--tasks", *args.tasks] if args.tasks else []), "--shard", f"{k}/{args.workers}",
                               *(["--fresh", args.fresh] if args.fresh else []),
                               *(["--base", str(args.base)] if args.base else [])], env=env)
             for k, d in enumerate(shard_dirs)]
    if any(p.wait() for p in procs):
        raise RuntimeError(f"an evaluation worker failed (see {args.out}/shard-*)")
    rows = shard_rows(shard_dirs)
    if [r["index"] for r in rows] != list(range(n_convs)):
        raise RuntimeError("the workers' rows do not cover every conversation once")
    return [turn_from_json(r["turn"]) for r in rows], [r["scores"] for r in rows]


def shard_rows(shard_dirs) -> list[dict]:
    """The workers' rows ({"index", "turn", "scores"}), in conversation order."""
    return sorted((json.loads(line) for d in shard_dirs for line in (Path(d) / "rows.jsonl").read_text().splitlines()),
                  key=lambda r: r["index"])


def examples(convs: list, turns: list[Turn], kinds=("single", "follow_up", "second", "refuse", "concept",
                                                      "clarify", "no_task")) -> list[dict]:
    out = []
    for kind in kinds:
        i = next((i for i, c in enumerate(convs) if c.kind == kind), None)
        if i is not None:
            out.append({"kind": kind, "user": convs[i].extra["user"], "reply": turns[i].reply,
                        "calls": [{"name": c.name, "arguments": c.arguments} for c in turns[i].calls]})
    return out


def main(argv: list[str] | None = None) -> None:
    from assistant.chat import load_assistant
    from dataset_scripts.annotation import ncbi_gene_table

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--adapter", type=Path, default=Path("build/assistant/adapter"))
    p.add_argument("--base", default=None, help="converted SmolLM2 folder (default: the cache)")
    p.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    p.add_argument("--out", type=Path, default=Path("build/assistant/eval"))
    p.add_argument("--per-task", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tasks", nargs="*", help="only these tasks' conversations (default: every task)")
    p.add_argument("--split", default="test", help="records to ask about (held-out phrasings on every split)")
    p.add_argument("--fresh", nargs="?", const="second", choices=tuple(BLIND_SETS),
                   help="ask the single questions with a held-out set written without sight of any template: the "
                   "second (assistant_eval_phrasings, the default) or the third (assistant_eval_phrasings_third)")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="one-thread processes sharing the conversations (latency is then one core's)")
    p.add_argument("--shard", help=argparse.SUPPRESS)  # "k/N": one worker's share, rows to <out>/rows.jsonl
    args = p.parse_args(argv)
    convs = conversations(args.split, args.per_task, args.seed, args.datasets, args.tasks, args.fresh)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.workers > 1 and not args.shard:
        turns, scores = run_workers(args, len(convs))
        workers = args.workers
    else:
        import torch

        k, n = map(int, (args.shard or "0/1").split("/"))
        if args.shard:
            torch.set_num_threads(1)
        bot = load_assistant(args.adapter, args.base, Toolbox(genes=ncbi_gene_table))
        rows = run_rows(bot, convs, range(k, len(convs), n))
        if args.shard:
            (args.out / "rows.jsonl").write_text("".join(
                json.dumps({"index": i, "turn": asdict(t), "scores": sc}, default=str) + "\n" for i, t, sc in rows))
            return
        turns, scores = [t for _, t, _ in rows], [sc for _, _, sc in rows]
        workers = 1
    result = {"per_task": args.per_task, "conversations": len(convs), "workers": workers, "threads_per_worker":
              1 if workers > 1 else None, **summarise(convs, turns, scores)}
    (args.out / "eval.json").write_text(json.dumps(result, indent=1, default=str))
    (args.out / "eval.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
