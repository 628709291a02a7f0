"""Evaluate the chat adapter against the base model and GenomicLLM, on held-out records phrased with held-out templates.

    python -m finetune.chat.lora_eval --adapter build/lora/adapter --out build/lora/eval [--per-task 20]

The same test-split conversations (`chat_data.build("test")`, evaluation-only templates) go to:
- `adapter`: SmolLM2 + this LoRA (DNA normalised, as the adapter's users are told to);
- `base`: SmolLM2-135M-Instruct alone, given the messages exactly as the person wrote them;
- `genomicllm`: the shipped GenomicLLM, given the same record in its simple grammar (`finetune.evaluation.evaluate` harness).
Replies are read by `chat_data.parse_reply` (the bold value; anything else is unparseable and wrong). Because the base
model never learnt the bold convention, every chat model is also scored *leniently* (`lenient_value`: the value found
anywhere in the reply) and both numbers are reported. Writes `eval.json`, `eval.md` and verbatim example conversations.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np

from finetune.evaluation.evaluate import generate, main_metric, score_rows
from tasks.grammar import Unparseable, parse_answer
from tasks.metrics import score
from tasks.registry import get_task

from . import chat_data

GENOMICLLM_DIR = Path("release/GenomicLLM")
# headline metrics where exact match says too little at this size (the evaluator's are kept for the rest)
CHAT_METRIC = {"nt2aa": "identity", "gene_description": "rouge_l"}
_NUMBER = re.compile(r"(?<![\d.])(\d*\.\d+|\d+)(\s*%)?")
_LONG_DNA = re.compile(r"[ACGTacgt]{10,}")
_LONG_PROTEIN = re.compile(r"[ACDEFGHIKLMNPQRSTVWY*]{5,}")
_REFUSAL = re.compile(r"\b(invalid|not (a )?valid|isn't (a )?valid|not a (dna )?base|can't|cannot|check the sequence)\b",
                      re.I)
_CLARIFY = re.compile(r"\b(paste|send|share|provide|which sequence|what sequence)\b", re.I)


# ------------------------------------------------------------------------------------------------ reading replies
def lenient_value(task: str, reply: str):
    """The value anywhere in a free-form reply (for models that do not write it in bold); Unparseable if absent or
    ambiguous (two different labels named)."""
    strict = chat_data.parse_reply(task, reply)
    if not isinstance(strict, Unparseable):
        return strict
    t = get_task(task)
    if t.kind == "classify":
        found = {lab for lab in t.labels if re.search(rf"\b{re.escape(lab)}\b", reply, re.I)}
        return found.pop() if len(found) == 1 else Unparseable(reply, f"{len(found)} labels named")
    if t.kind == "regress":
        for m in _NUMBER.finditer(reply):
            x = float(m.group(1)) / (100 if m.group(2) else 1)
            if 0 <= x <= 1:
                return x
        return Unparseable(reply, "no number in [0, 1]")
    if t.answer == "dna":
        runs = _LONG_DNA.findall(reply)
        return max(runs, key=len).upper() if runs else Unparseable(reply, "no DNA run")
    if t.answer == "protein":
        runs = _LONG_PROTEIN.findall(reply)
        return max(runs, key=len) if runs else Unparseable(reply, "no protein run")
    return reply.strip() or Unparseable(reply, "empty reply")


def judge(conv: chat_data.Conversation, reply: str, lenient: bool):
    """(gold, prediction) of one reply, in the value space `metrics.score` expects."""
    if conv.kind == "refuse":
        named = chat_data.BOLD.search(reply)
        ok = bool(named and named.group(1).strip() == conv.gold) if not lenient else bool(_REFUSAL.search(reply))
        return "refused", "refused" if ok else "answered"
    if conv.kind == "clarify":
        ok = not chat_data.BOLD.search(reply) and bool(_CLARIFY.search(reply))
        return "asked", "asked" if ok else "answered"
    gold = chat_data.parse_reply(conv.task, conv.messages[-1]["content"])
    return gold, (lenient_value if lenient else chat_data.parse_reply)(conv.task, reply)


def group_of(conv: chat_data.Conversation) -> str:
    return {"follow_up": f"follow-up: {conv.task}", "refuse": "refusal", "clarify": "clarification"}.get(conv.kind,
                                                                                                      conv.task)


def metric_of(group: str) -> tuple[str, str]:
    """(task used for scoring, headline metric) of an evaluation group."""
    if group in ("refusal", "clarification"):
        return "", "accuracy"
    task = group.removeprefix("follow-up: ")
    return task, CHAT_METRIC.get(task, main_metric(task))


def score_group(group: str, gold: list, pred: list) -> dict:
    task, _ = metric_of(group)
    if not task:
        return {"accuracy": float(np.mean([g == p for g, p in zip(gold, pred)])), "n": len(gold)}
    return score(task, gold, pred)


# -------------------------------------------------------------------------------------------------- generation
def chat_replies(model, tok, conversations: list[list[dict]], budgets: list[int], batch_size: int = 16) -> list[str]:
    """Greedy replies to conversations (each ending in a user turn): the chat template, then the harness's batched
    greedy generation (`finetune.evaluation.evaluate.generate`)."""
    texts = [tok.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in conversations]
    return generate(model, tok, texts, budgets, batch_size, add_special_tokens=False)


def run_chat_model(name: str, model, tok, convs: list[chat_data.Conversation], normalise: bool) -> list[str]:
    history = [chat_data.prepare(c.messages[:-1]) if normalise else c.messages[:-1] for c in convs]
    gold_reply = [chat_data.prepare([c.messages[-1]])[0]["content"] for c in convs]
    budgets = [len(tok(r, add_special_tokens=False)["input_ids"]) + 16 for r in gold_reply]
    print(f"{name}: {len(convs)} conversations", flush=True)
    return chat_replies(model, tok, history, budgets)


def questions_digest(convs: list[chat_data.Conversation]) -> str:
    """sha256 of every conversation up to the reply being scored."""
    return hashlib.sha256(json.dumps([c.messages[:-1] for c in convs]).encode()).hexdigest()


def run_genomicllm(model_dir: Path, convs: list[chat_data.Conversation]) -> list:
    """GenomicLLM's parsed answers to the simple-grammar form of each record (None where there is none)."""
    from finetune.evaluation.evaluate import load

    tok, model = load(model_dir)
    preds: list = [None] * len(convs)
    by_task: dict[str, list[int]] = {}
    for i, c in enumerate(convs):
        if c.simple_prompt:
            by_task.setdefault(c.task, []).append(i)
    for task, idx in by_task.items():
        _, pred = score_rows(model, tok, task, [convs[i].simple_prompt for i in idx],
                             [convs[i].simple_answer for i in idx])
        for i, p in zip(idx, pred):
            preds[i] = p
    return preds


