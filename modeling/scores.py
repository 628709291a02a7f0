"""Class probabilities of a classification answer and values of a regression one, read from the model's heads.

Readings of the same weights beside the generated text (`studies/results/label_scoring.md` measures them):
- **label head** (`config.label_heads[task]`, written by `finetune.training.label_heads`): a linear map from the
  question's hidden states (`question_states`: the entry's `features`, e.g. the final state at the last token, the
  one the answer is generated from, and each layer's average over the question) to the task's classes, fitted on
  train rows by logistic regression. Where the task's label does not depend on the strand (`Task.strand_symmetric`),
  the states of the sequence and of its reverse complement are averaged, so both strands get the same answer; where
  other readings of the sequence decide the label (`Task.readings`: sequence direction read backwards, an ORF frame
  read from the second and third base), the probabilities of every reading are averaged, each label beside the one
  the sequence so read has (dev +0.02 MCC each). On dev
  the last state alone beat the token scores by +0.066 mean MCC over 20 benchmarks, and the layers' averages added
  +0.116 (`studies/results/head_features.md`). A task pooled over several benchmarks may also carry a head per
  benchmark (`entry["benchmarks"][name]`, kept where it beat the pooled head on that benchmark's dev rows): asked
  with `benchmark=` (as the evaluation asks GUE tf_3), the benchmark's own head answers; asked without, the pooled one.
- **value head** (`config.value_heads[task]`, a regression task's): the same states, a linear map to the value
  (ridge regression on train rows), clipped to the task's range: GC content read this way is a count the embeddings
  already hold, where the generated digits are off by 0.029 on average.
- **label scores** (a classification task without a head): the log-probability the model gives each label's answer
  tokens *and* the end-of-answer token after the prompt (so "1" and a longer label starting like it are told apart),
  softmaxed over the labels. Training examples are `bos + prompt + " " + answer + eos`
  (finetune/training/data.py), prompt and answer tokenized separately; all labels are scored in one batched forward
  pass (right-padded).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from modeling.heads_genomicllm import (feature_width, head_logits, question_features, reads_letters, reads_runs,
                                       reads_states, right_padded, run_index, run_letters)
from tasks.grammar import render_prompt
from tasks.registry import Task, get_task
from tasks.rules import READINGS, reverse_complement


def _prompt_ids(model, tok, prompt: str, extra: int = 0) -> list[int]:
    """bos + the prompt's tokens; a question over the model's context is an error (nothing is truncated)."""
    ids = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
    limit = model.config.max_position_embeddings
    if len(ids) + extra > limit:
        raise ValueError(f"the question{' and its longest label' if extra else ''} are {len(ids) + extra} tokens, "
                         f"over the model's {limit}-token context; nothing was truncated")
    return ids


@torch.no_grad()
def label_logprobs(model, tok, prompt: str, labels: tuple[str, ...] | list[str]) -> dict[str, float]:
    """log P(" label" + eos | bos + prompt) for each label, in one forward pass: the LM's own (never a head's)."""
    answers = [tok(" " + lab, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for lab in labels]
    p_ids = _prompt_ids(model, tok, prompt, max(len(a) for a in answers))
    ids, mask = right_padded([p_ids + a for a in answers], tok.pad_token_id)
    logp = model(input_ids=ids, attention_mask=mask, answer_with_heads=False).logits.float().log_softmax(-1)
    out = {}
    start = len(p_ids)
    for i, (lab, a) in enumerate(zip(labels, answers)):
        positions = torch.arange(start - 1, start - 1 + len(a))  # logits at t predict token t + 1
        out[lab] = float(logp[i, positions, torch.tensor(a)].sum())
    return out


FEATURES = ("last",)  # what a label head reads when its entry names no `features` (the first heads)


@torch.no_grad()
def question_states(model, tok, prompts: list[str], features=FEATURES, batch_size: int = 16,
                    run_layers: list[int] | None = None):
    """(prompts, features' width) readings of each question's states (bos + prompt, right-padded batches),
    concatenated in `features` order (`heads_genomicllm.question_features`: "last", "mean", "mean@k", "max@k",
    "phase@k", "conv:<name>", "kmers:<lo>-<hi>"), as the model reads them itself where it answers with a head in
    `generate`. With `run_layers`, (those, each question's states of those layers along its DNA run ((run length,
    D x layers), float16): what a motif reader is trained on, `finetune.training.conv_heads`)."""
    out, runs = [], []
    for start in range(0, len(prompts), batch_size):
        ids, mask = right_padded([_prompt_ids(model, tok, p) for p in prompts[start : start + batch_size]],
                                 tok.pad_token_id)
        hs = None  # features read from the DNA run's letters alone need no forward pass
        if reads_states(features) or run_layers:
            hs = model.base_model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        base = run_index(model.config, ids, mask) if reads_runs(features) or run_layers else None
        letters = run_letters(model.config, ids, base) if reads_letters(features) else None
        out.append(question_features(hs, mask, features, base if reads_runs(features) else None,
                                     getattr(model, "head_convs", None), letters).numpy())
        if run_layers:
            layered = torch.cat([hs[k] for k in run_layers], -1)
            runs += [layered[i, base[i] >= 0].half().numpy() for i in range(len(ids))]
    width = sum(feature_width(model.config, f) for f in features)
    states = np.concatenate(out) if out else np.zeros((0, width), dtype=np.float32)
    return (states, runs) if run_layers else states


def task_states(model, tok, task: str | Task, sequences: list[str], fields: list[dict] | None = None,
                features=FEATURES) -> np.ndarray:
    """`question_states` of the task's questions about `sequences` (with each row's `fields`), averaged with those
    of the same questions about their reverse complements where the task is strand-symmetric."""
    t = get_task(task)
    fields = fields or [None] * len(sequences)
    h = question_states(model, tok, [render_prompt(t, s, f) for s, f in zip(sequences, fields)], features)
    if not t.strand_symmetric:
        return h
    return (h + question_states(model, tok, [render_prompt(t, reverse_complement(s), f)
                                             for s, f in zip(sequences, fields)], features)) / 2


HEADS = {"classify": "label_heads", "regress": "value_heads"}  # the config key of each kind of task's heads


def head(model, task: str | Task, benchmark: str | None = None) -> dict | None:
    """The task's head in the model's config (a label head for a classification task, a value head for a regression
    task), or None; `benchmark`'s own head where the task's entry has one for it (a name it does not know falls back
    to the task's pooled head)."""
    t = get_task(task)
    entry = (getattr(model.config, HEADS.get(t.kind, ""), None) or {}).get(t.name)
    return (entry.get("benchmarks") or {}).get(benchmark, entry) if entry and benchmark else entry


def own_heads(model, task: str | Task) -> list[str]:
    """The benchmarks that have a head of their own in the model for `task` (`head(model, task, name)`), sorted."""
    return sorted((head(model, task) or {}).get("benchmarks") or {})


def checked_benchmark(model, task: str | Task, benchmark: str | None) -> str | None:
    """`benchmark` where the task has a head of its own for it (None asks the pooled head); else a ValueError naming
    those it has, since `head` would answer an unknown name with the pooled head without a word."""
    if benchmark is None:
        return None
    names = own_heads(model, task)
    if benchmark not in names:
        has = f"it has heads for {', '.join(names)}" if names else "no benchmark has a head of its own for it"
        raise ValueError(f"{get_task(task).name} has no head fitted on {benchmark!r} in this model; {has} (leave the "
                         "benchmark out to ask the task's head, fitted on all of them)")
    return benchmark


def head_note(model, task: str | Task, benchmark: str | None) -> str:
    """Which head answered a classification whose task has more than one: `benchmark`'s own, or the task's, pooled
    over benchmarks that each have their own (which TF set, which histone mark) and can be asked by name."""
    if benchmark:
        return f"Answered by the head fitted on {benchmark} alone."
    return (f"Answered by the task's head, fitted on all its benchmarks; {', '.join(own_heads(model, task))} each "
            "have a head of their own (the one the evaluation scores), asked by naming the benchmark.")


def head_probabilities(entry: dict, states: np.ndarray) -> np.ndarray:
    """(rows, labels) probabilities of a label head (`weight` labels x hidden, `bias` per label) on states: the map
    the model applies itself in `generate` (`heads_genomicllm.head_logits`)."""
    return torch.softmax(head_logits(entry, torch.as_tensor(np.asarray(states))), dim=-1).numpy()


def head_values(entry: dict, states: np.ndarray) -> np.ndarray:
    """(rows,) values of a value head (`weight` 1 x features, `bias` [1]) on states."""
    return head_logits(entry, torch.as_tensor(np.asarray(states)))[:, 0].numpy()


def values(model, tok, task: str | Task, sequences: list[str], fields: list[dict] | None = None,
           benchmark: str | None = None) -> np.ndarray:
    """(sequences,) a regression task's answers about already cleaned `sequences`, from its value head (a linear
    map from the same question states as a label head), clipped to the task's value range."""
    t = get_task(task)
    entry = head(model, t, benchmark)
    if t.kind != "regress" or entry is None:
        raise ValueError(f"{t.name} has no value head in this model")
    v = head_values(entry, task_states(model, tok, t, sequences, fields, entry.get("features", FEATURES)))
    lo, hi = t.value_range or (-math.inf, math.inf)
    return np.clip(v, lo, hi)


def class_probabilities(model, tok, task: str | Task, sequences: list[str], fields: list[dict] | None = None,
                        benchmark: str | None = None) -> np.ndarray:
    """(sequences, labels) probabilities, in the task's label order, of the task's questions about already cleaned
    `sequences` (with each row's `fields`): from its label head (`benchmark`'s own where it has one) where the model
    has one, else the label scores."""
    t = get_task(task)
    if t.kind != "classify":
        raise ValueError(f"{t.name} is not a classification task")
    entry = head(model, t, benchmark)
    if entry is not None:
        read = reading_probabilities(model, tok, t, entry, sequences, fields)
        return sum(read.values()) / len(read)
    rows = [softmax(label_logprobs(model, tok, render_prompt(t, s, f), t.labels))
            for s, f in zip(sequences, fields or [None] * len(sequences))]
    return np.array([[r[lab] for lab in t.labels] for r in rows]).reshape(len(sequences), len(t.labels))


def reading_probabilities(model, tok, task: Task, entry: dict, sequences: list[str], fields: list[dict] | None = None
                          ) -> dict[str, np.ndarray]:
    """(sequences, labels) probabilities of a label head (`entry`) per reading of the sequences: "as asked", then
    each of `Task.readings` (the sequences read backwards, from their second base, ...), each label beside the one
    the sequence so read has. `class_probabilities` averages them."""
    return readings_read(entry, reading_states(model, tok, task, sequences, fields, entry.get("features", FEATURES)))


def readings_read(entry: dict, read: dict[str, tuple[np.ndarray, list[int]]]) -> dict[str, np.ndarray]:
    """A label head's probabilities per reading (`reading_states`' states and label order)."""
    return {name: head_probabilities(entry, states)[:, order] for name, (states, order) in read.items()}


def reading_states(model, tok, task: Task, sequences: list[str], fields: list[dict] | None = None,
                   features=FEATURES) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Per reading of the sequences (`reading_probabilities`), the `task_states` of `features` and, per label, the
    column of a head's probabilities that answers it (the label the sequence so read has)."""
    out = {"as asked": (task_states(model, tok, task, sequences, fields, features), list(range(len(task.labels))))}
    for reading, answers in task.readings:
        out[reading] = (task_states(model, tok, task, [READINGS[reading](s) for s in sequences], fields, features),
                        [task.labels.index(lab) for lab in answers])
    return out


def softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def label_probabilities(model, tok, task: str | Task, sequence: str, fields: dict | None = None,
                        benchmark: str | None = None) -> dict[str, float]:
    """Probability of each label of classification task `task` for an already cleaned sequence (sums to 1)."""
    t = get_task(task)
    return dict(zip(t.labels, class_probabilities(model, tok, t, [sequence], [fields], benchmark)[0].tolist()))


__all__ = ["checked_benchmark", "class_probabilities", "head", "head_note", "head_probabilities", "head_values",
           "label_logprobs", "label_probabilities", "own_heads", "question_states", "reading_states", "readings_read",
           "softmax", "task_states", "values"]
