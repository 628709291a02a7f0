"""The chat assistant (issue 16): tool schemas generated from the functions, sequence references, the tool loop with
a scripted model and with a tiny random model, the training data and loss mask, a LoRA smoke run, and the evaluation
(a model that replays the gold conversations scores perfectly). No SmolLM2 needed: a tiny byte-level BPE + 2-layer
Llama stands in for it."""

from __future__ import annotations

import json
import re

import pytest
import torch

from assistant.chat import TEMPLATE, Assistant, HFChatModel, ScriptedModel, parse_output
from assistant.references import MAX_BASES, References, UnknownReference
from assistant.tools import LEARNED, Toolbox, stated
from finetune.chat import assistant_data, assistant_eval, lora
from finetune.chat import chat_templates as T
from tasks.grammar import exact_answer
from tasks.registry import TASKS

EXACT_TASKS = ["gc_content", "reverse_complement", "nt2aa"]
CDS = "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTCTAA"


# ------------------------------------------------------------------------------------------------------ tools
def test_tool_schemas_are_generated_from_the_functions():
    schemas = {s["function"]["name"]: s["function"] for s in Toolbox().schemas()}
    assert list(schemas) == list(Toolbox.NAMES)
    assert schemas["translate"]["parameters"]["required"] == ["sequence"]  # frame has a default
    assert schemas["translate"]["parameters"]["properties"]["frame"]["type"] == "integer"
    enum = schemas["classify"]["parameters"]["properties"]["task"]["enum"]
    assert tuple(enum) == LEARNED and set(enum) <= set(TASKS) and "histone_mark" not in enum
    assert all(f["description"] for f in schemas.values())


