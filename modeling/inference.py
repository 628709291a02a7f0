"""Ask a released GenomicLLM: load it the way users do, generate greedily, budget and parse the answer.

`load(folder_or_hub_id)` is `AutoTokenizer` / `AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True)`;
`generate` answers a batch of prompts greedily (left-padded, length-sorted batches, stop at eos); `answer_tokens`
is how many new tokens an answer may need, from the task's answer kind; `ask(tok, model, task, sequence)` cleans a
pasted sequence (FASTA header, spaces, line breaks, lower case, RNA U), renders the question with the prompt grammar,
refuses a question that does not fit the model's context (naming both lengths; nothing is truncated), answers and
parses the answer with the grammar; a classification question is answered with its most probable label
(`modeling.scores`: the task's label head where the model has one), a regression question (GC content) with its
value head's reading where the model has one. Evaluation, the Space and the `genomicllm` command all answer through
here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from modeling.scores import checked_benchmark, head, label_probabilities, values
from tasks import Task, Unparseable, get_task, parse_answer, render_answer, render_prompt
from tasks.paths import SHIPPED_MODEL

TEXT_ANSWER_TOKENS = 96  # descriptions, names: the longest in the corpus is ~80 tokens
PROMPT_OVERHEAD = 40  # tokens of a question besides its bases (<s>, the phrase, " =") and of a short answer


class QuestionTooLongError(ValueError):
    """Prompt + answer would exceed the model's context."""


class SequenceTooShortError(ValueError):
    """A sequence the tokenizer's DNA-run rule reads as a word, not as bases (`tokenizer/rule.py`)."""


@dataclass(frozen=True)
class Answer:
    task: str
    prompt: str
    text: str  # the model's raw answer (a classification's: its most probable label)
    value: Any  # parsed: label, number, sequence, protein (1-letter) or text; an Unparseable when it could not be
    probabilities: dict[str, float] | None = None  # a classification's: each label's

    @property
    def ok(self) -> bool:
        return not isinstance(self.value, Unparseable)


def load(model_dir: Path | str, revision: str | None = None):
    """(tokenizer, model) of a release folder or Hub id, loaded the way users load it (remote code)."""
    tok = AutoTokenizer.from_pretrained(model_dir, revision=revision, trust_remote_code=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, revision=revision, trust_remote_code=True)
    return tok, model.eval()


def load_model(location: str | Path | None = None, revision: str | None = None):
    """`load` of a local folder or a Hub id (at `revision`); default: the shipped model. A path that is not a
    folder is an error naming it, not a Hub lookup."""
    location = str(location or SHIPPED_MODEL)
    if Path(location).expanduser().is_dir():
        location = str(Path(location).expanduser())
    elif location.startswith((".", "/", "~")) or Path(location).suffix:
        raise SystemExit(f"{location}: no model folder there (the repository ships release/GenomicLLM)")
    return load(location, revision)


