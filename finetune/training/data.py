"""The training mixture: train splits of the three datasets, rendered by the grammar, tokenized once, sampled by weight.

Mixture: every (dataset, config) train split is a source; a source is drawn with probability proportional to
rows ** `temperature` (0.5 by default: small tasks are seen more often than their size alone would give, large ones
less) times its `source_weights` factor (default 1; the exact tasks need many more answers than their row counts
give), then a row uniformly within it. Dev/validation/test rows never enter (`TRAIN_SPLIT` only).

An example is `prompt` + `" " + answer` + eos; an answer read back from a field (`Task.answer == "field"`) is cut as
the prompt cuts the value after "=" (`field_answer_ids`). Loss weights: 1 on answer and eos tokens, `prompt_weight`
on prompt tokens (the original used 0.2). Rows longer than `max_len` tokens are not cut: they are left out and counted.
Batches are drawn from a generator seeded by (seed, step, rank), so a resumed run sees exactly the batches it would
have seen, with no data-loader state to save.

Crop sources (`crops`): fresh rows of the exact-computable tasks cut from the train rows' own sequences (a random
window, in frame for translation), asked with the grammar and answered by the task's exact rule. One train row then
gives many questions of many lengths, and the window's longest length grows with the run's progress (a length
curriculum: short copies teach the alignment, long ones the task's full range). Only train rows are ever cut.
Reading comprehension has its own crops (`FieldCropSource`): train records whose field values are shuffled between
records (coordinates redrawn), so an answer can only be read back from the prompt, never recalled from the gene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from tasks import Task, exact_answer, get_task, render_prompt
from tasks.benchmarks import DATASETS, config_tasks
from tasks.grammar import read_fields

from ..loop import collate_weighted

TRAIN_SPLIT = "train"


@dataclass
class Source:
    name: str
    ids: np.ndarray  # flat int32 token ids of all examples
    offsets: np.ndarray  # example i is ids[offsets[i]:offsets[i+1]]
    prompt_lens: np.ndarray
    dropped_for_length: int = 0

    def __len__(self) -> int:
        return len(self.prompt_lens)

    def example(self, i: int) -> tuple[np.ndarray, int]:
        return self.ids[self.offsets[i] : self.offsets[i + 1]], int(self.prompt_lens[i])

    def draw(self, rng: np.random.Generator, progress: float) -> tuple[np.ndarray, int]:
        return self.example(int(rng.integers(len(self))))


def field_answer_ids(tok, answers: list[str]) -> list[list[int]]:
    """Answers read back from a field, each as a space and then the value's ids as the prompt has them after "="
    (the value cut alone), and eos: answer token j + 1 is the value's token j, the constant alignment the pointer
    heads copy along (`modeling/positions_genomicllm.py`). The tokenizer's own cut of " PSMF1" (" PS", "MF1") shares
    no token boundary with the value's ("PS", "MF", "1") in a third of the gene symbols."""
    space = tok(" ", add_special_tokens=False)["input_ids"]
    values = tok(answers, add_special_tokens=False)["input_ids"]
    return [space + ids + [tok.eos_token_id] for ids in values]


def encode_rows(tok, prompts: list[str], answers: list[str], field: bool = False) -> list[tuple[list[int], int]]:
    """Rows as `<s> prompt answer</s>` ids and their number of prompt tokens: the tokenizer's (prompt, answer) pair,
    or for answers read back from a field, the prompt then `field_answer_ids`."""
    if field:
        heads = tok(prompts)["input_ids"]
        return [(h + a, len(h)) for h, a in zip(heads, field_answer_ids(tok, answers))]
    enc = tok(prompts, [" " + a for a in answers], return_token_type_ids=True)
    return [(ids, types.index(1)) for ids, types in zip(enc["input_ids"], enc["token_type_ids"])]


