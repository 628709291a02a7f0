"""A user task's rows as model inputs: prompts in the grammar, the check that every question fits the model's
context (or windows when asked), and the token ids the trainer batches.

- `lm`: `<s> <sequence>, <phrase> = <label></s>` as the tokenizer's (prompt, answer) pair, exactly as the base model
  was trained (`finetune.training.data.tokenize_rows`); loss on the answer and eos, `prompt_weight` on the prompt.
- `head`: `<s> <sequence>, <phrase> =` and the class index; the head reads the last token.

A question longer than the context is never cut silently: the message names the rows, their lengths and the
longest sequence that fits, and offers `--window N` (each long sequence cut into windows of N bases that keep its
label).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from finetune.training.data import tokenize_rows
from modeling.inference import dna_kmer  # windows start at multiples of k: a k-mer cut stays in frame
from tasks import Task, render_prompt

from .userdata import UserData, UserDataError, windows


def prompts(task: Task, df: pd.DataFrame) -> list[str]:
    return [render_prompt(task, s) for s in df["sequence"]]


def example_lengths(tok, task: Task, df: pd.DataFrame) -> np.ndarray:
    """Tokens of each row's whole example: <s> + prompt + the longest label + </s>."""
    longest = max(tok.count_tokens([" " + lab for lab in task.labels], add_special_tokens=False))
    return np.asarray(tok.count_tokens(prompts(task, df)), dtype=int) + longest + 1


def longest_fitting(tok, task: Task, seq: str, limit: int) -> int:
    """The most leading bases of `seq` whose example fits `limit` tokens (binary search), a multiple of k."""
    lo, hi = 0, len(seq)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if example_lengths(tok, task, pd.DataFrame({"sequence": [seq[:mid]]}))[0] <= limit:
            lo = mid
        else:
            hi = mid - 1
    align = dna_kmer(tok)
    return lo // align * align


def fit_to_context(tok, task: Task, data: UserData, limit: int, window: int | None = None) -> UserData:
    """`data` with every example within `limit` tokens: unchanged, windowed (`window` bases), or a UserDataError."""
    if window:
        align = dna_kmer(tok)
        if window < align or window % align:
            raise UserDataError(f"--window {window}: give a multiple of {align} (the tokenizer's k-mer)")
        cut = {name: windows(df, window, align) for name, df in data.splits.items()}
        data.summary["windows"] = {"bases": window, **{name: {"rows": int(len(data.splits[name])),
                                                             "windows": int(len(df))} for name, df in cut.items()}}
        data.splits = cut
    for name, df in data.splits.items():
        lengths = example_lengths(tok, task, df)
        over = np.flatnonzero(lengths > limit)
        if not len(over):
            continue
        worst = int(over[np.argmax(lengths[over])])
        fits = longest_fitting(tok, task, df["sequence"].iloc[worst], limit)
        shown = ", ".join(f"{df['file'].iloc[i]} row {df['row'].iloc[i]} ({len(df['sequence'].iloc[i]):,} nt, "
                          f"{lengths[i]} tokens)" for i in over[:3])
        raise UserDataError(
            f"{len(over)} {name} sequence(s) are longer than the model accepts: {shown}"
            f"{' …' if len(over) > 3 else ''}; the model reads {limit} tokens with the question and its answer, "
            f"about {fits:,} nt here. Nothing was cut. "
            + (f"Pass --window {fits} to cut long sequences into windows that keep their label, or shorten them."
               if not window else f"--window {window} is still too long: use --window {fits} or less."))
    return data


def encode_lm(tok, task: Task, df: pd.DataFrame, limit: int) -> list[tuple[np.ndarray, int]]:
    """(ids, prompt length) per row: the base model's own example layout."""
    src = tokenize_rows("user", prompts(task, df), df["label"].tolist(), tok, limit)
    if src.dropped_for_length:  # fit_to_context ran first: cannot happen
        raise UserDataError(f"{src.dropped_for_length} rows over {limit} tokens")
    return [src.example(i) for i in range(len(src))]


def encode_head(tok, task: Task, df: pd.DataFrame) -> list[tuple[np.ndarray, int]]:
    """(ids, class index) per row: <s> + prompt, and the label's position in the task's labels."""
    ids = tok(prompts(task, df))["input_ids"]
    index = {lab: i for i, lab in enumerate(task.labels)}
    return [(np.asarray(x, dtype=np.int64), index[lab]) for x, lab in zip(ids, df["label"])]


def encode(tok, task: Task, df: pd.DataFrame, objective: str, limit: int) -> list[tuple[np.ndarray, int]]:
    return encode_head(tok, task, df) if objective == "head" else encode_lm(tok, task, df, limit)


__all__ = ["encode", "example_lengths", "fit_to_context", "longest_fitting", "prompts"]
