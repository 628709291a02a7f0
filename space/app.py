"""The GenomicLLM Space: ask the model anything about a DNA sequence (Gradio 6). `make demo` serves it.

    python -m space.app [--model release/GenomicLLM | --model OWNER/NAME --revision REV] [--port 7860] [--host 0.0.0.0]
                        [--adapter DIR_OR_HUB_ID ...]
    genomicllm serve [--model ...] [--adapter ...] [-- --port 7860]        (the same `main`)

The model location can also come from the environment variable GENOMICLLM_MODEL (and GENOMICLLM_REVISION); it is
loaded with AutoTokenizer / AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True), as users load it.
Fine-tuned folders of `genomicllm finetune` (`--adapter`, or GENOMICLLM_ADAPTERS="a,b") add their tasks to the
Classify tab (`space.adapters`).

Tabs: Chat (the assistant, `assistant.chat`: SmolLM2 + LoRA calling the tools, where its base is at hand or
$GENOMICLLM_ASSISTANT is "on" or names a LoRA folder; else, or with "off", words -> task by keyword rules,
`tasks.router`),
Classify, GC content, Translate, Reverse complement,
Describe gene, Batch (FASTA -> CSV). Endpoints (gradio_client api_name): /chat, /classify, /gc_content, /translate,
/reverse_complement, /describe, /batch. The app imports only `tasks`, `modeling.inference`, `modeling.scores`, `space.core`,
`space.adapters` and, for the assistant, `assistant` (with the tokenizer's run rule and normaliser): the Hugging Face
Space repository holds exactly those modules and what they import (hub/assemble.py).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path

if __package__ in (None, ""):  # run as a file (`python space/app.py`, as Hugging Face Spaces do)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "space"

import gradio as gr

from modeling.inference import ask, load_model
from modeling.scores import own_heads
from tasks.paths import ASSISTANT_DIR, chat_base_converted, model_location
from tasks.registry import TASKS, Task, get_task
from tasks.grammar import exact_answer, parse_answer, parse_field_question
from tasks.metrics import agrees
from tasks.router import EXAMPLES, benchmark_mark, route

from . import adapters, core

# gradio 6's utils.safe_get_lock / safe_get_stop_event make a fresh event loop on every call outside a running one
# and drop the previous without closing it: a ResourceWarning per Blocks, queue and server, none of them ours.
warnings.filterwarnings("ignore", "unclosed event loop", ResourceWarning, r"asyncio\.base_events")

EXAMPLE_SEQ = ("ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTC"
               "AGTGGAGAGGGTGAAGGTGATGCAACATACGGAAAACTTACCCTTAAATTTATTTGCACTACTGGAAAACTACCTGTTCCATGGCCAACA"
               "CTTGTCACTACTTTCGGTTATGGTGTTCAATGCTTTGCGAGATACCCAGATCATATGAAACAGCATGACTTTTTCAAGAGTGCCATGCCC"
               "GAAGGTTATGTACAGGAAAGAACTATATTTTTCAAAGATGACGGGAACTACAAGACACGTGCTGAAGTCAAGTTTGAAGGTGATACCCTT"
               "GTTAATAGAATCGAGTTAAAAGGTATTGATTTTAAAGAAGATGGAAACATTCTTGGACACAAATTGGAATACAACTATAACTCACACAAT"
               "GTATACATCATGGCAGACAAACAAAAGAATGGAATCAAAGTTAACTTCAAAATTAGACACAACATTGAAGATGGAAGCGTTCAACTAGCA"
               "GACCATTATCAACAAAATACTCCAATTGGCGATGGCCCTGTCCTTTTACCAGACAACCATTACCTGTCCACACAATCTGCCCTTTCGAAA"
               "GATCCCAACGAAAAGAGAGACCACATGGTCCTTCTTGAGTTTGTAACAGCTGCTGGGATTACACATGGCATGGATGAACTATACAAATAA")
CLASSIFY_TASKS = [n for n, t in TASKS.items() if t.kind == "classify"]
DNA_TASKS = [n for n, t in TASKS.items() if t.answer == "dna"]  # the Reverse complement tab's operations
TEXT_TASKS = [n for n, t in TASKS.items() if t.answer == "text"]  # the Describe gene tab's questions
STATE: dict = {}
LOADING = threading.RLock()  # concurrent first requests load once (parallel loads race in import checks)


def get_model():
    with LOADING:
        if "model" not in STATE:
            location, revision = model_location()
            STATE["tok"], STATE["model"] = load_model(location, revision)
        return STATE["tok"], STATE["model"]


def get_adapters() -> dict[str, adapters.Adapter]:
    """The fine-tuned tasks served beside the model ($GENOMICLLM_ADAPTERS), loaded once on the same base."""
    with LOADING:
        if "adapters" not in STATE:
            location, revision = model_location()
            STATE["adapters"] = adapters.load_all(adapters.locations(), location, revision)
        return STATE["adapters"]


def get_assistant():
    """The chat assistant where $GENOMICLLM_ASSISTANT is "on" (the shipped LoRA) or names a LoRA folder, or, unset
    ("auto"), where its base is at hand (`make chat-base` converted it); else None: the keyword router answers (no
    base, "off"). Its tools use the served model; its base is the converted SmolLM2, else the Hub id."""
    with LOADING:
        if "assistant" not in STATE:
            STATE["assistant"] = None
            where = os.environ.get("GENOMICLLM_ASSISTANT", "") or "auto"
            if where.lower() == "auto":
                where = "on" if chat_base_converted() else "off"
            adapter = ASSISTANT_DIR if where.lower() in ("on", "1", "yes") else Path(where)
            if where.lower() not in ("off", "0", "no") and (adapter / "adapter_config.json").is_file():
                from assistant.chat import load_assistant
                from assistant.tools import Toolbox

                try:
                    STATE["assistant"] = load_assistant(adapter, None, Toolbox(get_model))  # no gene table in a Space
                except (OSError, ValueError) as e:  # no base at hand (offline, not converted): the router answers
                    print(f"Chat tab: the assistant is unavailable ({e}); answering with the keyword router")
        return STATE["assistant"]


def _plain(content) -> str:
    """A chat message's text (Gradio 6 may send a list of parts), without the tool footer the assistant adds."""
    text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content or [])
    return text.split("\n\n_Tools:")[0]