def encode_row(tok, prompt: str, answer: str, field: bool = False) -> tuple[np.ndarray, int]:
    """One made-up row, as `tokenize_rows` encodes the train splits: the ids and the number of prompt tokens."""
    ids, n_prompt = encode_rows(tok, [prompt], [answer], field)[0]
    return np.asarray(ids, dtype=np.int32), n_prompt


class MadeUpSource:
    """What the sources that make rows up share: `draw` calls `_make`; as with the train splits, a row over
    `max_tokens` is never cut: it is left out, counted in `dropped_for_length`, and drawn again (`too_long` says
    what to change when 100 in a row are). Their sequence windows follow a length curriculum: the longest grows
    linearly from `start_len` to `max_len` over the first `ramp` of the run (then stays)."""

    def longest(self, progress: float) -> int:
        grown = self.start_len + (self.max_len - self.start_len) * min(1.0, progress / self.ramp)
        return int(min(self.max_len, grown))

    def draw(self, rng: np.random.Generator, progress: float) -> tuple[np.ndarray, int]:
        for _ in range(100):
            ids, n_prompt = self._make(rng, progress)
            if self.max_tokens is None or len(ids) <= self.max_tokens:
                return ids, n_prompt
            self.dropped_for_length += 1
        raise ValueError(self.too_long())


