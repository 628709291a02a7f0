"""Conversations for the chat LoRA, generated from the three datasets' records (train split → training, test → eval).

A record (sequence + gold answer) becomes a chat: a question phrased as a person would (`chat_templates.ASK`), the
sequence pasted raw, lowercase, as FASTA, in groups of ten or wrapped, and a reply sentence that holds the exact value
in bold. Some records get a follow-up turn about the same sequence (GC content / reverse complement, answered by rule),
some are corrupted into invalid sequences that must be refused, and some questions come without a sequence and must be
clarified. Evaluation conversations use only held-out question templates (`chat_templates.HELD_OUT`).

`normalize_dna` is the DNA half of the hybrid tokenizer: every DNA run in a message (any case, spaces, line breaks)
becomes one upper-case run, which the adapter's tokenizer cuts into 3-mers (`lora_tokens`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from Bio.SeqUtils import seq1

from tasks.benchmarks import DATASETS_DIR
from tasks.grammar import Unparseable, exact_answer, parse_answer, render_prompt
from tasks.registry import get_task

from . import chat_templates as T

# task -> (dataset, config, longest sequence used): one source per task, the paper's 14 plus their splits
SOURCES: dict[str, tuple[str, str, int]] = {
    "gc_content": ("GenomicLLM_GRCh38", "gc_content", 300),
    "reverse": ("GenomicLLM_GRCh38", "reverse_complement", 120),
    "complement": ("GenomicLLM_GRCh38", "reverse_complement", 120),
    "reverse_complement": ("GenomicLLM_GRCh38", "reverse_complement", 120),
    "nt2aa": ("GenomicLLM_GRCh38", "nt2aa", 180),
    "splice_site": ("GenomicLLM_GRCh38", "splice_site", 400),
    "orf_frame": ("GenomicLLM_GRCh38", "orf_frame", 300),
    "sequence_direction": ("GenomicLLM_GRCh38", "sequence_direction", 300),
    "gene_biotype": ("GenomicLLM_GRCh38", "gene_biotype", 300),
    "gene_name": ("GenomicLLM_GRCh38", "gene_description", 300),
    "gene_description": ("GenomicLLM_GRCh38", "gene_description", 300),
    "reading_comprehension": ("GenomicLLM_GRCh38", "reading_comprehension", 120),
    "promoter": ("GUE", "prom_core_all", 300),
    "tf_binding": ("GUE", "tf_0", 300),
    "enhancer": ("GenomicBenchmarks", "human_enhancers_cohn", 500),
    "open_chromatin": ("GenomicBenchmarks", "human_ocr_ensembl", 400),
    "regulatory": ("GenomicBenchmarks", "human_ensembl_regulatory", 400),
}
FOLLOW_UP_RATE, REFUSE_RATE, CLARIFY_RATE = 0.2, 0.05, 0.02
STYLES = ("raw", "raw", "lower", "fasta", "groups", "wrapped")
# a bold span closes at "**" not followed by another "*": "**MA***" is MA* (a stop codon); and not where "**" stands
# between two capitals: in "**LV**GF**" two stops stand inside the protein LV**GF ("**0.509**C." is 0.509)
BOLD = re.compile(r"\*\*(.+?)\*\*(?!\*)(?!(?<=[A-Z]\*\*)[A-Z])", re.S)
_DNA_CHUNK = re.compile(r"[ACGTNacgtn]+")
_RUN = re.compile(r"(?<![A-Za-z0-9])[ACGTNacgtn]+(?![A-Za-z0-9])(?:[ \t]*\n?[ \t]*[ACGTNacgtn]+(?![A-Za-z0-9]))*")
_INVALID = "BDEFHIJKLMOPQRSUVWXYZ0123456789-*"


@dataclass
class Conversation:
    task: str  # the task of the last assistant turn (what evaluation scores)
    kind: str  # single | follow_up | refuse | clarify
    messages: list[dict]  # system, user, assistant, ...; the last message is the reply being scored
    gold: str  # the exact value written in bold in the last reply ("" for clarify)
    simple_prompt: str = ""  # the same question in GenomicLLM's simple grammar (for the comparison), "" if none
    simple_answer: str = ""
    template: str = ""  # the question template used (held-out check)
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- sequences in text
def format_sequence(seq: str, style: str, rng: np.random.Generator) -> str:
    """The sequence as a person might paste it."""
    if style == "lower":
        return seq.lower()
    if style == "fasta":
        return ">query\n" + "\n".join(seq[i : i + 60] for i in range(0, len(seq), 60)) + "\n"
    if style == "groups":  # upper case: a short lower-case last group could not be told from a word
        return " ".join(seq[i : i + 10] for i in range(0, len(seq), 10))
    if style == "wrapped":
        width = int(rng.choice([50, 60, 70, 80]))
        return "\n" + "\n".join(seq[i : i + width] for i in range(0, len(seq), width)) + "\n"
    return seq


def normalize_dna(text: str, min_length: int = 12, min_chunk: int = 8) -> str:
    """Upper-case and join every DNA run of `text` (whitespace inside it removed), so it tokenizes as one run.

    A run is a chunk of A/C/G/T/N letters followed by more chunks that are clearly the same sequence: the next line
    (FASTA, wrapped text), a chunk of at least `min_chunk` letters (groups of ten), or a short upper-case tail of an
    upper-case run. It is DNA when it has at least `min_length` bases and a chunk of at least `min_chunk`, so words
    made of those letters ("a", "can", "GATA" in prose) are left alone. Known limit: a short *lower-case* last group
    separated by a space ("acgtacgtac gt") is not joined (it cannot be told from a word such as "a").
    """
    out, pos = [], 0
    m = _RUN.search(text)
    while m:
        parts = re.split(r"(\s+)", m.group(0))
        chunks, seps = parts[0::2], parts[1::2]
        keep, end = 1, m.start() + len(chunks[0])
        for i in range(1, len(chunks)):
            c, prev, sep = chunks[i], chunks[i - 1], seps[i - 1]
            c_end = end + len(sep) + len(c)
            line_end = c_end == len(text) or text[c_end] == "\n"
            if c.isupper() == prev.isupper() and (len(c) >= min_chunk or c.isupper() or ("\n" in sep and line_end)):
                keep, end = i + 1, c_end
            else:
                break
        run = chunks[:keep]
        bases = "".join(run)
        out.append(text[pos : m.start()])
        if len(bases) >= min_length and max(map(len, run)) >= min_chunk:
            out.append(bases.upper())
        else:
            out.append(text[m.start() : end])
        pos = end
        m = _RUN.search(text, end)  # the rest of a match cut short (at a word) may start another run
    out.append(text[pos:])
    return "".join(out)


def prepare(messages: list[dict]) -> list[dict]:
    """Messages as the adapter sees them: DNA normalised in every message (apply before `apply_chat_template`)."""
    return [{**m, "content": normalize_dna(m["content"])} for m in messages]


def first_invalid(text: str) -> str | None:
    """The first character of a would-be sequence that is not a DNA letter (whitespace and FASTA header ignored)."""
    lines = [ln for ln in text.splitlines() if not ln.startswith(">")]
    for ch in "".join(lines):
        if not ch.isspace() and ch.upper() not in "ACGTN":
            return ch
    return None


# ------------------------------------------------------------------------------------------------ reading replies
def parse_reply(task: str, reply: str):
    """The value of a reply: its first bold span, parsed like a simple-grammar answer; Unparseable if there is none.

    Protein answers are written in one-letter codes in chat and returned as one-letter strings (as the grammar's
    parser returns them); labels are read case-insensitively ("**Yes**" is "yes").
    """
    m = BOLD.search(reply)
    if not m:
        return Unparseable(reply, "no bold value in the reply")
    span = m.group(1).strip()
    t = get_task(task)
    if t.kind == "classify":
        span = span.lower()
    if t.answer == "protein":
        return span if re.fullmatch(r"[ACDEFGHIKLMNPQRSTVWY*]+", span) else Unparseable(reply, "not a protein")
    if t.answer == "dna":
        span = re.sub(r"\s+", "", span).upper()  # the bold span is the sequence: any case, any line breaks
    return parse_answer(task, span)


def chat_value(task: str, answer: str) -> str:
    """The value as the chat writes it: the dataset's answer, except proteins in one-letter codes."""
    return seq1(answer, custom_map={"Ter": "*"}) if get_task(task).answer == "protein" else answer