def test_exact_tools_follow_the_registry_rules():
    tb = Toolbox()
    assert tb.gc_content(CDS) == float(exact_answer("gc_content", CDS))
    assert tb.reverse_complement(CDS) == exact_answer("reverse_complement", CDS)
    assert tb.translate(CDS) == "MASKGEELFTGVVPILVELDGDVNGHKFSV*"
    assert tb.translate(CDS, frame=2) == tb.translate(CDS[1:])
    assert tb.base_counts("ACGTNA") == {"A": 2, "C": 1, "G": 1, "T": 1, "other": 1}
    assert tb.find_orfs(CDS, min_codons=10)["longest"][0] == {"frame": 1, "start": 1, "end": len(CDS),
                                                                 "codons": len(CDS) // 3}
    with pytest.raises(ValueError, match="frame"):
        tb.translate(CDS, frame=4)


def test_gene_look_ups_answer_one_fact_each_from_the_table():
    import pandas as pd

    table = pd.DataFrame({"full_name": ["proliferating cell nuclear antigen"], "synonyms": ["ATLD2"],
                          "summary": ["Cofactor of DNA polymerase delta. "]}, index=pd.Index(["PCNA"], name="symbol"))
    tb = Toolbox(genes=lambda: table)
    assert tb.gene_name("pcna") == {"symbol": "PCNA", "full_name": "proliferating cell nuclear antigen"}
    assert tb.gene_summary("ATLD2")["summary"] == "Cofactor of DNA polymerase delta."  # a synonym; the text, unpadded
    assert stated("gene_summary", tb.gene_summary("PCNA")) == ["Cofactor of DNA polymerase delta."]
    with pytest.raises(LookupError, match="close: PCNA"):
        tb.gene_name("PCNB")


def test_a_bold_value_may_hold_stop_codons():
    assert assistant_eval.bold("Frame 3: **LV**GF*** (two stops inside, one at the end).") == "LV**GF*"
    assert assistant_eval.bold("It is **yes** (probability 0.7), not **no**.") == "yes"
    assert assistant_eval.bold("The GC content is **0.509**C.") == "0.509"  # a stray letter after a number


# ------------------------------------------------------------------------------------------------- references
@pytest.mark.parametrize("pasted", [CDS, CDS.lower(), ">my read\n" + "\n".join(CDS[i:i + 60] for i in range(0, 93, 60)),
                                    " ".join(CDS[i:i + 10] for i in range(0, 93, 10)), CDS.replace("T", "U")])
def test_every_way_of_pasting_becomes_one_reference(pasted):
    refs = References()
    text = refs.ingest(f"What's the GC content of {pasted} please?")
    assert text == f"What's the GC content of [sequence 1: {len(CDS)} nt] please?"
    assert refs.resolve(None) == refs.resolve("1") == refs.resolve("[sequence 1: 93 nt]") == CDS


def test_invalid_sequences_carry_the_normalisers_error():
    refs = References()
    text = refs.ingest(f"Is {CDS[:40]}I{CDS[41:]} an enhancer? What is a promoter, GATA1 or TTAGGG?")
    assert text == "Is [sequence 1: not a nucleotide sequence: 'I' at line 1, column 41] an enhancer? " \
                   "What is a promoter, GATA1 or TTAGGG?"
    with pytest.raises(UnknownReference, match="'I' at line 1, column 41"):
        refs.resolve("1")
    assert "over the limit" in References().ingest("A" * (MAX_BASES + 1))
    with pytest.raises(UnknownReference, match="no sequence"):
        References().resolve(None)


def test_follow_ups_default_to_the_users_last_sequence_and_values_are_stored():
    refs, tb = References(), Toolbox()
    refs.ingest(f"first {CDS} then {CDS[:30]}")
    out = tb.call("reverse_complement", {}, refs)
    assert out == {"result": "[sequence 3: 30 nt]"}  # the default: the user's last sequence (2)
    assert refs.expand("**[sequence 3]**") == f"**{exact_answer('reverse_complement', CDS[:30])}**"
    assert refs.ingest(f"again {CDS}") == "again [sequence 1: 93 nt]"  # pasted again: the same number
    assert tb.call("length", {"sequence": "3"}, refs) == {"result": 30}
    assert "there is no sequence 9" in tb.call("gc_content", {"sequence": "9"}, refs)["error"]
    assert "unknown tool" in tb.call("rm_rf", {}, refs)["error"]


def test_tool_calls_are_parsed_or_reported():
    text, calls = parse_output('Sure. <tool_call>{"name": "gc_content", "arguments": {"sequence": "1"}}</tool_call>')
    assert text == "Sure." and calls == [{"name": "gc_content", "arguments": {"sequence": "1"}}]
    _, calls = parse_output("<tool_call>{name: gc}</tool_call>")
    assert calls[0]["error"].startswith("unparseable tool call")


# --------------------------------------------------------------------------------------------------- the loop
def scripted(messages: list[dict]) -> str:
    """Calls gc_content or reverse_complement on the question, then states the tool's result."""
    last = messages[-1]
    if last["role"] == "tool":
        value = json.loads(last["content"])["result"]
        return f"The answer is **{re.sub(r': [^]]*', '', str(value))}**."
    name = "reverse_complement" if "reverse" in last["content"] else "gc_content"
    return f'<tool_call>{{"name": "{name}", "arguments": {{}}}}</tool_call>'


def test_scripted_model_drives_the_tool_loop_with_follow_ups():
    bot = Assistant(ScriptedModel(scripted))
    turn = bot.ask(f"GC content of {CDS.lower()}?")
    assert turn.reply == f"The answer is **{float(exact_answer('gc_content', CDS))}**." and turn.tools == ["gc_content"]
    turn = bot.ask("and its reverse complement?")
    assert turn.reply == f"The answer is **{exact_answer('reverse_complement', CDS)}**."
    assert [m["role"] for m in bot.messages] == ["system", "user", "assistant", "tool", "assistant"] * 1 + \
        ["user", "assistant", "tool", "assistant"]
    assert CDS not in json.dumps(bot.messages)  # the LLM never saw (nor wrote) the bases


def test_restore_from_visible_history_keeps_the_numbers():
    bot = Assistant(ScriptedModel(scripted))
    bot.restore([{"role": "user", "content": f"GC of {CDS}"}, {"role": "assistant", "content": "**0.4**"}])
    assert bot.messages[1]["content"] == "GC of [sequence 1: 93 nt]"
    assert bot.ask("reverse complement?").reply.endswith(f"**{exact_answer('reverse_complement', CDS)}**.")


def test_tiny_model_runs_the_loop_end_to_end(tiny_chat):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok, model = AutoTokenizer.from_pretrained(tiny_chat), AutoModelForCausalLM.from_pretrained(tiny_chat)
    bot = Assistant(HFChatModel(tok, model, max_new_tokens=8))
    turn = bot.ask(f"GC content of {CDS}?")
    assert isinstance(turn.reply, str) and len(turn.outputs) >= 1 and turn.seconds > 0
    prompt = tok.apply_chat_template(bot.messages[:2], tools=bot.schemas, tokenize=False, add_generation_prompt=True)
    assert "gc_content(sequence)" in prompt and "[sequence 1: 93 nt]" in prompt and CDS not in prompt


# ---------------------------------------------------------------------------------------------- data, training
@pytest.fixture(scope="module")
def train_convs(corpus_root):
    return assistant_data.build("train", 6, 0, corpus_root, tasks=EXACT_TASKS + ["splice_site", "gene_name"])


def test_training_conversations_call_the_right_tools(train_convs):
    kinds = {c.kind for c in train_convs}
    assert {"single", "follow_up"} <= kinds
    for c in train_convs:
        call = c.extra["calls"][-1]
        if c.kind == "single" and c.task in LEARNED:
            assert call == {"name": "classify", "arguments": {"task": c.task, "sequence": "1"}}
        if c.kind in ("single", "follow_up") and c.task in ("gc_content", "reverse_complement"):
            assert call["name"] == c.task and c.messages[-1]["content"].count("**") == 2
        assert not re.search(r"[ACGT]{20}", json.dumps(c.messages)), "bases reached the LLM's messages"


def test_records_too_short_to_reference_are_replaced_in_place():
    import pandas as pd

    df = pd.DataFrame({"sequence": ["ACGTACGTAC", "CTTTAA", "GGGGCCCCAA", "ACG", "TTTTGGGGCC"]})
    rows = assistant_data.usable_rows(df, [1, 0, 3, 2, 4], 2)
    assert [r.Index for r in rows] == [2, 0]  # the 6-nt record's place goes to the next long one, skipping 3 nt
    assert References().ingest(df.sequence[1]) == df.sequence[1]  # why: the runtime does not see 6 nt as DNA
    with pytest.raises(ValueError, match="fewer than 3 records"):
        assistant_data.usable_rows(df, [1, 3, 0], 3)  # not enough long records: an error, not fewer rows


def test_training_replies_bold_only_what_the_runtime_lets_them(train_convs):
    """Every bold span of a reply after tool results is one of `tools.stated` (what `constrained.Stated` allows)."""
    checked = 0
    for c in train_convs:
        msgs = c.messages
        for k, m in enumerate(msgs):
            if m["role"] != "assistant" or m.get("tool_calls") or k == 0 or msgs[k - 1]["role"] != "tool":
                continue
            start = max(j for j in range(k) if msgs[j]["role"] == "user")
            values = []
            for t in msgs[start:k]:
                result = json.loads(t["content"]) if t["role"] == "tool" else {}
                if "result" in result:
                    values += stated(t["name"], result["result"])
            if not values:  # the tool said what was wrong: the reply explains it in its own words
                continue
            spans = m["content"].split("**")[1::2]
            assert spans and all(s.lower() in map(str.lower, values) for s in spans), (m["content"], values)
            checked += 1
    assert checked > 20


def test_held_out_templates_stay_out_of_training(corpus_root, train_convs):
    from finetune.chat import assistant_templates as A

    tables = [*T.ASK.values(), *A.ASK.values(), *T.FOLLOW_UP.values(), T.REFUSE_ASK, T.CLARIFY_ASK, A.SECOND,
              A.NO_TASK_ASK, A.CONCEPT_ASK, A.OFF_TOPIC_ASK]
    held_out = {t for table in tables for t in T.eval_templates(table)}
    assert all(c.template not in held_out for c in train_convs)
    extra = [table for P in assistant_data.PHRASINGS for table in [*P.ASK.values(), *P.FOLLOW_UP.values(),
             P.REFUSE_ASK, P.CLARIFY_ASK, P.SECOND, P.NO_TASK_ASK, P.CONCEPT_ASK, P.OFF_TOPIC_ASK]]
    assert not held_out & {t for table in extra for t in table}  # the training-only phrasings hold none of them
    for P in assistant_data.PHRASINGS:  # every set is drawn from
        assert any(c.template in P.ASK.get(c.task, []) for c in train_convs if c.kind == "single")
    from finetune.chat.assistant_eval import BLIND_SETS, conversations

    trained = ({c.template for c in train_convs} | {t for table in extra for t in table}
               | {t for table in tables for t in T.train_templates(table)})
    for name, ask in BLIND_SETS.items():  # the held-out sets written blind
        fresh = {t for table in ask.values() for t in table}
        assert fresh and not fresh & trained, name
        asked = conversations("validation", 2, 0, corpus_root, EXACT_TASKS, name)
        assert all(c.template in fresh for c in asked if c.kind == "single"), name
    evals = assistant_data.build("validation", 4, 0, corpus_root, tasks=EXACT_TASKS)
    assert all(c.template in held_out for c in evals)


def test_loss_mask_covers_tool_calls_and_replies(tiny_chat, train_convs):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_chat)
    conv = next(c for c in train_convs if c.kind == "follow_up")
    ids, w = lora.encode(tok, conv.messages, Toolbox().schemas())
    target = tok.decode(ids[w == 1])
    assert target.count("<|im_end|>") == 4 and target.count("<tool_call>") == 2
    assert conv.messages[-1]["content"] + "<|im_end|>" in target and '"result"' not in target