@dataclass
class CropSource(MadeUpSource):
    """Rows of an exact task cut on the fly from train sequences: window length uniform in [min_len, longest], where
    longest grows linearly from `start_len` to `max_len` over the first `ramp` of the run (then stays)."""

    name: str
    task: Task
    sequences: list[str]
    tok: object
    min_len: int = 12
    start_len: int = 48
    max_len: int = 300
    ramp: float = 0.3
    frame: int = 1  # windows start and end on multiples of this (3: translation stays in frame)
    max_tokens: int | None = None  # the mixture's max_len: a longer row is drawn again, and counted
    dropped_for_length: int = 0

    def __len__(self) -> int:
        return len(self.sequences)

    def too_long(self) -> str:
        return (f"{self.name}: 100 crops in a row exceeded {self.max_tokens} tokens; lower the crops' max_len "
                f"({self.max_len} bases) or raise the training max_len")

    def window(self, rng: np.random.Generator, progress: float) -> str:
        """A window of a random train sequence, of a random length the curriculum allows at `progress`."""
        seq = self.sequences[int(rng.integers(len(self)))]
        f = self.frame
        longest = min(self.longest(progress), len(seq)) // f
        shortest = min(-(-self.min_len // f), longest)
        n = int(rng.integers(shortest, longest + 1)) * f
        start = int(rng.integers(0, (len(seq) - n) // f + 1)) * f
        return seq[start : start + n]

    def _make(self, rng: np.random.Generator, progress: float) -> tuple[np.ndarray, int]:
        window = self.window(rng, progress)
        return encode_row(self.tok, render_prompt(self.task, window), exact_answer(self.task, window))


@dataclass
class FieldCropSource(MadeUpSource):
    """Reading-comprehension rows made from the train records: the fields of one record, each value taken from
    another random record (integers, the coordinates, redrawn: a start, and an end up to 2 Mb after it), a window
    of a train sequence, a random field asked, answered by the exact rule (the field read back). Thousands of
    records then teach copying a value out of the prompt rather than the genes' own values. The window starts short
    (8-24 bases: rows of ~60 tokens, three times as many questions per CPU-second as full records) and grows to
    the whole sequence over the first `ramp` of the run."""

    name: str
    task: Task
    records: list[tuple[str, dict]]  # (sequence, fields) of the train rows
    tok: object
    min_len: int = 8
    start_len: int = 24
    max_len: int = 200
    ramp: float = 0.3
    max_tokens: int | None = None
    dropped_for_length: int = 0

    def __len__(self) -> int:
        return len(self.records)

    def too_long(self) -> str:
        return f"{self.name}: 100 rows in a row exceeded {self.max_tokens} tokens"

    def _pick(self, rng: np.random.Generator) -> tuple[str, dict]:
        return self.records[int(rng.integers(len(self)))]

    def _make(self, rng: np.random.Generator, progress: float) -> tuple[np.ndarray, int]:
        seq, layout = self._pick(rng)
        longest = min(self.longest(progress), len(seq))
        n = int(rng.integers(min(self.min_len, longest), longest + 1))
        start = int(rng.integers(0, len(seq) - n + 1))
        fields, begin = {}, int(rng.integers(1, 250_000_000))
        for key, value in layout.items():
            if isinstance(value, int):  # start, then end: a made-up gene's coordinates
                fields[key], begin = begin, begin + int(rng.integers(50, 2_000_000))
            else:
                fields[key] = self._pick(rng)[1].get(key, value)
        question = str(rng.choice(list(fields)))
        return encode_row(self.tok, render_prompt(self.task, seq[start:start + n], fields, question),
                          exact_answer(self.task, seq, fields, question), field=True)


# The exact tasks cut into crops, from which corpus config, and the window frame.
CROPS = {"reverse": ("reverse_complement", 1), "complement": ("reverse_complement", 1),
         "reverse_complement": ("reverse_complement", 1), "nt2aa": ("nt2aa", 3), "gc_content": ("gc_content", 1)}
FIELD_CROPS = {"reading_comprehension": "reading_comprehension"}  # field-reading tasks: their corpus config


def crop_sources(root: Path, tok, tasks: list[str], max_len: int = 300,
                 max_tokens: int | None = None) -> list[CropSource]:
    """One crop source per task, over the train sequences of the corpus config that holds it (windows of up to
    `max_len` bases; rows of up to `max_tokens` tokens)."""
    out = []
    for name in tasks:
        if name in FIELD_CROPS:
            df = pd.read_parquet(root / "GenomicLLM_GRCh38" / "data" / FIELD_CROPS[name] / f"{TRAIN_SPLIT}.parquet",
                                 columns=["sequence", "fields"])
            records = list(zip(df["sequence"], (read_fields(f) for f in df["fields"])))
            out.append(FieldCropSource(f"crops/{name}", get_task(name), records, tok, max_tokens=max_tokens))
            continue
        if name not in CROPS:
            raise ValueError(f"no crop source for {name!r}; crops exist for {sorted({**CROPS, **FIELD_CROPS})}")
        config, frame = CROPS[name]
        df = pd.read_parquet(root / "GenomicLLM_GRCh38" / "data" / config / f"{TRAIN_SPLIT}.parquet",
                             columns=["task", "sequence"])
        seqs = df.loc[df["task"] == name, "sequence"].tolist()
        out.append(CropSource(f"crops/{name}", get_task(name), seqs, tok, max_len=max_len, frame=frame,
                              max_tokens=max_tokens))
    return out


@dataclass
class Mixture:
    sources: list[Source | CropSource]
    temperature: float = 0.5
    source_weights: dict[str, float] = field(default_factory=dict)
    weights: np.ndarray = field(init=False)

    def __post_init__(self):
        unknown = sorted(set(self.source_weights) - {s.name for s in self.sources})
        if unknown:
            raise ValueError(f"source_weights names sources not in the mixture: {unknown}")
        sizes = np.array([len(s) for s in self.sources], dtype=float)
        factors = np.array([self.source_weights.get(s.name, 1.0) for s in self.sources], dtype=float)
        w = sizes ** self.temperature * factors
        self.weights = w / w.sum()

    def table(self) -> list[dict]:
        return [{"source": s.name, "rows": len(s), "weight": round(float(w), 4), "dropped_for_length": s.dropped_for_length}
                for s, w in zip(self.sources, self.weights)]

    def sample(self, rng: np.random.Generator, tokens: int, progress: float = 0.0) -> list[tuple[np.ndarray, int]]:
        """Examples until about `tokens` tokens (at least one); `progress` (0..1) sets the crops' lengths."""
        return [ex for _, ex in self.sample_named(rng, tokens, progress)]

    def sample_named(self, rng: np.random.Generator, tokens: int,
                     progress: float = 0.0) -> list[tuple[str, tuple[np.ndarray, int]]]:
        """`sample`'s examples, each with the name of its source."""
        out, n = [], 0
        while n < tokens:
            src = self.sources[rng.choice(len(self.sources), p=self.weights)]
            ex = src.draw(rng, progress)
            out.append((src.name, ex))
            n += len(ex[0])
        return out


def tokenize_rows(name: str, prompts: list[str], answers: list[str], tok, max_len: int,
                  field: bool = False) -> Source:
    """Each row as `encode_rows` cuts it: `<s> prompt answer</s>` (answers read back from a field: `field`), with its
    number of prompt tokens, the one prompt/answer split from tokenizer to loss."""
    seqs, plens, dropped = [], [], 0
    for ids, n_prompt in encode_rows(tok, prompts, answers, field):
        if len(ids) > max_len:
            dropped += 1
            continue
        seqs.append(ids)
        plens.append(n_prompt)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = np.fromiter((t for s in seqs for t in s), dtype=np.int32, count=int(offsets[-1]))
    return Source(name, flat, offsets, np.array(plens, dtype=np.int32), dropped)


def load_mixture(root: Path, tok, max_len: int, temperature: float = 0.5, max_rows_per_source: int | None = None,
                 only: list[str] | None = None, seed: int = 0,
                 source_weights: dict[str, float] | None = None, crops: list[str] | None = None) -> Mixture:
    sources = []
    for dataset in DATASETS:
        for path in sorted((root / dataset / "data").glob(f"*/{TRAIN_SPLIT}.parquet")):
            name = f"{dataset}/{path.parent.name}"
            if only and name not in only:
                continue
            df = pd.read_parquet(path, columns=["prompt", "answer"])
            df = df[df["prompt"].str.len() > 0]  # configs without a task (GB demo sets) have no prompts
            if max_rows_per_source and len(df) > max_rows_per_source:
                df = df.sample(n=max_rows_per_source, random_state=seed)
            if len(df):
                field = {get_task(t).answer == "field" for t in config_tasks(dataset, path.parent.name)}
                if len(field) > 1:
                    raise ValueError(f"{name}: mixes answers read back from fields with others")
                sources.append(tokenize_rows(name, df["prompt"].tolist(), df["answer"].tolist(), tok, max_len,
                                             field == {True}))
    if not sources:
        raise FileNotFoundError(f"no train splits under {root}: run `make datasets` first")
    sources += crop_sources(root, tok, crops or [], max_tokens=max_len)
    return Mixture(sources, temperature, dict(source_weights or {}))


def collate(examples: list[tuple[np.ndarray, int]], pad_id: int, prompt_weight: float,
            row_balance: float = 0.0) -> dict[str, torch.Tensor]:
    """Right-padded batch: input_ids, attention_mask, per-token loss weights aligned with input_ids, and each row's
    prompt length (tokens before the answer).

    `row_balance` b scales each row's answer tokens by (answer tokens)^-b and its prompt tokens by (prompt
    tokens)^-b: at 0 every token counts alike, so a 300-base copy answer outweighs a 1-token label 300 to 1 in the
    step's loss; at 1 every row's answer weighs 1 in all and its prompt `prompt_weight`, whatever their lengths.
    """
    weighted = []
    for ids, n_prompt in examples:
        n_answer = len(ids) - n_prompt
        w = np.full(len(ids), float(n_answer) ** -row_balance, dtype=np.float32)
        w[:n_prompt] = prompt_weight * float(max(n_prompt, 1)) ** -row_balance
        weighted.append((ids, w))
    return {**collate_weighted(weighted, pad_id),
            "prompt_lengths": torch.tensor([n for _, n in examples], dtype=torch.long)}