# ---------------------------------------------------------------------------------------------------- records
def load_records(task: str, split: str, root: Path = DATASETS_DIR) -> pd.DataFrame:
    dataset, config, max_len = SOURCES[task]
    path = root / dataset / "data" / config / f"{split}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: run `make datasets` first")
    df = pd.read_parquet(path)
    if "task" in df.columns:
        df = df[df["task"] == task]
    df = df[df["sequence"].str.len() <= max_len]
    if df.empty:
        raise ValueError(f"{task}: no {split} records of at most {max_len} nt in {path}")
    return df.reset_index(drop=True)


def _fields(row) -> dict:
    raw = getattr(row, "fields", None)
    return json.loads(raw) if isinstance(raw, str) and raw else {}


def _context(fields: dict) -> str:
    parts = []
    if "chromosome" in fields:
        parts.append(f"chromosome {fields['chromosome']}")
    if "strand" in fields:
        parts.append(f"{fields['strand']} strand")
    return f" ({', '.join(parts)})" if parts else ""


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _reply(task: str, value: str, rng: np.random.Generator, **kw) -> str:
    if task in T.LABEL_ANSWER:
        return _pick(rng, T.LABEL_ANSWER[task][value])
    if task in T.YES_NO_WHAT:
        return _pick(rng, T.YES_NO_ANSWER[value]).format(what=T.YES_NO_WHAT[task])
    return _pick(rng, T.ANSWER[task]).format(value=value, **kw)


