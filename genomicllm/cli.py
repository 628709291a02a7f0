"""The `genomicllm` command: ask the shipped model a question, score it on a labelled file, serve the Space.

    genomicllm ask "ACGTTGCAAGGCT, GC content ="        # the prompt grammar, or words: "reverse complement of ACGT…"
    genomicllm ask --task gc_content ACGTTGCAAGGCT      # a task by name and a sequence ('-' reads standard input)
    genomicllm score --task promoter --data my.csv      # metrics (accuracy, mcc, …) of a labelled file, as JSON
    genomicllm serve                                    # the Gradio Space on http://127.0.0.1:7860

Each subcommand imports only what it needs (`ask` loads no Gradio, `serve` no dataset code). `--model` takes a
local release folder or a Hub id (default: the shipped release/GenomicLLM, or $GENOMICLLM_MODEL).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from tasks import SEQUENCE_TASKS, exact_answer, get_task, parse_answer
from tasks.metrics import agrees
from tasks.paths import model_location
from tasks.router import route


def parse_question(text: str) -> tuple[str, str]:
    """(task, sequence) from a question in the prompt grammar ("ACGT..., GC content =") or in words with the DNA in
    them ("reverse complement of ACGT..."), routed by the shared keyword rules (`tasks.router`)."""
    r = route(text)
    if r.task is None:
        raise ValueError(f"could not tell which task {text[:60]!r} asks for; pass --task (one of: "
                         f"{', '.join(SEQUENCE_TASKS)})")
    if not r.sequence:
        raise ValueError("no DNA sequence (8 or more letters A C G T N) found in the question")
    return r.task, r.sequence


def cmd_ask(args) -> int:
    from transformers.utils.logging import disable_progress_bar

    from modeling.inference import ask, clean, load_model

    disable_progress_bar()  # one answer on stdout, no "Loading weights" bar on stderr
    text = sys.stdin.read() if args.question == ["-"] else " ".join(args.question)
    try:
        task, sequence = (args.task, text) if args.task else parse_question(text)
        task = get_task(task)
        tok, model = load_model(args.model, args.revision)
        a = ask(tok, model, task, sequence)
    except (ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{a.prompt} {a.text}" if len(a.prompt) < 200 else f"[{task.name}] {a.text}")
    if not a.ok:
        print(f"(the answer is unparseable: {a.value.reason})")
    if task.rule is not None:
        with warnings.catch_warnings():  # Biopython warns on a partial codon; the rule's answer is still shown
            warnings.simplefilter("ignore")
            exact = exact_answer(task, clean(tok, sequence))
        same = agrees(task, a.value, parse_answer(task, exact))
        print(f"exact: {exact}  ({'agrees' if same else 'DISAGREES'})")
    return 0


def cmd_score(args) -> int:
    from finetune.evaluation.evaluate import score_file

    print(json.dumps(score_file(args.model, args.task, args.data), indent=1))
    return 0


def cmd_serve(args) -> int:
    from space.app import main as serve

    serve(["--model", args.model, *(["--revision", args.revision] if args.revision else []), *args.space_args])
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genomicllm", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n")[1])
    sub = p.add_subparsers(dest="command", required=True, metavar="{ask,score,serve}")

    def common(sp):
        sp.add_argument("--model", default=model_location()[0], help="release folder or Hub id (default: %(default)s)")
        sp.add_argument("--revision", default=model_location()[1],
                        help="Hub revision (commit sha or tag) to load")

    a = sub.add_parser("ask", help="answer one question about one sequence",
                       description="Answer one question greedily; for exact-computable tasks also print the rule's "
                                   "answer and whether the model agrees.")
    a.add_argument("question", nargs="+", help="a question in the prompt grammar or in words, or (with --task) the "
                   "sequence; '-' reads it from standard input")
    a.add_argument("--task", choices=SEQUENCE_TASKS, help="the task, when the question is only a sequence")
    common(a)
    a.set_defaults(run=cmd_ask)

    s = sub.add_parser("score", help="score the model on a labelled file",
                       description="Answer every row of a CSV/TSV/parquet file with `sequence` and `label` columns "
                                   "(labels as the task writes them) and print the task's metrics as JSON.")
    s.add_argument("--task", required=True, choices=SEQUENCE_TASKS)
    s.add_argument("--data", required=True, type=Path)
    common(s)
    s.set_defaults(run=cmd_score)

    v = sub.add_parser("serve", help="serve the Gradio Space",
                       description="Serve the Space on the model; options after `--` go to the app "
                                   "(e.g. genomicllm serve -- --port 8080).")
    common(v)
    v.add_argument("space_args", nargs=argparse.REMAINDER, help="options for the app (see python -m space.app -h)")
    v.set_defaults(run=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "space_args", None) and args.space_args[0] == "--":
        args.space_args = args.space_args[1:]
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