def test_lora_smoke_run_writes_an_adapter_without_dna_tokens(tiny_chat, corpus_root, tmp_path):
    cfg = lora.LoraTrainConfig(base=str(tiny_chat), datasets=str(corpus_root), data="assistant", dna_tokens=False,
                               tasks=EXACT_TASKS, per_task=3, r=2, alpha=4, dropout=0.0, max_len=4096,
                               tokens_per_batch=800, microbatch_tokens=2000, steps=2, warmup_steps=1,
                               checkpoint_every=2)
    adapter = lora.train(cfg, tmp_path, progress=False)
    assert "tool_call" in (adapter / "chat_template.jinja").read_text()
    tok, model = lora.load_chat_model(adapter, tiny_chat, dna_tokens=False)
    assert Assistant(HFChatModel(tok, model, max_new_tokens=4)).ask(f"length of {CDS}").outputs
    common = ["--adapter", str(adapter), "--base", str(tiny_chat), "--datasets", str(corpus_root), "--per-task", "4",
              "--split", "validation", "--tasks", *EXACT_TASKS]
    assistant_eval.main([*common, "--workers", "2", "--out", str(tmp_path / "two")])
    assistant_eval.main([*common, "--workers", "1", "--out", str(tmp_path / "one")])
    two, one = (json.loads((tmp_path / d / "eval.json").read_text()) for d in ("two", "one"))
    assert two["workers"] == 2 and two["conversations"] == one["conversations"] > 10
    assert two["groups"] == one["groups"] and two["examples"] == one["examples"]  # the split changes nothing