# ------------------------------------------------------------------------------------------------------ tables
def tabulate(convs: list[chat_data.Conversation], replies: dict[str, list[str]], genomicllm: list | None) -> dict:
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(convs):
        groups.setdefault(group_of(c), []).append(i)
    order = [*chat_data.SOURCES, *(f"follow-up: {t}" for t in chat_data.T.FOLLOW_UP), "refusal", "clarification"]
    table = {}
    for group, idx in sorted(groups.items(), key=lambda kv: order.index(kv[0])):
        task, metric = metric_of(group)
        row = {"metric": metric, "n": len(idx)}
        for name, texts in replies.items():
            for lenient in (False, True):
                pairs = [judge(convs[i], texts[i], lenient) for i in idx]
                row[f"{name}{'_lenient' if lenient else ''}"] = score_group(group, *map(list, zip(*pairs)))
        if genomicllm is not None and task and all(genomicllm[i] is not None for i in idx):
            gold = [parse_answer(task, convs[i].simple_answer) for i in idx]
            row["genomicllm"] = score_group(group, gold, [genomicllm[i] for i in idx])
        table[group] = row
    return table


def markdown(table: dict, names: list[str]) -> str:
    head = "| task | metric | n | " + " | ".join(f"{n} (strict / lenient)" for n in names) + " | GenomicLLM (grammar) |"
    lines = [head, "|" + "---|" * (len(names) + 4)]
    for group, row in table.items():
        m = row["metric"]
        cells = [f"{row[n][m]:.3f} / {row[n + '_lenient'][m]:.3f}" for n in names]
        g = f"{row['genomicllm'][m]:.3f}" if "genomicllm" in row else "–"
        lines.append(f"| {group} | {m} | {row['n']} | " + " | ".join(cells) + f" | {g} |")
    return "\n".join(lines) + "\n"