def _question(task: str, row, seq_text: str, template: str) -> tuple[str, dict]:
    fields = _fields(row)
    kw = {"seq": seq_text, "ctx": _context(fields), "symbol": fields.get("symbol", "")}
    if get_task(task).answer == "field":
        kw["field"] = T.FIELD_WORDS[row.question]
        kw["record"] = ", ".join(f"{T.FIELD_WORDS[k]} {v}" for k, v in fields.items())
    return template.format(**kw), kw


def single_turn(task: str, row, rng: np.random.Generator, templates: list[str]) -> Conversation:
    template = _pick(rng, templates)
    seq_text = format_sequence(row.sequence, _pick(rng, list(STYLES)), rng)
    question, kw = _question(task, row, seq_text, template)
    value = chat_value(task, str(row.answer))
    reply = _reply(task, value, rng, symbol=kw["symbol"], field=kw.get("field", ""))
    fields = _fields(row)
    simple = render_prompt(task, row.sequence, fields, getattr(row, "question", None)
                           if get_task(task).answer == "field" else None)
    return Conversation(task, "single", [{"role": "system", "content": T.SYSTEM}, {"role": "user", "content": question},
                                         {"role": "assistant", "content": reply}], value, simple, str(row.answer),
                        template)


def follow_up(first: Conversation, row, rng: np.random.Generator, held_out: bool) -> Conversation:
    task = _pick(rng, [t for t in T.FOLLOW_UP if t != first.task])
    table = T.FOLLOW_UP[task]
    template = _pick(rng, T.eval_templates(table) if held_out else T.train_templates(table))
    answer = exact_answer(task, row.sequence)
    reply = _reply(task, chat_value(task, answer), rng)
    messages = first.messages + [{"role": "user", "content": template}, {"role": "assistant", "content": reply}]
    return Conversation(task, "follow_up", messages, answer, render_prompt(task, row.sequence), answer, template,
                        {"first_task": first.task})


def refusal(row, rng: np.random.Generator, held_out: bool) -> Conversation:
    seq = list(row.sequence[:120])
    bad = _pick(rng, list(_INVALID))
    seq[int(rng.integers(len(seq)))] = bad
    table = T.eval_templates(T.REFUSE_ASK) if held_out else T.train_templates(T.REFUSE_ASK)
    template = _pick(rng, table)
    text = format_sequence("".join(seq), _pick(rng, ["raw", "raw", "groups", "wrapped"]), rng)
    bad = first_invalid(text)  # the first offending character as pasted (a later one may not be reached)
    reply = _pick(rng, T.REFUSE_ANSWER).format(value=bad)
    return Conversation("refuse", "refuse", [{"role": "system", "content": T.SYSTEM},
                                             {"role": "user", "content": template.format(seq=text)},
                                             {"role": "assistant", "content": reply}], bad, template=template)


def clarification(rng: np.random.Generator, held_out: bool) -> Conversation:
    table = T.eval_templates(T.CLARIFY_ASK) if held_out else T.train_templates(T.CLARIFY_ASK)
    template = _pick(rng, table)
    return Conversation("clarify", "clarify", [{"role": "system", "content": T.SYSTEM},
                                               {"role": "user", "content": template},
                                               {"role": "assistant", "content": _pick(rng, T.CLARIFY_ANSWER)}], "",
                        template=template)


def build(split: str, per_task: int, seed: int = 0, root: Path = DATASETS_DIR, held_out: bool | None = None,
          tasks: list[str] | None = None) -> list[Conversation]:
    """Conversations from `split` records: `per_task` single-turn chats per task, plus follow-ups (on a share of them),
    refusals and clarifications. `held_out` (default: split != "train") picks the evaluation-only templates."""
    held_out = split != "train" if held_out is None else held_out
    rng = np.random.default_rng([seed, 1 if held_out else 0])
    out: list[Conversation] = []
    for task in tasks or list(SOURCES):
        df = load_records(task, split, root)
        rows = df.iloc[rng.permutation(len(df))[:per_task]]
        templates = T.eval_templates(T.ASK[task]) if held_out else T.train_templates(T.ASK[task])
        for row in rows.itertuples():
            conv = single_turn(task, row, rng, templates)
            out.append(conv)
            if rng.random() < FOLLOW_UP_RATE:
                out.append(follow_up(conv, row, rng, held_out))
            if rng.random() < REFUSE_RATE:
                out.append(refusal(row, rng, held_out))
            if rng.random() < CLARIFY_RATE:
                out.append(clarification(rng, held_out))
    return out


def write_jsonl(convs: list[Conversation], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for c in convs:
            f.write(json.dumps(c.__dict__) + "\n")