def test_a_second_run_starts_from_the_first_adapter_and_sums_both(tiny_chat, corpus_root, tmp_path):
    from dataclasses import replace

    from safetensors.torch import load_file

    cfg = lora.LoraTrainConfig(base=str(tiny_chat), datasets=str(corpus_root), data="assistant", dna_tokens=False,
                               tasks=["gc_content"], per_task=3, r=2, alpha=4, dropout=0.0, max_len=4096,
                               tokens_per_batch=800, microbatch_tokens=2000, steps=2, warmup_steps=1, lr=1e-2,
                               checkpoint_every=2)
    first = lora.train(cfg, tmp_path / "one", progress=False)
    second = lora.train(replace(cfg, init_from=str(first), steps=1, lr=0.0), tmp_path / "two", progress=False)
    a, b = (load_file(d / "adapter_model.safetensors") for d in (first, second))
    assert any(float(v.abs().sum()) > 0 for k, v in a.items() if "lora_B" in k)  # a fresh LoRA has B = 0
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # lr 0: still the first run's LoRA
    summary = lora.training_summary(tmp_path / "two")
    assert summary["init_from"]["steps"] == 2 and summary["total_steps"] == 3
    assert summary["total_tokens"] == summary["tokens"] + summary["init_from"]["tokens"] > 0


# ------------------------------------------------------------------------------------------------- evaluation
def replaying(conv) -> ScriptedModel:
    """A model that says exactly what the gold conversation says (its tool calls and replies), in order."""
    outputs = [m for m in conv.messages if m["role"] == "assistant"]

    def script(messages: list[dict]) -> str:
        m = outputs[sum(x["role"] == "assistant" for x in messages)]
        calls = "".join(f'<tool_call>{json.dumps({"name": c["function"]["name"], "arguments": c["function"]["arguments"]})}'
                        "</tool_call>" for c in m.get("tool_calls", []))
        return m["content"] + calls

    return ScriptedModel(script)


def test_gold_conversations_score_perfectly(corpus_root):
    convs = assistant_data.build("validation", 5, 1, corpus_root, tasks=EXACT_TASKS)
    turns, scores = [], []
    for c in convs:
        bot = Assistant(replaying(c))
        turns.append(assistant_eval.replay(bot, c))
        scores.append(assistant_eval.judge(c, turns[-1], bot.refs))
    result = assistant_eval.tabulate(convs, turns, scores, assistant_eval.old_numbers())
    assert all(v == 1.0 for v in result["overall"].values()), result["overall"]
    assert result["groups"]["gc_content"]["old_adapter"] is not None  # the old adapter's row, for the comparison
    assert "| gc_content |" in assistant_eval.markdown(result)
    wrong = assistant_eval.judge(convs[0], assistant_eval.Turn("I think **0.1**."), References())
    assert wrong["routing"] == 0 and wrong["correct"] == 0


def test_arguments_are_judged_as_the_tool_runs_them(corpus_root):
    conv = next(c for c in assistant_data.build("validation", 3, 1, corpus_root, tasks=["nt2aa"]) if c.kind == "single")
    assert conv.extra["calls"][-1] == {"name": "translate", "arguments": {"sequence": "1"}}

    def judged(arguments):
        turn = assistant_eval.Turn("It encodes **x**.", [assistant_eval.ToolCall("translate", arguments, {})])
        return assistant_eval.judge(conv, turn, References())["arguments"]

    assert judged({"sequence": "1"}) == judged({"sequence": "1", "frame": 1}) == 1  # frame 1 is the default
    assert judged({"sequence": "1", "frame": 2}) == 0 and judged({"sequence": "2"}) == 0
