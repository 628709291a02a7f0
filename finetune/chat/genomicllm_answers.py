"""GenomicLLM's answers for the assistant's learned-task tools: class probabilities and gene descriptions, windowed.

A sequence longer than one question can hold is cut into windows explicitly (`window_sequence`, aligned to the
codon and the tokenizer's k); classifiers average the windows' class probabilities weighted by length, a gene is
described from its first window (a description is of the gene's start). Nothing is truncated silently: the result
says how many windows were used.

Duplicates on purpose (the layout forbids importing `space` from `finetune`): `label_logprobs` is
`space.scores.label_logprobs`, and the window sizing is a short form of `space.core.window_size`. Both belong in
`modeling/inference.py`; until they move there, keep the copies in step.
"""

from __future__ import annotations

import math

import torch

from modeling.inference import TEXT_ANSWER_TOKENS, ask, dna_kmer
from tasks.grammar import Unparseable, render_prompt
from tasks.registry import Task, get_task

PROMPT_OVERHEAD = 40  # tokens of a question besides its bases (bos, the phrase, " =") and of a short answer


@torch.no_grad()
def label_logprobs(model, tok, prompt: str, labels: tuple[str, ...]) -> dict[str, float]:
    """log P(" label" + eos | bos + prompt) for each label, in one right-padded forward pass."""
    p_ids = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
    answers = [tok(" " + lab, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for lab in labels]
    width = len(p_ids) + max(map(len, answers))
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids = torch.full((len(labels), width), pad, dtype=torch.long)
    mask = torch.zeros((len(labels), width), dtype=torch.long)
    for i, a in enumerate(answers):
        ids[i, : len(p_ids) + len(a)] = torch.tensor(p_ids + a)
        mask[i, : len(p_ids) + len(a)] = 1
    logp = model(input_ids=ids, attention_mask=mask).logits.float().log_softmax(-1)
    start = len(p_ids)
    return {lab: float(logp[i, torch.arange(start - 1, start - 1 + len(a)), torch.tensor(a)].sum())
            for i, (lab, a) in enumerate(zip(labels, answers))}


def window_bases(tok, model, task: Task) -> int:
    """Bases per question for `task`: the context less the prompt and the answer budget, at 90% of k bases per
    token for a k-mer tokenizer, a multiple of lcm(3, k)."""
    k = dna_kmer(tok)
    room = model.config.max_position_embeddings - PROMPT_OVERHEAD - (TEXT_ANSWER_TOKENS if task.answer == "text" else 0)
    align = math.lcm(3, k)
    return max(align, int(room * (0.9 * k if k > 1 else 1.0)) // align * align)


def windows(tok, model, task: Task, sequence: str) -> list[tuple[int, int, str]]:
    size = window_bases(tok, model, task)
    if len(sequence) <= size:
        return [(0, len(sequence), sequence)]
    return [tuple(w) for w in tok.window_sequence(sequence, size, 0, align=math.lcm(3, dna_kmer(tok)))]


def classify(tok, model, task: str | Task, sequence: str) -> dict:
    """{"answer", "probabilities"}: the label with the highest length-weighted mean probability (and the number
    of windows, when there are several)."""
    t = get_task(task)
    wins = windows(tok, model, t, sequence)
    probs = dict.fromkeys(t.labels, 0.0)
    for start, end, seq in wins:
        scores = label_logprobs(model, tok, render_prompt(t, seq), t.labels)
        top = max(scores.values())
        total = sum(math.exp(v - top) for v in scores.values())
        for lab, v in scores.items():
            probs[lab] += math.exp(v - top) / total * (end - start) / len(sequence)
    answer = max(probs, key=probs.get)
    out = {"answer": answer, "probabilities": {k: round(v, 3) for k, v in probs.items()}}
    return {**out, "windows": len(wins)} if len(wins) > 1 else out


def describe(tok, model, sequence: str) -> dict:
    """{"description"}: GenomicLLM's gene description of the sequence's first window (and how long it was, when
    the sequence is longer)."""
    t = get_task("gene_description")
    wins = windows(tok, model, t, sequence)
    start, end, seq = wins[0]
    a = ask(tok, model, t, seq)
    text = a.text if not isinstance(a.value, Unparseable) else ""
    return {"description": text, **({"described_from_first_nt": end - start} if len(wins) > 1 else {})}
