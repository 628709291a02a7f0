"""Conversations that teach the assistant's LoRA tool use, generated from the datasets' records (train -> training,
test -> evaluation with the held-out templates only).

Every conversation is played through the real runtime: the user's text goes through `References.ingest` (so the LLM
sees exactly the placeholders it will see in use), tool calls through `Toolbox.call`. The exact tools really run;
GenomicLLM's learned tools are answered by an oracle (the record's label with a made-up probability, the record's
description), so building the data costs no model calls: what the LoRA learns from them is to copy a result, not
its value. Kinds: `single` (one question -> one tool call -> reply), `follow_up` (a second question about the same
sequence), `second` (the same question about a second sequence: reference 2), `refuse` (an invalid sequence),
`clarify` (no sequence), `no_task` (a sequence, no question), `concept` (a general question, no tool),
`off_topic`.

    python -m finetune.chat.assistant_data --split train --per-task 4    # prints a few conversations
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from pathlib import Path

import numpy as np

from assistant.chat import SYSTEM, call_message, tool_message
from assistant.references import References
from assistant.tools import LEARNED, Toolbox, stated
from dataset_scripts.annotation import ncbi_gene_table
from tasks.benchmarks import DATASETS_DIR
from tasks.registry import get_task
from tokenizer.rule import MIN_RUN

from . import assistant_phrasings, assistant_phrasings_contrast, assistant_phrasings_described, assistant_phrasings_more
from . import assistant_templates as A
from . import chat_data
from . import chat_templates as T

# extra tool tasks -> (records of this dataset task, tool)
TOOL_TASKS = {"length": "gc_content", "base_counts": "gc_content", "find_orfs": "nt2aa", "translate_frame": "nt2aa",
              "gene_lookup_name": "gene_name", "gene_lookup_summary": "gene_description",
              "describe_gene": "gene_description"}
# conversations of each kind per single-turn one: evaluation, and training (more of the kinds the first adapter missed)
RATES = {"follow_up": 0.2, "second": 0.05, "refuse": 0.05, "clarify": 0.03, "no_task": 0.03, "concept": 0.04,
         "off_topic": 0.01}
TRAIN_RATES = {**RATES, "follow_up": 0.3, "refuse": 0.1, "clarify": 0.08, "no_task": 0.04, "concept": 0.05,
               "off_topic": 0.02}
NO_TOOL = ("reading_comprehension",)  # the answer is in the question itself
REPLY_AS = {"gene_lookup_name": "gene_name", "gene_description": "gene_lookup_summary"}  # same reply tables
# training-only phrasings, each set written by a session shown only the training templates (never the held-out ones)
PHRASINGS = (assistant_phrasings, assistant_phrasings_more, assistant_phrasings_contrast, assistant_phrasings_described)
NOT_BASES = "EFIJLOPQXZ"  # letters the normaliser rejects (U is RNA, the other letters IUPAC codes)


class OracleToolbox(Toolbox):
    """The exact tools as they are; GenomicLLM's answers from the record being asked about (`oracle`)."""

    oracle: dict = {}

    def run(self, name: str, arguments: dict):
        if name == "classify":
            return self.oracle["classify"]
        if name == "describe_gene":
            return {"description": self.oracle["description"]}
        return super().run(name, arguments)


TOOLS = OracleToolbox(genes=ncbi_gene_table)


# gene questions -> the look-up answering them
GENE_TASKS = {"gene_name": "gene_name", "gene_lookup_name": "gene_name", "gene_description": "gene_summary",
              "gene_lookup_summary": "gene_summary"}


def tool_of(task: str) -> str | None:
    """The tool a question of `task` must call (None: answered without a tool)."""
    if task in NO_TOOL:
        return None
    if task in LEARNED:
        return "classify"
    if task in GENE_TASKS:
        return GENE_TASKS[task]
    return "translate" if task in ("nt2aa", "translate_frame") else task


def expected_call(task: str, ref: str = "1", **kw) -> dict | None:
    """The tool call a question of `task` must make (None: answered without a tool)."""
    name = tool_of(task)
    if name is None:
        return None
    if name == "classify":
        return {"name": name, "arguments": {"task": task, "sequence": ref}}
    if task in GENE_TASKS:
        return {"name": name, "arguments": {"query": kw["symbol"]}}
    return {"name": name, "arguments": {"sequence": ref, **({"frame": kw["frame"]} if "frame" in kw else {})}}


