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


def load_model(location: str | Path | None = None, revision: str | None = None):
    """(tokenizer, model) from a local folder or a Hub id (at `revision`), loaded as users load it:
    AutoTokenizer / AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True). Default: DEFAULT_MODEL."""
    location = str(location or DEFAULT_MODEL)
    if Path(location).expanduser().is_dir():
        location = str(Path(location).expanduser())
    elif location.startswith((".", "/", "~")) or Path(location).suffix:
        raise SystemExit(f"{location}: no model folder there (the repository ships release/GenomicLLM)")
    return load(location, revision)


def parse_question(text: str) -> tuple[str, str]:
    """(task, sequence) from a command-line question: the prompt grammar ("ACGT..., GC content =") or words with the
    DNA in them ("reverse complement of ACGT..."), routed by the Space's keyword rules."""
    from dataset_scripts.tasks import TASKS

    from .router import route

    TASK_NAMES = [t for t in TASKS if t != "reading_comprehension"]
    r = route(text)
    if r.task is None:
        raise ValueError(f"could not tell which task {text[:60]!r} asks for; pass --task (one of: "
                         f"{', '.join(TASK_NAMES)})")
    if not r.sequence:
        raise ValueError("no DNA sequence (8 or more letters A C G T N) found in the question")
    return r.task, r.sequence


def main(argv: list[str] | None = None) -> int:
    """`python -m space.ask "ACGT..., GC content ="` or `python -m space.ask --task gc_content ACGT...`"""
    import argparse
    import os

    from dataset_scripts.tasks import TASKS
    from finetune.exact import RULES, exact_answer

    p = argparse.ArgumentParser(prog="python -m space.ask", description=main.__doc__)
    p.add_argument("question", nargs="+", help="a question in the prompt grammar or in words, or (with --task) the "
                   "sequence; '-' reads the sequence from standard input")
    p.add_argument("--task", choices=[t for t in TASKS if t != "reading_comprehension"])
    p.add_argument("--model", default=os.environ.get("GENOMICLLM_MODEL") or str(DEFAULT_MODEL))
    p.add_argument("--revision", default=os.environ.get("GENOMICLLM_REVISION"))
    args = p.parse_args(argv)
    import sys

    text = sys.stdin.read() if args.question == ["-"] else " ".join(args.question)
    try:
        task, sequence = (args.task, text) if args.task else parse_question(text)
        tok, model = load_model(args.model, args.revision)
        a = ask(tok, model, task, sequence)
    except (ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{a.prompt} {a.text}" if len(a.prompt) < 200 else f"[{task}] {a.text}")
    if not a.ok:
        print(f"(the answer is unparseable: {a.value.reason})")
    if task in RULES:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exact = exact_answer(task, clean(tok, sequence))
        same = a.ok and (abs(float(a.value) - float(exact)) <= 0.01 if task == "gc_content"
                         else a.value == parse_answer(task, exact))
        print(f"exact: {exact}  ({'agrees' if same else 'DISAGREES'})")
    return 0


__all__ = ["DEFAULT_MODEL", "Answer", "QuestionTooLongError", "ask", "clean", "load", "load_model", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