def assistant_chat(bot, message: str, history: list, sequence: str | None, file) -> list:
    """One turn of the assistant: the conversation restored from the visible history, the sequence box (or file)
    appended to the message when it holds no DNA itself; the reply says which tools answered."""
    from assistant.references import sequence_spans

    bot.restore([{"role": m["role"], "content": _plain(m["content"])} for m in history])
    text = message
    if not sequence_spans(message) and ((sequence or "").strip() or file):
        text += "\n" + ((sequence or "").strip() or core._read_file(file))
    with core.LOCK:
        turn = bot.ask(text)
    reply = turn.reply
    if turn.calls:
        reply += "\n\n_Tools: " + "; ".join(f"{c.name}({', '.join(f'{k}={v}' for k, v in c.arguments.items())})"
                                          + (" → error" if "error" in c.result else "") for c in turn.calls) + "_"
    # the user's turn as the assistant read it (the box's sequence included): a follow-up restores it from here
    return history + [{"role": "user", "content": text}, {"role": "assistant", "content": reply}]


def _one(sequence: str | None, file) -> str:
    tok, _ = get_model()
    return core.read_records(tok, sequence, file)[0][1]


def _run(task: str | Task, sequence: str | None, file, routed: str | None = None, progress=None,
         benchmark: str | None = None):
    """(markdown, Result) or a gr.Error with a friendly message."""
    tok, model = get_model()
    try:
        seq = _one(sequence, file)
        res = core.answer(tok, model, task, seq, progress, benchmark)
    except core.InputError as e:
        raise gr.Error(str(e), title="Input problem") from None
    except ValueError as e:  # e.g. a window that still does not fit: say so, never a traceback
        raise gr.Error(f"The model cannot answer this question: {e}", title="Cannot answer") from None
    return core.markdown(res, routed), res


def _prob_label(res) -> dict | None:
    return {k: float(v) for k, v in res.probs.items()} if res.probs else None


# --- endpoints ------------------------------------------------------------------------------------------------
# The task arguments come from a Dropdown / Radio: Gradio refuses a value outside its choices before calling these.

POOLED_HEAD = "the task's head (all its benchmarks)"  # the Classify tab's Head choice that names no benchmark


def head_choices(task: str) -> list[str]:
    """The Classify tab's heads for `task`: its own, fitted on all its benchmarks, then each benchmark's own head (a
    GUE TF set, a histone mark: what the evaluation scores); an adapter's task has only its own."""
    return [POOLED_HEAD] + ([] if task in get_adapters() else own_heads(get_model()[1], task))