def examples(convs: list[chat_data.Conversation], replies: dict[str, list[str]], per_group: int = 1) -> list[dict]:
    seen: dict[str, int] = {}
    out = []
    for i, c in enumerate(convs):
        g = group_of(c)
        if seen.get(g, 0) >= per_group:
            continue
        seen[g] = seen.get(g, 0) + 1
        out.append({"group": g, "messages": c.messages[:-1], "gold": c.messages[-1]["content"],
                    **{name: texts[i] for name, texts in replies.items()}})
    return out


def main(argv: list[str] | None = None) -> None:
    from .lora import load_chat_model
    from .smollm_base import load_base

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--adapter", type=Path, default=Path("build/lora/adapter"))
    p.add_argument("--base", type=Path, default=None, help="converted SmolLM2 folder (default: the cache)")
    p.add_argument("--genomicllm", type=Path, default=GENOMICLLM_DIR)
    p.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    p.add_argument("--out", type=Path, default=Path("build/lora/eval"))
    p.add_argument("--per-task", type=int, default=20)
    p.add_argument("--models", default="adapter,base,genomicllm")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--templates", choices=["held-out", "train"], default="held-out",
                   help="question phrasing: the held-out templates (the reported table) or the training ones "
                        "(still test records: measures how much of the gap is phrasing)")
    args = p.parse_args(argv)
    models = args.models.split(",")
    convs = chat_data.build("test", args.per_task, args.seed, args.datasets, held_out=args.templates == "held-out")
    args.out.mkdir(parents=True, exist_ok=True)
    chat_data.write_jsonl(convs, args.out / "conversations.jsonl")
    replies: dict[str, list[str]] = {}
    for name in [m for m in models if m in ("adapter", "base")]:
        # SmolLM2 alone answers the same questions the same way: its replies are kept, keyed by the questions asked
        # (the adapter's are always regenerated: a retrained adapter must be evaluated afresh)
        cache, key = args.out / "replies_base.json", questions_digest(convs)
        if name == "base" and cache.is_file() and json.loads(cache.read_text()).get("questions") == key:
            replies[name] = json.loads(cache.read_text())["replies"]
            continue
        tok, model = load_chat_model(args.adapter, args.base) if name == "adapter" else load_base(args.base)
        replies[name] = run_chat_model(name, model.eval(), tok, convs, normalise=name == "adapter")
        if name == "base":
            cache.write_text(json.dumps({"questions": key, "replies": replies[name]}))
        del model
    genomicllm = run_genomicllm(args.genomicllm, convs) if "genomicllm" in models else None
    table = tabulate(convs, replies, genomicllm)
    result = {"per_task": args.per_task, "seed": args.seed, "templates": args.templates, "conversations": len(convs),
              "table": table,
              "examples": examples(convs, replies)}
    (args.out / "eval.json").write_text(json.dumps(result, indent=1, default=str))
    (args.out / "eval.md").write_text(markdown(table, list(replies)))
    print(markdown(table, list(replies)))


if __name__ == "__main__":
    main()