def bold_value(task: str, result) -> str:
    """The value the reply writes in bold: one of `tools.stated` of the tool's result as the LLM read it (a stored
    value by its short reference: `[sequence 2]`), so the runtime's bold constraint allows what training wrote."""
    return stated(tool_of(task), result)[0]


def reply(task: str, result, rng: np.random.Generator, **kw) -> str:
    """The assistant's sentence about a tool's result."""
    pick = chat_data._pick
    value = bold_value(task, result)
    task = REPLY_AS.get(task, task)
    if task in LEARNED:
        label = chat_data._reply(task, value, rng)
        return label + pick(rng, A.PROBABILITY).format(p=result["probabilities"][value])
    if task == "find_orfs":
        if not result["count"]:
            return pick(rng, A.REPLY["no_orfs"]).format(min_codons=30)
        return pick(rng, A.REPLY["find_orfs"]).format(value=value, min_codons=30, **result["longest"][0])
    if task in A.REPLY:
        return pick(rng, A.REPLY[task]).format(value=value, **{**kw, **(result if isinstance(result, dict) else {})})
    return chat_data._reply(task, value, rng, symbol=kw.get("symbol", ""), field=kw.get("field", ""))


class Dialogue:
    """One conversation being written: the model-facing messages, its references, the raw user turns."""

    def __init__(self):
        self.refs, self.messages, self.user, self.calls = References(), [{"role": "system", "content": SYSTEM}], [], []

    def ask(self, text: str) -> str:
        self.user.append(text)
        ingested = self.refs.ingest(text)
        self.messages.append({"role": "user", "content": ingested})
        return ingested

    def call(self, call: dict | None):
        """Runs the expected call (None: none); returns the result the LLM reads."""
        self.calls.append(call)
        if call is None:
            return None
        self.messages.append(call_message("", [call]))
        out = TOOLS.call(call["name"], call["arguments"], self.refs)
        self.messages.append(tool_message(call["name"], out))
        return out

    def answer(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": text})

    def conversation(self, task: str, kind: str, gold: str, template: str, **extra) -> chat_data.Conversation:
        return chat_data.Conversation(task, kind, self.messages, gold, template=template,
                                      extra={"user": self.user, "calls": self.calls, **extra})


def training_only(table: str, task: str | None = None) -> list[str]:
    """The training-only phrasings of `table` ("ASK", "SECOND", …; of `task` for ASK and FOLLOW_UP), from every
    `PHRASINGS` module."""
    return [t for m in PHRASINGS for t in (getattr(m, table).get(task, []) if task else getattr(m, table))]


def templates(table: list[str], extra: list[str], held_out: bool) -> list[str]:
    """The question templates of one table: its held-out ones for evaluation; for training the others plus the
    training-only phrasings (`training_only`)."""
    return T.eval_templates(table) if held_out else T.train_templates(table) + extra


def _oracle(task: str, row, rng: np.random.Generator) -> dict:
    out = {"description": str(getattr(row, "answer", ""))}
    if task in LEARNED:
        out["classify"] = _classified(task, str(row.answer), rng)
    return out


def _classified(task: str, answer: str, rng: np.random.Generator) -> dict:
    """GenomicLLM's result for `answer`, with a made-up probability (above 0.5) and the rest spread over the other
    labels."""
    labels = get_task(task).labels
    p = round(float(rng.uniform(0.5, 0.99)), 3)
    others = iter(np.round(rng.dirichlet(np.ones(len(labels) - 1)) * (1 - p), 3).tolist())
    probabilities = {lab: p if lab == answer else next(others) for lab in labels}
    return {"task": task, "answer": answer, "probabilities": probabilities}


def _made_up(task: str, rng: np.random.Generator) -> dict:
    return _classified(task, str(chat_data._pick(rng, list(get_task(task).labels))), rng)


def _symbol(row) -> str:
    return chat_data._fields(row).get("symbol", "")


def single(task: str, row, rng: np.random.Generator, held_out: bool, ask: dict | None = None
           ) -> tuple[chat_data.Conversation, Dialogue]:
    """One question about one record, its tool call and the reply (and the dialogue, to continue it); `ask`:
    question templates to use instead of the tables' (a second held-out set, `assistant_eval_phrasings`)."""
    source = TOOL_TASKS.get(task, task)
    table = A.ASK[task] if task in A.ASK else T.ASK[task]
    options = ask[task] if ask and task in ask else templates(table, training_only("ASK", task), held_out)
    template = chat_data._pick(rng, options)
    seq_text = chat_data.format_sequence(row.sequence, chat_data._pick(rng, list(chat_data.STYLES)), rng)
    kw = {"symbol": _symbol(row)} if source in ("gene_name", "gene_description") else {}
    if task == "translate_frame":
        kw["frame"] = int(rng.integers(2, 4))
    if task in A.ASK:
        question = template.format(seq=seq_text, **kw)
    else:
        question, qkw = chat_data._question(task, row, seq_text, template)
        kw.update({k: v for k, v in qkw.items() if k in ("field",)})
    TOOLS.oracle = _oracle(source, row, rng)
    d = Dialogue()
    d.ask(question)
    out = d.call(expected_call(task, **kw))
    if out is None:  # answered from the question itself
        value = chat_data.chat_value(task, str(row.answer))
        d.answer(chat_data._reply(task, value, rng, symbol=kw.get("symbol", ""), field=kw.get("field", "")))
        return d.conversation(task, "single", value, template, answer=value), d
    if "error" in out:
        d.answer(chat_data._pick(rng, A.REPLY["no_gene"]).format(value=kw.get("symbol", "")))
        return d.conversation(task, "single", kw.get("symbol", ""), template, answer=None), d
    result = out["result"]
    d.answer(reply(task, result, rng, **kw))
    gold = d.refs.expand(bold_value(task, result))
    return d.conversation(task, "single", gold, template, answer=str(row.answer)), d


def follow_up(first: chat_data.Conversation, d: Dialogue, rng: np.random.Generator, held_out: bool
              ) -> chat_data.Conversation:
    """The same sequence, another exact question (`chat_templates.FOLLOW_UP`), by reference 1."""
    tasks = T.FOLLOW_UP if held_out else dict.fromkeys([*T.FOLLOW_UP, *(t for m in PHRASINGS for t in m.FOLLOW_UP)])
    task = chat_data._pick(rng, [t for t in tasks if t != first.task])
    template = chat_data._pick(rng, templates(T.FOLLOW_UP.get(task, []), training_only("FOLLOW_UP", task), held_out))
    d = copy.deepcopy(d)
    d.ask(template)
    if task in LEARNED:  # the record has no label for this task: a made-up answer (the LoRA learns to copy it)
        TOOLS.oracle = {"classify": _made_up(task, rng)}
    result = d.call(expected_call(task))["result"]
    d.answer(reply(task, result, rng))
    return d.conversation(task, "follow_up", d.refs.expand(bold_value(task, result)), template,
                          first_task=first.task)


def second(first: chat_data.Conversation, d: Dialogue, row, rng: np.random.Generator, held_out: bool
           ) -> chat_data.Conversation:
    """The same question about another sequence: reference 2."""
    template = chat_data._pick(rng, templates(A.SECOND, training_only("SECOND"), held_out))
    d = copy.deepcopy(d)
    d.ask(template.format(seq=row.sequence))
    call = json.loads(json.dumps(first.extra["calls"][0]))
    call["arguments"]["sequence"] = str(sum(e.kind == "sequence" for e in d.refs.entries))
    TOOLS.oracle = _oracle(first.task, row, rng)
    result = d.call(call)["result"]
    d.answer(reply(first.task, result, rng, **{k: v for k, v in call["arguments"].items() if k == "frame"}))
    return d.conversation(first.task, "second", d.refs.expand(bold_value(first.task, result)), template,
                          answer=str(row.answer) if first.task in LEARNED else None)


def refusal(row, rng: np.random.Generator, held_out: bool) -> chat_data.Conversation:
    seq = list(row.sequence[:120])
    seq[int(rng.integers(len(seq)))] = chat_data._pick(rng, list(NOT_BASES))
    template = chat_data._pick(rng, templates(T.REFUSE_ASK, training_only("REFUSE_ASK"), held_out))
    d = Dialogue()
    d.ask(template.format(seq=chat_data.format_sequence("".join(seq), chat_data._pick(rng, ["raw", "groups"]), rng)))
    d.calls.append(None)
    entry = d.refs.last_user_sequence()
    m = re.match(r"not a nucleotide sequence: '(.)' at (line \d+, column \d+)", entry.error) if entry else None
    if m is None:  # the change made no invalid sequence (or one too short to be seen as one): not a refusal
        return None
    d.answer(chat_data._pick(rng, A.REFUSE).format(value=m.group(1), where=m.group(2)))
    return d.conversation("refuse", "refuse", m.group(1), template)


def no_tool(kind: str, rng: np.random.Generator, held_out: bool, row=None) -> chat_data.Conversation:
    """A turn answered without a tool: a question without a sequence, a sequence without a question, a general
    question, or something the assistant does not do."""
    pick = chat_data._pick
    d = Dialogue()
    if kind == "clarify":
        template = pick(rng, templates(T.CLARIFY_ASK, training_only("CLARIFY_ASK"), held_out))
        d.ask(template)
        answer = pick(rng, T.CLARIFY_ANSWER)
    elif kind == "no_task":
        template = pick(rng, templates(A.NO_TASK_ASK, training_only("NO_TASK_ASK"), held_out))
        d.ask(template.format(seq=row.sequence))
        answer = pick(rng, A.NO_TASK_ANSWER)
    elif kind == "concept":
        concept = pick(rng, list(A.CONCEPTS))
        template = pick(rng, templates(A.CONCEPT_ASK, training_only("CONCEPT_ASK"), held_out))
        article, answer = A.CONCEPTS[concept]
        d.ask(re.sub(r"\s+", " ", template.format(a=article, concept=concept)))
    else:
        template = pick(rng, templates(A.OFF_TOPIC_ASK, training_only("OFF_TOPIC_ASK"), held_out))
        d.ask(template)
        answer = pick(rng, A.OFF_TOPIC_ANSWER)
    d.calls.append(None)
    d.answer(answer)
    return d.conversation(kind, kind, "", template, concept=concept if kind == "concept" else None)


def usable_rows(df, order, n: int) -> list:
    """The first `n` records of `df` in `order`, each too short to be asked about replaced in place by the next
    unused one: a question must hold a sequence the runtime sees as one (a DNA run of >= `MIN_RUN` letters), and a
    6-nt nt2aa fragment would teach a failed call. Records in place keep their positions (and conversations)."""
    ok = df.sequence.str.len().to_numpy() >= MIN_RUN
    spare = (i for i in order[n:] if ok[i])
    picked = [i if ok[i] else next(spare, None) for i in order[:n]]
    if None in picked:
        raise ValueError(f"fewer than {n} records of at least {MIN_RUN} nt to ask about")
    return list(df.iloc[picked].itertuples())


def build(split: str, per_task: int, seed: int = 0, root: Path = DATASETS_DIR, held_out: bool | None = None,
          tasks: list[str] | None = None, ask: dict | None = None) -> list[chat_data.Conversation]:
    """`per_task` single-turn conversations per task (dataset tasks and tool tasks), plus the other kinds at
    `RATES` per single (`TRAIN_RATES` in training). `held_out` (default: split != "train") picks the
    evaluation-only templates; `ask` replaces the single questions' templates (`single`)."""
    held_out = split != "train" if held_out is None else held_out
    rates = RATES if held_out else TRAIN_RATES
    rng = np.random.default_rng([seed, 2 if held_out else 3])
    out: list[chat_data.Conversation] = []
    for task in tasks or [*chat_data.SOURCES, *TOOL_TASKS]:
        df = chat_data.load_records(TOOL_TASKS.get(task, task), split, root)
        rows = usable_rows(df, rng.permutation(len(df)), per_task)
        for row in rows:
            conv, d = single(task, row, rng, held_out, ask)
            out.append(conv)
            extra = rows[int(rng.integers(len(rows)))]
            if conv.extra["calls"][0] and "sequence" in conv.extra["calls"][0]["arguments"]:
                if rng.random() < rates["follow_up"]:
                    out.append(follow_up(conv, d, rng, held_out))
                if rng.random() < rates["second"]:
                    out.append(second(conv, d, extra, rng, held_out))
            if rng.random() < rates["refuse"] and (c := refusal(row, rng, held_out)) is not None:
                out.append(c)
            for kind in ("clarify", "no_task", "concept", "off_topic"):
                if rng.random() < rates[kind]:
                    out.append(no_tool(kind, rng, held_out, row))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="train")
    p.add_argument("--per-task", type=int, default=2)
    p.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    p.add_argument("--show", type=int, default=5)
    args = p.parse_args(argv)
    convs = build(args.split, args.per_task, root=args.datasets)
    print(f"{len(convs)} conversations: " + json.dumps({k: sum(c.kind == k for c in convs)
                                                         for k in dict.fromkeys(c.kind for c in convs)}))
    for c in convs[: args.show]:
        print(json.dumps(c.messages, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