def pick_head(task: str):
    return gr.Dropdown(choices=head_choices(task), value=POOLED_HEAD)


def do_classify(task: str, sequence: str, file=None, head: str = POOLED_HEAD,
                progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
    own = get_adapters().get(task)
    benchmark = None if head in (None, POOLED_HEAD) else head
    if own is None:
        md, res = _run(task, sequence, file, progress=progress, benchmark=benchmark)
        return md, _prob_label(res)
    if benchmark:
        raise gr.Error(f"{task} is a fine-tuned task with a head of its own; {benchmark} names one of the shipped "
                       "model's heads", title="Input problem")
    try:
        res = adapters.answer(own, core.read_records(own.tok, sequence, file)[0][1], progress)
    except core.InputError as e:
        raise gr.Error(str(e), title="Input problem") from None
    except ValueError as e:
        raise gr.Error(f"The model cannot answer this question: {e}", title="Cannot answer") from None
    return core.markdown(res), _prob_label(res)


def do_gc(sequence: str, file=None, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
    md, res = _run("gc_content", sequence, file, progress=progress)
    return md, core.picture(res)


def do_translate(sequence: str, file=None, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
    md, res = _run("nt2aa", sequence, file, progress=progress)
    return md, core.picture(res)


def do_revcomp(task: str, sequence: str, file=None, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
    md, _ = _run(task, sequence, file, progress=progress)
    return md


def do_describe(task: str, sequence: str, file=None, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
    md, _ = _run(task, sequence, file, progress=progress)
    return md


def clarify_message() -> str:
    examples = "; ".join(f"“{v}” → {k}" for k, v in EXAMPLES.items())
    return ("I couldn't tell which question you mean. Please say what you want to know, for example: " + examples
            + ". Every task: " + ", ".join(core.TASK_CHOICES) + ".")


def field_reply(fields: dict, sequence: str | None, key: str) -> str:
    """The model's reading of a field asked in the grammar, beside the field itself."""
    tok, model = get_model()
    task = get_task("reading_comprehension")
    a = ask(tok, model, task, sequence, fields, key)
    exact = exact_answer(task, sequence, fields, key)  # the field read back, as `genomicllm ask` checks it
    same = "agrees" if agrees(task, a.value, parse_answer(task, exact)) else "DISAGREES"
    return (f"Read as a field question (**reading_comprehension**): the {key} is **{a.text}**. "
            f"The prompt's field: {exact} ({same}).")


def do_chat(message: str, history: list | None, sequence: str | None, file=None, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
    """One chat turn: the assistant's, or the keyword router's (the words routed to a task, answered by the model);
    returns (history, cleared message box, plot)."""
    history = list(history or [])
    message = (message or "").strip()
    if not message:
        raise gr.Error("Type a question, e.g. “what's the GC content?” or “is this a promoter?”", title="Empty question")
    bot = get_assistant()
    if bot is not None:
        return assistant_chat(bot, message, history, sequence, file), "", None
    history.append({"role": "user", "content": message})
    try:
        field_question = parse_field_question(message)
    except ValueError as e:
        history.append({"role": "assistant", "content": f"I can't answer that field question: {e}."})
        return history, "", None
    if field_question:  # reading comprehension, not a task to route by its keywords ("biotype=..." in a field)
        history.append({"role": "assistant", "content": field_reply(*field_question)})
        return history, "", None
    r = route(message)
    if r.task is None:
        history.append({"role": "assistant", "content": clarify_message()})
        return history, "", None
    task = get_task(r.task)
    source = r.sequence or sequence
    if not (source or "").strip() and not file:
        history.append({"role": "assistant", "content": f"Routed to task **{task.name}** (matched “{r.matched}”). "
                        "Now paste a sequence in the box below (raw or FASTA), upload a FASTA file, or write the "
                        "DNA in your message."})
        return history, "", None
    known = own_heads(get_model()[1], task) if r.benchmark else []
    if r.benchmark and r.benchmark not in known:  # a mark the model has no head for: say which it has
        history.append({"role": "assistant", "content": f"I have no head for {benchmark_mark(r.benchmark)}; the "
                        f"marks I was fitted on (yeast nucleosomes, GUE): {', '.join(map(benchmark_mark, known))}. "
                        "Name one of them, or ask about a histone mark without naming one."})
        return history, "", None
    routed = (f"Routed to task **{task.name}** ({task.description}) because you wrote “{r.matched}”"
              + (", using the DNA in your message." if r.sequence else "."))
    md, res = _run(task, source, None if r.sequence else file, routed, progress, r.benchmark)  # a mark named: its head
    history.append({"role": "assistant", "content": md})
    return history, "", core.picture(res)


def do_batch(task: str, text: str | None, file=None, progress=gr.Progress()):  # noqa: B008 - the Gradio idiom
    t, (tok, model) = get_task(task), get_model()
    try:
        records = core.read_records(tok, text, file, many=True)
    except core.InputError as e:
        raise gr.Error(str(e), title="Input problem") from None
    rows = []
    for i, (name, seq) in enumerate(records):
        progress((i, len(records)), desc=f"record {i + 1}/{len(records)}: {name}")
        try:
            rows.append(core.csv_row(name, core.answer(tok, model, t, seq)))
        except ValueError as e:
            rows.append({"name": name, "length": len(seq), "task": task, "answer": f"error: {e}", "parseable": False})
    keys = list(dict.fromkeys(k for row in rows for k in row))
    out = Path(tempfile.mkdtemp(prefix="genomicllm_")) / f"genomicllm_{task}.csv"
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    agree = [r["agrees"] for r in rows if r.get("agrees") is not None]
    summary = f"Answered **{task}** for {len(rows)} record(s)."
    if agree:
        summary += f" The model agrees with the exact answer on {sum(agree)} of {len(agree)}."
    table = [[str(row.get(k, "")) for k in keys] for row in rows]
    return str(out), summary, gr.update(value=table, headers=keys)


def prefill(request: gr.Request):
    """`/?q=QUESTION&seq=DNA`: open the page with a question asked (links, screenshots)."""
    params = dict(request.query_params) if request else {}
    q, seq = params.get("q", ""), params.get("seq", "")
    if not q:
        return [], "", seq, None
    try:
        history, _, plot = do_chat(q, [], seq, None, progress=None)
    except gr.Error as e:
        history = [{"role": "user", "content": q}, {"role": "assistant", "content": f"⚠️ {e.message}"}]
        plot = None
    return history, "", seq, plot


# --- layout ---------------------------------------------------------------------------------------------------

INTRO = f"""# GenomicLLM: ask about a DNA sequence
Paste a sequence (raw or FASTA, any case, spaces and line breaks are fine; RNA `U` is read as `T`) or upload a FASTA
file, then ask. Answers come from a small ({{params}}) genomic language model; for GC content, reverse / complement and
translation the exact answer is computed too, so you can see whether the model got it right. Classifiers show class
probabilities. Sequences longer than one question can hold are cut into windows explicitly; the limit is
{core.MAX_BASES:,} bases per sequence.
"""


def seq_inputs(label: str = "DNA sequence (raw or FASTA)"):
    box = gr.Textbox(label=label, lines=4, placeholder=">my sequence\nACGTTGCA...")
    up = gr.File(label="…or upload a FASTA file", file_types=[".fa", ".fasta", ".fna", ".txt", ".fas"], type="filepath")
    return box, up


def build_demo() -> gr.Blocks:
    _, model = get_model()
    own = get_adapters()
    classify = CLASSIFY_TASKS + list(own)
    params = f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters"
    with gr.Blocks(title="GenomicLLM", analytics_enabled=False) as demo:
        gr.Markdown(INTRO.replace("{params}", params) + f"\nModel: `{model_location()[0]}`")
        with gr.Tab("Chat"):
            chatbot = gr.Chatbot(label="GenomicLLM", height=380, elem_id="chatbot")
            with gr.Row():
                msg = gr.Textbox(label="Your question", elem_id="question", scale=5,
                                 placeholder="what's the GC content?  ·  translate  ·  is this a promoter?")
                ask_btn = gr.Button("Ask", variant="primary", scale=1)
            c_seq, c_file = seq_inputs()
            c_plot = gr.Plot(label="Picture")
            gr.Examples([[v, EXAMPLE_SEQ] for v in EXAMPLES.values()], [msg, c_seq])
            ask_btn.click(do_chat, [msg, chatbot, c_seq, c_file], [chatbot, msg, c_plot], api_name="chat")
            msg.submit(do_chat, [msg, chatbot, c_seq, c_file], [chatbot, msg, c_plot], api_visibility="private")
        with gr.Tab("Classify"):
            about = [f"{n}: {a.task.description} (fine-tuned: {a.location})" for n, a in own.items()]
            about += [f"{n}: {TASKS[n].description}" for n in CLASSIFY_TASKS[:4]]
            k_task = gr.Dropdown(classify, value=next(iter(own), "promoter"), label="Question",
                                 info="; ".join(about) + " …")
            k_head = gr.Dropdown(head_choices(k_task.value), value=POOLED_HEAD, label="Head",
                                 allow_custom_value=True,
                                 info="a benchmark's own head answers its question alone (which TF set, which "
                                      "histone mark): the head the evaluation scores")
            # any name passes the dropdown (an API caller's head for another task): `ask` refuses unknown ones by name
            k_task.change(pick_head, k_task, k_head, api_visibility="private")
            k_seq, k_file = seq_inputs()
            k_btn = gr.Button("Classify", variant="primary")
            k_md = gr.Markdown()
            k_probs = gr.Label(label="Class probabilities", num_top_classes=4)
            k_btn.click(do_classify, [k_task, k_seq, k_file, k_head], [k_md, k_probs], api_name="classify")
        with gr.Tab("GC content"):
            g_seq, g_file = seq_inputs()
            g_btn = gr.Button("GC content", variant="primary")
            g_md = gr.Markdown()
            g_plot = gr.Plot(label="GC along the sequence")
            g_btn.click(do_gc, [g_seq, g_file], [g_md, g_plot], api_name="gc_content")
        with gr.Tab("Translate"):
            t_seq, t_file = seq_inputs("In-frame coding DNA (raw or FASTA)")
            t_btn = gr.Button("Translate", variant="primary")
            t_md = gr.Markdown()
            t_plot = gr.Plot(label="Reading frames and ORFs")
            t_btn.click(do_translate, [t_seq, t_file], [t_md, t_plot], api_name="translate")
        with gr.Tab("Reverse complement"):
            r_task = gr.Radio(DNA_TASKS, value="reverse_complement", label="Operation")
            r_seq, r_file = seq_inputs()
            r_btn = gr.Button("Compute", variant="primary")
            r_md = gr.Markdown()
            r_btn.click(do_revcomp, [r_task, r_seq, r_file], [r_md], api_name="reverse_complement")
        with gr.Tab("Describe gene"):
            d_task = gr.Radio(TEXT_TASKS, value="gene_description", label="Question")
            d_seq, d_file = seq_inputs("DNA starting at a gene (raw or FASTA)")
            d_btn = gr.Button("Describe", variant="primary")
            d_md = gr.Markdown()
            d_btn.click(do_describe, [d_task, d_seq, d_file], [d_md], api_name="describe")
        with gr.Tab("Batch"):
            b_task = gr.Dropdown(core.TASK_CHOICES, value="gc_content", label="Task")
            b_text, b_file = seq_inputs(f"Many FASTA records (up to {core.MAX_RECORDS})")
            b_btn = gr.Button("Answer all", variant="primary")
            b_md = gr.Markdown()
            b_csv = gr.File(label="Answers (CSV)")
            b_table = gr.Dataframe(label="Preview", wrap=True)
            b_btn.click(do_batch, [b_task, b_text, b_file], [b_csv, b_md, b_table], api_name="batch")
        demo.load(prefill, None, [chatbot, msg, c_seq, c_plot], api_visibility="private")
    return demo


def serve(host: str = "127.0.0.1", port: int | None = None, block: bool = True) -> gr.Blocks:
    """Build the app and serve it, one model call at a time. `block=False` returns once the server is up
    (`demo.local_url`; `demo.close()` stops it); otherwise it returns after the server stops (Ctrl-C).
    `port=None`: the first free port from 7860 (or $GRADIO_SERVER_PORT)."""
    demo = build_demo()
    demo.queue(default_concurrency_limit=1).launch(server_name=host, server_port=port, prevent_thread_lock=not block,
                                                    quiet=not block)
    return demo


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="local folder or Hub id (default: $GENOMICLLM_MODEL or release/GenomicLLM)")
    p.add_argument("--revision", help="Hub revision (branch, tag or commit)")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--adapter", action="append", default=[],
                   help="a `genomicllm finetune` folder or Hub id whose task joins the Classify tab (repeatable; "
                        f"default: ${adapters.ENV})")
    args = p.parse_args(argv)
    if args.adapter:
        os.environ[adapters.ENV] = ",".join(args.adapter)
    if args.model:
        os.environ["GENOMICLLM_MODEL"] = args.model
    if args.revision:
        os.environ["GENOMICLLM_REVISION"] = args.revision
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
