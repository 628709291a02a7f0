"""The `genomicllm` command: ask the shipped model a question, score it on a labelled file, fine-tune it on your own
task and share the result, serve the Space.

    genomicllm ask "ACGTTGCAAGGCT, GC content ="        # the prompt grammar, or words: "reverse complement of ACGT…"
    genomicllm ask --task gc_content ACGTTGCAAGGCT      # a task by name and a sequence ('-' reads standard input)
    genomicllm score --task promoter --data my.csv      # metrics (accuracy, mcc, …) of a labelled file, as JSON
    genomicllm ask --task histone_mark --benchmark GUE/emp_H3K4me3 ACGT…   # the head fitted on one benchmark
    genomicllm finetune --data my.csv --task-name my_task --out adapters/my_task   # LoRA on your labels + a card
    genomicllm ask --adapter adapters/my_task ACGTTGCA…  # your task's answer (and its label probabilities)
    genomicllm score --adapter adapters/my_task --data more.csv
    genomicllm push adapters/my_task --repo user/name   # to the Hub (a dry run listing the files without $HF_TOKEN)
    genomicllm serve                                    # the Gradio Space on http://127.0.0.1:7860
    genomicllm chat "what's the GC content of ACGTTGCAAGG?"   # the assistant (no question: a conversation)

Each subcommand imports only what it needs (`ask` loads no Gradio, `serve` no dataset code). `--model` takes a
local release folder or a Hub id (default: the shipped release/GenomicLLM, or $GENOMICLLM_MODEL); with `--adapter`
it is the base the adapter goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from tasks import SEQUENCE_TASKS, exact_answer, get_task, parse_answer
from tasks.grammar import parse_field_question
from tasks.metrics import agrees
from tasks.paths import model_location
from tasks.router import Route, route


def parse_question(text: str) -> Route:
    """The task, sequence (and a histone mark's benchmark) of a question in the prompt grammar ("ACGT..., GC content
    =") or in words with the DNA in them ("reverse complement of ACGT..."), routed by the shared keyword rules
    (`tasks.router`)."""
    r = route(text)
    if r.task is None:
        raise ValueError(f"could not tell which task {text[:60]!r} asks for; pass --task (one of: "
                         f"{', '.join(SEQUENCE_TASKS)})")
    if not r.sequence:
        raise ValueError("no DNA sequence (8 or more letters A C G T N) found in the question")
    return r


def cmd_ask(args) -> int:
    from transformers.utils.logging import disable_progress_bar

    from modeling.inference import ask, clean, load_model
    from modeling.scores import head_note, own_heads

    disable_progress_bar()  # one answer on stdout, no "Loading weights" bar on stderr
    text = sys.stdin.read() if args.question == ["-"] else " ".join(args.question)
    if args.adapter and args.benchmark:
        return refuse_benchmark_with_adapter()
    if args.adapter:
        return ask_adapter(args, text)
    benchmark = args.benchmark
    try:
        field_question = None if args.task else parse_field_question(text)
        if field_question:  # reading comprehension: a field of the prompt read back
            fields, sequence, key = field_question
            task = get_task("reading_comprehension")
        else:
            r = Route(args.task, "--task", text) if args.task else parse_question(text)
            task, sequence, fields, key = get_task(r.task), r.sequence, None, None
            benchmark = benchmark or r.benchmark  # a histone mark named in the words
        tok, model = load_model(args.model, args.revision)
        a = ask(tok, model, task, sequence, fields, key, benchmark)
    except (ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{a.prompt} {a.text}" if len(a.prompt) < 200 else f"[{task.name}] {a.text}")
    if task.kind == "classify" and (benchmark or own_heads(model, task)):
        print(f"({head_note(model, task, benchmark)}{'' if benchmark else ' --benchmark NAME asks one.'})")
    if not a.ok:
        print(f"(the answer is unparseable: {a.value.reason})")
    if a.probabilities:
        print(probabilities_line(a.probabilities))
    if task.rule is not None or fields:
        with warnings.catch_warnings():  # Biopython warns on a partial codon; the rule's answer is still shown
            warnings.simplefilter("ignore")
            exact = exact_answer(task, clean(tok, sequence) if sequence else None, fields, key)
        same = agrees(task, a.value, parse_answer(task, exact))
        print(f"exact: {exact}  ({'agrees' if same else 'DISAGREES'})")
    return 0


def ask_adapter(args, text: str) -> int:
    """`ask --adapter`: the adapter's own task about one sequence (plain, FASTA, or `SEQ, <phrase> =`), with the
    label probabilities (answer-token scores, or the head's softmax)."""
    from modeling.inference import ask, clean, load_adapter
    from tasks import render_prompt

    try:
        tok, model, task, meta = load_adapter(args.adapter, args.model, base_revision=args.revision)
        suffix = f", {task.phrase} ="
        text = text.strip()
        sequence = text[: -len(suffix)] if text.endswith(suffix) else text
        if meta["objective"] == "head":
            from modeling.inference import head_probabilities

            prompt = render_prompt(task, clean(tok, sequence))
            n, limit = len(tok(prompt)["input_ids"]), model.config.max_position_embeddings
            if n > limit:
                raise ValueError(f"the question is {n} tokens, over the model's {limit}-token context; nothing "
                                 "was truncated. Ask about a shorter piece of the sequence.")
            probs = dict(zip(task.labels, head_probabilities(model, tok, [prompt])[0].tolist()))
            answer = max(probs, key=probs.get)
        else:  # user tasks are classifications: ask reads the label and every label's probability at once
            a = ask(tok, model, task, sequence)
            prompt, answer, probs = a.prompt, a.text, a.probabilities
    except (ValueError, KeyError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{prompt} {answer}" if len(prompt) < 200 else f"[{task.name}] {answer}")
    print(probabilities_line(probs))
    return 0


def refuse_benchmark_with_adapter() -> int:
    print("error: --benchmark picks one of the shipped model's own heads; an adapter answers its task with its own",
          file=sys.stderr)
    return 2


def probabilities_line(probs: dict[str, float]) -> str:
    return "probabilities: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(probs.items(), key=lambda kv: -kv[1]))


def cmd_score(args) -> int:
    if args.adapter and args.benchmark:
        return refuse_benchmark_with_adapter()
    if args.adapter:
        from finetune.adapt.evaluate_adapter import score_file as score_adapter
        from finetune.adapt.userdata import UserDataError
        from modeling.inference import load_adapter

        try:
            tok, model, task, meta = load_adapter(args.adapter, args.model, base_revision=args.revision)
            metrics = score_adapter(tok, model, task, meta, args.data, args.sequence_column, args.label_column,
                                    args.window)
        except (UserDataError, FileNotFoundError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(json.dumps(metrics, indent=1))
        return 0
    if not args.task:
        print("error: give --task (a built-in task) or --adapter (a fine-tuned folder or Hub id)", file=sys.stderr)
        return 2
    from finetune.evaluation.evaluate import score_file

    print(json.dumps(score_file(args.model, args.task, args.data, args.benchmark), indent=1))
    return 0


def cmd_finetune(args) -> int:
    from finetune.adapt.run import RunFolderError, finetune
    from finetune.adapt.train_adapter import AdaptConfig
    from finetune.adapt.userdata import UserDataError, load_user_data
    from hub.adapter_card import write_adapter_card
    from tasks.custom import TaskDefinitionError, custom_task

    try:
        labels = [x.strip() for x in args.labels.split(",")] if args.labels else None
        data = load_user_data(args.data, dev=args.dev, test=args.test, labels=labels,
                              sequence_column=args.sequence_column, label_column=args.label_column,
                              split_column=args.split_column, seed=args.seed, dev_fraction=args.dev_fraction,
                              test_fraction=args.test_fraction, min_per_class=args.min_per_class)
        task = custom_task(args.task_name, args.phrase, data.labels)
        cfg = AdaptConfig(mode="full" if args.full else "lora", objective="head" if args.head else "lm", r=args.rank,
                          alpha=args.alpha or 2 * args.rank, epochs=args.epochs, lr=args.lr,
                          tokens_per_batch=args.tokens_per_batch, patience=args.patience,
                          prompt_weight=args.prompt_weight, steps=args.max_steps, seed=args.seed)
        results = finetune(data, task, args.out, cfg, args.model, base_revision=args.revision, base_id=args.base_id,
                           window=args.window, overwrite=args.overwrite, progress=not args.quiet)
        card = write_adapter_card(args.out, args.license)
    except (UserDataError, TaskDefinitionError, RunFolderError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ours, lr = results["ours"], results["baselines"]["kmer_lr"]
    print(f"{args.out}: task {task.name!r} ({task.phrase} = {' / '.join(task.labels)}), card {card}")
    print(f"test ({ours['n']} rows): MCC {ours['mcc']:.3f}, accuracy {ours['accuracy']:.3f}, macro F1 "
          f"{ours['macro_f1']:.3f}; k-mer LR MCC {lr['mcc']:.3f}, accuracy {lr['accuracy']:.3f}")
    from hub.push import REPO_ID
    from tasks.custom import read_task_file

    base = read_task_file(args.out)[1]["base_model"]
    if not REPO_ID.fullmatch(base):
        print(f"note: the card names the base by its local path {base!r}; to share the folder, rerun with "
              "--overwrite --base-id <org>/<name> of the base's Hub repo")
    print(f"share it: genomicllm push {args.out} --repo <user>/<name>")
    return 0


def cmd_chat(args) -> int:
    """The assistant: one question (or '-' for standard input) -> the reply and the tools it called; no question
    -> an interactive conversation (history kept; an empty line or Ctrl-D ends it)."""
    from transformers.utils.logging import disable_progress_bar

    from assistant.chat import load_assistant
    from assistant.tools import Toolbox
    from dataset_scripts.annotation import ncbi_gene_table
    from finetune.chat import smollm_base
    from modeling.inference import load_model

    disable_progress_bar()
    try:
        base = args.base or (smollm_base.convert() if smollm_base.available() else None)  # else the Hub id
        tools = Toolbox(lambda: load_model(args.model, args.revision), genes=ncbi_gene_table)
        bot = load_assistant(args.adapter, base, tools)
    except (OSError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    def say(text: str) -> None:
        turn = bot.ask(text)
        print(turn.reply)
        for c in turn.calls:
            print(f"  [tool] {c.name}({json.dumps(c.arguments)})" + (f" -> error: {c.result['error']}"
                                                                     if "error" in c.result else ""),
                  file=sys.stderr)

    if args.question:
        say(sys.stdin.read() if args.question == ["-"] else " ".join(args.question))
        return 0
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            return 0
        if not text:
            return 0
        say(text)


def cmd_push(args) -> int:
    from hub.assemble import ReleaseInputError
    from hub.push import push_folder

    try:
        push_folder(args.folder, args.repo, private=args.private)
    except ReleaseInputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def cmd_serve(args) -> int:
    from space.app import main as serve

    serve(["--model", args.model, *(["--revision", args.revision] if args.revision else []),
           *[x for a in args.adapter for x in ("--adapter", a)], *args.space_args])
    return 0


def benchmark_option(sp) -> None:
    sp.add_argument("--benchmark", help="a classification by the head fitted on this benchmark alone, e.g. GUE/tf_2 "
                    "or GUE/emp_H3K4me3 (what `make eval` scores; an unknown name is refused with the list); default: "
                    "the task's head, fitted on all its benchmarks")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genomicllm", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n")[1])
    sub = p.add_subparsers(dest="command", required=True, metavar="{ask,chat,score,finetune,push,serve}")

    def common(sp):
        sp.add_argument("--model", default=model_location()[0], help="release folder or Hub id (default: %(default)s)")
        sp.add_argument("--revision", default=model_location()[1],
                        help="Hub revision (commit sha or tag) to load")

    a = sub.add_parser("ask", help="answer one question about one sequence",
                       description="Answer one question: a classification with its most probable label and every "
                                   "label's probability (the task's label head), GC content by the value head, "
                                   "any other greedily; for exact-computable tasks also print the rule's answer and "
                                   "whether the model agrees.")
    a.add_argument("question", nargs="+", help="a question in the prompt grammar or in words, or (with --task) the "
                   "sequence; '-' reads it from standard input")
    a.add_argument("--task", choices=SEQUENCE_TASKS, help="the task, when the question is only a sequence")
    a.add_argument("--adapter", help="a folder or Hub id from `genomicllm finetune`: ask its task (the question is "
                   "the sequence); --model is then its base")
    benchmark_option(a)
    common(a)
    a.set_defaults(run=cmd_ask)

    c = sub.add_parser("chat", help="talk to the assistant (SmolLM2 + LoRA calling GenomicLLM and exact tools)",
                       description="The assistant answers in words and calls tools for every value: the exact "
                                   "rules, GenomicLLM (--model) for the learned tasks, the NCBI gene table.")
    c.add_argument("question", nargs="*", help="one question ('-' reads standard input); none: a conversation")
    c.add_argument("--adapter", help="the assistant's LoRA folder (default: release/GenomicLLM-assistant)")
    c.add_argument("--base", help="the SmolLM2-135M-Instruct folder (default: the converted cache)")
    common(c)
    c.set_defaults(run=cmd_chat)

    s = sub.add_parser("score", help="score the model on a labelled file",
                       description="Answer every row of a CSV/TSV/parquet file with `sequence` and `label` columns "
                                   "(labels as the task writes them) and print the task's metrics as JSON.")
    s.add_argument("--task", choices=SEQUENCE_TASKS, help="a built-in task (or give --adapter)")
    s.add_argument("--data", required=True, type=Path)
    s.add_argument("--adapter", help="a folder or Hub id from `genomicllm finetune`: score its task (labels as in "
                   "its training file); --model is then its base")
    s.add_argument("--sequence-column", default="sequence", help="with --adapter (default: %(default)s)")
    s.add_argument("--label-column", default="label", help="with --adapter (default: %(default)s)")
    s.add_argument("--window", type=int, help="with --adapter: cut sequences longer than this many bases into windows")
    benchmark_option(s)
    common(s)
    s.set_defaults(run=cmd_score)

    f = sub.add_parser("finetune", help="fine-tune on your own labelled file (LoRA, full, or a classifier head)",
                       description="Train GenomicLLM on a CSV/TSV/parquet/FASTA file with `sequence` and `label` "
                                   "columns (FASTA: `>id label=yes` headers) and write a Hub-ready folder: the "
                                   "adapter, its task, a card with the test metrics beside the k-mer LR baseline.")
    f.add_argument("--data", required=True, type=Path, help="the labelled file (the train split, with --dev/--test)")
    f.add_argument("--task-name", required=True, help="a lower-case identifier, e.g. mouse_tf")
    f.add_argument("--out", required=True, type=Path, help="the output folder (rerun to resume an interrupted run)")
    f.add_argument("--phrase", help="what the prompt asks, `<sequence>, <phrase> =` (default: the task name)")
    f.add_argument("--labels", help="comma-separated answer labels in class order; integer file labels i become "
                   "labels[i] (default: the file's labels; 0/1 become no/yes)")
    f.add_argument("--sequence-column", default="sequence", help="(default: %(default)s)")
    f.add_argument("--label-column", default="label", help="(default: %(default)s; e.g. label_name for the built GUE "
                   "parquet files)")
    f.add_argument("--split-column", default="split", help="train/dev/test per row, if the file has one (default: "
                   "%(default)s)")
    f.add_argument("--dev", type=Path, help="a separate dev file")
    f.add_argument("--test", type=Path, help="a separate test file")
    f.add_argument("--dev-fraction", type=float, default=0.1, help="of the rows, when no dev split is given "
                   "(default: %(default)s)")
    f.add_argument("--test-fraction", type=float, default=0.1, help="of the rows, when no test split is given "
                   "(default: %(default)s)")
    f.add_argument("--min-per-class", type=int, default=20, help="fewer rows of a class are refused "
                   "(default: %(default)s)")
    f.add_argument("--window", type=int, help="cut sequences longer than this many bases into windows that keep "
                   "their label (for sequences over the model's context)")
    f.add_argument("--full", action="store_true", help="train every weight instead of a LoRA")
    f.add_argument("--head", action="store_true", help="train a classification head (class probabilities) "
                   "instead of answering the label as text")
    f.add_argument("--rank", type=int, default=8, help="LoRA rank (default: %(default)s)")
    f.add_argument("--alpha", type=int, help="LoRA alpha (default: 2 x rank)")
    f.add_argument("--epochs", type=float, default=3.0, help="at most; early-stopped on dev (default: %(default)s)")
    f.add_argument("--lr", type=float, help="peak learning rate (default: 1e-3 LoRA, 1e-4 full)")
    f.add_argument("--tokens-per-batch", type=int, default=2048, help="real tokens per step (default: %(default)s)")
    f.add_argument("--patience", type=int, default=4, help="dev evaluations (4 per epoch) without improvement "
                   "before stopping (default: %(default)s)")
    f.add_argument("--prompt-weight", type=float, default=0.0, help="loss weight of the prompt's tokens "
                   "(default: %(default)s)")
    f.add_argument("--max-steps", type=int, help="stop after this many steps at most")
    f.add_argument("--seed", type=int, default=0, help="splits, initialisation and batch order (default: 0)")
    f.add_argument("--base-id", help="the base's Hub id for the card (default: <$HF_NAMESPACE or genomicllm>/"
                   "GenomicLLM for the shipped model)")
    f.add_argument("--license", default="apache-2.0", help="the card's licence (default: %(default)s)")
    f.add_argument("--overwrite", action="store_true", help="replace a finished or different run in --out")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    common(f)
    f.set_defaults(run=cmd_finetune)

    u = sub.add_parser("push", help="upload a fine-tuned folder to the Hub (dry run without $HF_TOKEN)",
                       description="Check a `genomicllm finetune` folder and upload it as a Hub model repo "
                                   "(create_repo + upload_folder); without $HF_TOKEN list the files only.")
    u.add_argument("folder", type=Path)
    u.add_argument("--repo", required=True, help="user/name or org/name")
    u.add_argument("--private", action="store_true", help="create the repo as private")
    u.set_defaults(run=cmd_push)

    v = sub.add_parser("serve", help="serve the Gradio Space",
                       description="Serve the Space on the model; options after `--` go to the app "
                                   "(e.g. genomicllm serve -- --port 8080).")
    common(v)
    v.add_argument("--adapter", action="append", default=[], help="a `genomicllm finetune` folder or Hub id whose "
                   "task joins the Classify tab (repeatable)")
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