@torch.no_grad()
def generate(model, tok, prompts: list[str], max_new_tokens: list[int], batch_size: int = 32,
             add_special_tokens: bool = True) -> list[str]:
    """Greedy answers; prompts are sorted by length so batches carry little padding, then put back in order.
    `add_special_tokens=False` for prompts that already hold them (rendered chat templates)."""
    tok.padding_side = "left"
    order = np.argsort([len(p) for p in prompts], kind="stable")
    out: list[str] = [""] * len(prompts)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        enc = tok([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=add_special_tokens)
        limit = max(max_new_tokens[i] for i in idx)
        ids = model.generate(**enc, max_new_tokens=limit, do_sample=False, eos_token_id=tok.eos_token_id,
                             pad_token_id=tok.pad_token_id)
        texts = tok.batch_decode(ids[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
        for i, text in zip(idx, texts):
            out[i] = text
    return out


@torch.no_grad()
def head_probabilities(model, tok, prompts: list[str], batch_size: int = 32) -> np.ndarray:
    """(prompts, labels) class probabilities of a classification-head model (right-padded batches; its pooling
    reads the last real token)."""
    tok.padding_side = "right"
    out = []
    for start in range(0, len(prompts), batch_size):
        enc = tok(prompts[start : start + batch_size], return_tensors="pt", padding=True)
        logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
        out.append(logits.float().softmax(-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.num_labels))


def dna_kmer(tok) -> int:
    """Bases per DNA token of a k-mer tokenizer (k), else 1: read from the tokenizer's config, so a folder loaded
    with or without its remote code gives the same answer."""
    kwargs = getattr(tok, "init_kwargs", None) or {}
    k = kwargs.get("dna_kmer")
    return int(k) if kwargs.get("dna_scheme") == "kmer" and k else 1


def window_align(tok) -> int:
    """Windows start at multiples of this: the codon (3) and, for a k-mer tokenizer, k (its cut stays in frame)."""
    return math.lcm(3, dna_kmer(tok))


def window_size(tok, model, task: str | Task) -> int:
    """Bases per window for `task`: what fits the model's context together with the answer's budget (a DNA answer
    is as long as its question, a protein one a third of it, a text one TEXT_ANSWER_TOKENS), for this tokenizer's
    bases per token (k for a k-mer tokenizer, at 90% to be safe; 1 per base)."""
    t = get_task(task)
    k = dna_kmer(tok)
    per_token = 0.9 * k if k > 1 else 1.0
    room = model.config.max_position_embeddings - PROMPT_OVERHEAD
    tokens = {"dna": room / 2, "protein": room / (1 + per_token / 3), "text": room - TEXT_ANSWER_TOKENS}
    bases = int(tokens.get(t.answer, room) * per_token)
    align = window_align(tok)
    return max(align, bases // align * align)


def answer_tokens(tok, task: str | Task, sequence: str | None = None) -> int:
    """New tokens an answer may need when the gold one is unknown, from the task's answer kind: the longest label
    + 2, a number, about the sequence's own length (DNA), one per residue (protein), or a text budget."""
    t = get_task(task)
    if t.answer == "label":
        return max(len(tok(" " + label, add_special_tokens=False)["input_ids"]) for label in t.labels) + 2
    if t.answer == "number":
        return 8
    if t.answer == "dna":
        return len(tok(" " + (sequence or ""), add_special_tokens=False)["input_ids"]) + 8
    if t.answer == "protein":
        return len(sequence or "") // 3 + 8
    return TEXT_ANSWER_TOKENS


def shortest_dna(tok, letter: str = "A") -> int | None:
    """The fewest letters, one of them `letter`, the rest A, that the tokenizer reads as bases: its DNA-run rule
    (`tokenizer/rule.py`, 8 letters, 20 with an IUPAC code), probed through the tokenizer, which carries the rule in
    its own `tokenizer.json`; None where no run of up to 64 is."""
    return next((n for n in range(1, 65) if tok.find_dna_spans(letter + "A" * (n - 1)) == [(0, n)]), None)


def clean(tok, sequence: str) -> str:
    """A pasted sequence or FASTA record as the grammar writes it; a clear SequenceFormatError otherwise, and a
    SequenceTooShortError where the tokenizer would read it as a word: the rule that keeps CAT, GATA or TATA text
    in a sentence reads a sequence as bases only from 8 letters, and the model's answers about a word are noise
    (reverse and complement of 3-6 bases: 0 to 11 in 100 right, `studies/results/short_lengths.md`)."""
    seq = tok.normalize_sequence(sequence)
    if tok.find_dna_spans(seq) != [(0, len(seq))]:
        rare = next((c for c in seq if c not in "ACGTUN"), None)  # an IUPAC code: a longer run is needed
        need = f"{shortest_dna(tok, rare)} letters with IUPAC codes such as {rare}" if rare else \
            f"{shortest_dna(tok)} letters"
        raise SequenceTooShortError(
            f"{seq} ({len(seq)} letters) is too short to be read as DNA: the tokenizer reads a sequence as bases from "
            f"{need}, and a shorter one as a word (so that CAT or TATA in a sentence stay words); the model cannot "
            "answer about it. Ask about a longer piece of the sequence.")
    return seq


def ask(tok, model, task: str | Task, sequence: str | None, fields: dict | None = None,
        question: str | None = None, benchmark: str | None = None) -> Answer:
    """The model's answer to `task` about `sequence` (cleaned here; with `fields`, and a reading-comprehension
    `question`): a classification by its most probable label, from the head fitted on `benchmark` where given (one of
    `scores.own_heads`: a GUE TF set, a histone mark, ...; else the task's head, fitted on all of them)."""
    task = get_task(task)  # unknown task: KeyError naming the known ones
    benchmark = checked_benchmark(model, task, benchmark)
    seq = clean(tok, sequence) if sequence else None
    prompt = render_prompt(task, seq, fields, question)
    budget = answer_tokens(tok, task, seq)
    limit = model.config.max_position_embeddings
    n_prompt = len(tok(prompt)["input_ids"])  # over the context already: the tokenizer's SequenceTooLongError
    if n_prompt + budget > limit:
        raise QuestionTooLongError(
            f"the question is {n_prompt} tokens and its answer may need {budget} more, over the model's {limit}-token "
            "context; nothing was truncated. Ask about a shorter piece of the sequence.")
    if task.kind == "classify":  # the most probable label (the task's label head where the model has one)
        probs = label_probabilities(model, tok, task, seq, fields, benchmark)
        best = max(probs, key=probs.get)
        return Answer(task.name, prompt, best, best, probs)
    if task.kind == "regress" and head(model, task) is not None:  # the value head's reading, in the grammar's digits
        text = render_answer(task, float(values(model, tok, task, [seq], [fields])[0]))
        return Answer(task.name, prompt, text, parse_answer(task, text))
    text = generate(model, tok, [prompt], [budget], batch_size=1)[0]
    return Answer(task.name, prompt, text.strip(), parse_answer(task, text))


__all__ = ["Answer", "QuestionTooLongError", "SequenceTooShortError", "answer_tokens", "ask", "clean", "dna_kmer",
           "generate", "head_probabilities", "load", "load_model", "shortest_dna"]


def load_adapter(adapter: Path | str, base: Path | str | None = None, revision: str | None = None,
                 base_revision: str | None = None, merge: bool = True):
    """(tokenizer, model, task, meta) of a folder or Hub id written by `genomicllm finetune`: its own task
    (`tasks.custom`, from genomicllm_task.json), and the model — a full fine-tune as saved, or the peft LoRA put on
    the base (`base`, default: $GENOMICLLM_MODEL or the shipped model), merged into it unless `merge=False`. A
    `head` task's model is `AutoModelForSequenceClassification` (logits per label); a base of another shape than
    the adapter's is an error, other weights of the same shape a warning."""
    import warnings

    from transformers import AutoModelForSequenceClassification

    from tasks.custom import read_task_file
    from tasks.paths import model_location

    folder = Path(str(adapter)).expanduser()
    if not folder.is_dir():
        if str(adapter).startswith((".", "/", "~")) or folder.suffix:
            raise SystemExit(f"{adapter}: no adapter folder there")
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(str(adapter), revision=revision))
    task, meta = read_task_file(folder)
    auto = AutoModelForSequenceClassification if meta["objective"] == "head" else AutoModelForCausalLM
    tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    if not (folder / "adapter_config.json").is_file():  # a full fine-tune: a model folder of its own
        return tok, without_heads(auto.from_pretrained(folder, trust_remote_code=True).eval()), task, meta
    from peft import PeftModel

    where, where_revision = (str(base), base_revision) if base else model_location()
    where = str(Path(where).expanduser()) if Path(where).expanduser().is_dir() else where
    extra = {"num_labels": len(task.labels)} if meta["objective"] == "head" else {}
    model = auto.from_pretrained(where, revision=where_revision, trust_remote_code=True, **extra)
    facts = meta.get("base") or {}
    differ = {k: (v, getattr(model.config, k, None)) for k, v in (facts.get("shape") or {}).items()
              if v is not None and getattr(model.config, k, None) != v}
    if differ:
        raise ValueError(f"{adapter} was trained on a base of another shape than {where}: "
                         + ", ".join(f"{k} {a} there, {b} here" for k, (a, b) in differ.items())
                         + f"; give its base ({meta.get('base_model')}) with --model")
    weights = Path(where) / "model.safetensors"
    if facts.get("weights_sha256") and weights.is_file():
        import hashlib

        with weights.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        if digest != facts["weights_sha256"]:
            warnings.warn(f"{where} has other weights than the base {adapter} was trained on "
                          f"({meta.get('base_model')}); its answers may be wrong", stacklevel=2)
    with warnings.catch_warnings():  # peft asks transformers a deprecated question (is_gradient_checkpointing)
        warnings.simplefilter("ignore", FutureWarning)
        model = PeftModel.from_pretrained(model, folder)
    return tok, without_heads((model.merge_and_unload() if merge else model).eval()), task, meta


def without_heads(model):
    """An adapted model's states are not the base's: the base's heads (config) would misread them, in `ask` as in
    `generate`."""
    model.config.label_heads = model.config.value_heads = model.config.head_convs = None
    if hasattr(model, "head_convs"):  # their motif readers too (weights that would otherwise travel unread)
        model.head_convs = torch.nn.ModuleDict()
    return model


__all__ += ["load_adapter", "without_heads"]
