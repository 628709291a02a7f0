"""Ask GenomicLLM one question about one sequence: the path the demo and the Space share.

`ask(tok, model, task, sequence)` cleans the pasted sequence (FASTA header, spaces, line breaks, lower case, RNA U),
renders the question with the prompt grammar, refuses a question that does not fit the model's context (naming both
lengths; nothing is truncated), answers by greedy generation and parses the answer with the grammar.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataset_scripts.grammar import Unparseable, parse_answer, render_prompt
from dataset_scripts.tasks import get_task
from finetune.evaluate import answer_tokens, generate, load

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "release" / "GenomicLLM"


class QuestionTooLongError(ValueError):
    """Prompt + answer would exceed the model's context."""


@dataclass(frozen=True)
class Answer:
    task: str
    prompt: str
    text: str  # the model's raw answer
    value: Any  # parsed: label, number, sequence, protein (1-letter) or text; an Unparseable when it could not be

    @property
    def ok(self) -> bool:
        return not isinstance(self.value, Unparseable)


def clean(tok, sequence: str) -> str:
    """A pasted sequence or FASTA record as the grammar writes it; a clear SequenceFormatError otherwise."""
    return tok.normalize_sequence(sequence)


def ask(tok, model, task: str, sequence: str | None, fields: dict | None = None, question: str | None = None) -> Answer:
    get_task(task)  # unknown task: KeyError naming the known ones
    seq = clean(tok, sequence) if sequence else None
    prompt = render_prompt(task, seq, fields, question)
    budget = answer_tokens(tok, task, seq)
    limit = model.config.max_position_embeddings
    n_prompt = len(tok(prompt)["input_ids"])  # over the context already: the tokenizer's SequenceTooLongError
    if n_prompt + budget > limit:
        raise QuestionTooLongError(
            f"the question is {n_prompt} tokens and its answer may need {budget} more, over the model's {limit}-token "
            "context; nothing was truncated. Ask about a shorter piece of the sequence.")
    text = generate(model, tok, [prompt], [budget], batch_size=1)[0]
    return Answer(task, prompt, text.strip(), parse_answer(task, text))


__all__ = ["Answer", "DEFAULT_MODEL", "QuestionTooLongError", "ask", "clean", "load"]
