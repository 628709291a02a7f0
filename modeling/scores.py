"""Class probabilities of a classification answer from the model's own token scores.

Training examples are `bos + prompt + " " + answer + eos` (finetune/training/data.py), the prompt and the answer tokenized
separately. The score of a label is the log-probability the model gives its answer tokens *and* the end-of-answer
token after the prompt (so "1" and a longer label starting like it are told apart); the probabilities are the
softmax of those scores over the task's labels. All labels are scored in one batched forward pass (right-padded).
"""

from __future__ import annotations

import math

import torch

from tasks.grammar import render_prompt
from tasks.registry import Task, get_task


@torch.no_grad()
def label_logprobs(model, tok, prompt: str, labels: tuple[str, ...] | list[str]) -> dict[str, float]:
    """log P(" label" + eos | bos + prompt) for each label, in one forward pass."""
    p_ids = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
    answers = [tok(" " + lab, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for lab in labels]
    limit = model.config.max_position_embeddings
    width = len(p_ids) + max(len(a) for a in answers)
    if width > limit:
        raise ValueError(f"the question and its longest label are {width} tokens, over the model's {limit}-token "
                         "context; nothing was truncated")
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids = torch.full((len(labels), width), pad, dtype=torch.long)
    mask = torch.zeros((len(labels), width), dtype=torch.long)
    for i, a in enumerate(answers):
        row = p_ids + a
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    logp = model(input_ids=ids, attention_mask=mask).logits.float().log_softmax(-1)
    out = {}
    start = len(p_ids)
    for i, (lab, a) in enumerate(zip(labels, answers)):
        positions = torch.arange(start - 1, start - 1 + len(a))  # logits at t predict token t + 1
        out[lab] = float(logp[i, positions, torch.tensor(a)].sum())
    return out


def softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def label_probabilities(model, tok, task: str | Task, sequence: str, fields: dict | None = None) -> dict[str, float]:
    """Probability of each label of classification task `task` for an already cleaned sequence (sums to 1)."""
    t = get_task(task)
    if t.kind != "classify":
        raise ValueError(f"{t.name} is not a classification task")
    return softmax(label_logprobs(model, tok, render_prompt(t, sequence, fields), t.labels))


__all__ = ["label_logprobs", "label_probabilities", "softmax"]
