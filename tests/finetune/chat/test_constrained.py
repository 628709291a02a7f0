"""Constrained decoding of the assistant's tool calls (`assistant.constrained`): every call training writes is a path
of the grammar, a model that wants an unknown tool or a missing sequence is held to real ones, free text and a model
that already writes valid calls are left alone, a reply's bold values are held to what the tools returned, and the
kept KV cache and speculative drafts change no output."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from assistant.chat import TEMPLATE, HFChatModel, call_message, parse_output
from assistant.constrained import CallGrammar, Stated, decode
from assistant.references import References
from assistant.tools import Toolbox, stated
from finetune.chat import assistant_data, assistant_eval

CDS = "ATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGGCACAAATTTTCTGTCTAA"


@pytest.fixture(scope="module")
def tiny(tiny_chat):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_chat), AutoModelForCausalLM.from_pretrained(tiny_chat).eval()


def refs_with(n: int) -> References:
    refs = References()
    for k in range(n):
        refs.ingest(CDS[k:] + " ")
    return refs


def walk(root, ids):
    node = root
    for k, t in enumerate(ids):
        if node.open:
            return node, k
        node = node.children.get(t)
        if node is None:
            return None, k
    return node, len(ids)


def test_every_call_training_writes_is_a_path_of_the_grammar(tiny, corpus_root):
    tok, _ = tiny
    grammar = CallGrammar(tok)
    root = grammar.trie(*Toolbox().calls(refs_with(2)))
    tasks = ["gc_content", "reverse_complement", "translate_frame", "splice_site", "find_orfs", "gene_lookup_name"]
    calls = [c for conv in assistant_data.build("train", 6, 0, corpus_root, tasks=tasks)
             for c in conv.extra["calls"] if c]
    assert {c["name"] for c in calls} >= {"gc_content", "translate", "classify", "find_orfs", "gene_name"}
    for call in calls:
        ids = grammar.ids(grammar.text(call))
        node, k = walk(root, ids)
        if call["name"] in ("gene_name", "gene_summary"):  # free text from the query on
            assert node is not None and node.open and call["arguments"]["query"] in tok.decode(ids[k:])
        else:
            assert node is not None and node.end and k == len(ids), call


def test_a_gene_query_is_a_run_of_the_users_words_rendered_as_the_template_writes_it(tiny):
    tok, _ = tiny
    said = ["What does PCYT1B-AS1 do, and [sequence 1: 93 nt]?", "and proliferating cell nuclear antigen?"]
    whole, opened = Toolbox().calls(refs_with(1), said)
    queries = {c["arguments"]["query"] for c in whole if c["name"] == "gene_name"}
    assert not opened and {"PCYT1B-AS1", "proliferating cell nuclear antigen", "What does"} <= queries
    assert not any("[" in q or q.endswith("?") or q.endswith(",") for q in queries)
    assert not queries & {"1", "93", "1: 93", "nt", "and 1"}  # no piece of the placeholder: a symbol is never "1"
    grammar = CallGrammar(tok)
    for call in [c for c in whole if c["name"] == "gene_summary"][:20] + whole[:5]:
        assert grammar.text(call) == grammar._render(call)  # the shape's markers written in exactly
    quoted = {"name": "gene_name", "arguments": {"query": 'a "quoted" \\ name'}}
    assert grammar.text(quoted) == grammar._render(quoted)
    root = grammar.trie(whole, opened)
    node, k = walk(root, grammar.ids(grammar.text({"name": "gene_name", "arguments": {"query": "PCYT1B-AS1"}})))
    assert node is not None and node.end
    assert walk(root, grammar.ids(grammar.text({"name": "gene_name", "arguments": {"query": "PYT1B-AS1"}})))[0] is None


def test_a_frame_is_written_only_when_the_user_named_it():
    def frames(said):
        whole, _ = Toolbox().calls(refs_with(2), said)
        return {c["arguments"].get("frame") for c in whole if c["name"] == "translate"}

    assert frames(["Translate [sequence 2: 93 nt], an in-frame coding fragment"]) == {None}  # not the reference's 2
    assert frames(["Start at the third base of [sequence 1: 93 nt]", "and the first?"]) == {None, 1, 3}
    assert frames(["Translate [sequence 1: 93 nt] in frame two, or is it the first?"]) == {2}  # stated: written
    assert frames(None) == {None, 1, 2, 3}  # words unknown: every value


def test_a_frame_the_newest_message_states_is_written_as_stated():
    def frames(*said):
        whole, _ = Toolbox().calls(refs_with(2), list(said))
        return {c["arguments"].get("frame") for c in whole if c["name"] == "translate"}

    assert frames("Translate [sequence 1: 93 nt] in frame 2") == {2}
    assert frames("Read [sequence 1: 93 nt] from position 3 and translate it.") == {3}
    assert frames("translate sequence 2 from the 3rd nucleotide") == {3}  # "sequence 2" names no frame
    assert frames("Translate it in frame 2", "and in frame 3?") == {3}
    assert frames("Translate it in frame 2", "now the reverse complement") == {None, 2}  # named before: may repeat
    assert frames("Translate [sequence 1: 93 nt] in frame 2 or frame 3") == {2, 3}  # the LLM picks between them
    assert None in frames("Translate it (three-letter codes), skipping two bases")  # counts state no position


def test_the_grammar_holds_only_real_tools_and_the_conversations_sequences():
    whole, opened = Toolbox().calls(refs_with(2))
    assert {c["name"] for c in whole + opened} == set(Toolbox.NAMES)
    assert {c["arguments"].get("sequence") for c in whole} == {"1", "2"}
    translate = [c["arguments"] for c in whole if c["name"] == "translate" and c["arguments"]["sequence"] == "1"]
    assert translate == [{"sequence": "1"}, *({"sequence": "1", "frame": f} for f in (1, 2, 3))]
    assert [c["name"] for c in opened] == ["gene_name", "gene_summary"]
    assert {c["arguments"].get("sequence") for c in Toolbox().calls(References())[0]} == {"1"}


class Wants(torch.nn.Module):
    """The tiny model pushed to write `target` (token ids) after a prompt of `prompt_len` tokens."""

    def __init__(self, model, prompt_len: int, target: list[int], eos: int):
        super().__init__()
        self.model, self.config, self.prompt_len, self.target, self.eos = model, model.config, prompt_len, target, eos

    def forward(self, input_ids, cache, **kw):
        logits = self.model(input_ids=input_ids, cache=cache, **kw).logits.clone()
        n = cache.get_seq_length() - self.prompt_len
        logits[0, -1, self.target[n] if n < len(self.target) else self.eos] += 1000.0
        return SimpleNamespace(logits=logits)


def constrained_output(tiny, wanted: str, n_refs: int = 1, values: list[str] | None = None) -> str:
    from transformers import DynamicCache

    tok, model = tiny
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "[sequence 1: 93 nt] reverse it"}]
    prompt = tok.apply_chat_template(messages, tools=Toolbox().schemas(), add_generation_prompt=True, tokenize=True,
                                     return_dict=True)["input_ids"]
    wants = Wants(model, len(prompt), tok(wanted, add_special_tokens=False)["input_ids"], tok.eos_token_id)
    root = CallGrammar(tok).trie(*Toolbox().calls(refs_with(n_refs)))
    with torch.no_grad():
        out, fed = decode(wants, tok, prompt, DynamicCache(config=model.config), 0, root, 64,
                          Stated(values) if values else None)
    assert fed[: len(prompt)] == prompt and fed[len(prompt):] == out[:-1]
    return tok.decode(out, skip_special_tokens=True)


def test_an_invented_tool_or_a_missing_sequence_is_held_to_real_ones(tiny):
    _, calls = parse_output(constrained_output(
        tiny, '<tool_call>{"name": "revcomp", "arguments": {"sequence": "1"}}</tool_call>'))
    assert len(calls) == 1 and calls[0]["name"] in Toolbox.NAMES and calls[0]["arguments"]["sequence"] == "1"
    _, calls = parse_output(constrained_output(
        tiny, '<tool_call>{"name": "classify", "arguments": {"task": "promoter", "sequence": "3"}}</tool_call>'))
    assert calls == [{"name": "classify", "arguments": {"task": "promoter", "sequence": "1"}}]


def test_valid_calls_and_free_text_come_out_as_the_model_writes_them(tiny):
    tok, _ = tiny
    call = {"name": "translate", "arguments": {"sequence": "2", "frame": 3}}
    text = CallGrammar(tok).text(call)
    assert constrained_output(tiny, text, n_refs=2) == text
    assert constrained_output(tiny, "Hello, which sequence?") == "Hello, which sequence?"
    lookup = '<tool_call>{"name": "gene_name", "arguments": {"query": "PCNA"}}</tool_call>'
    assert parse_output(constrained_output(tiny, lookup))[1] == [{"name": "gene_name", "arguments": {"query": "PCNA"}}]


def test_a_stated_value_is_only_ever_continued_by_itself():
    held = Stated(["0.597", "PCNA", "proliferating cell nuclear antigen"])
    assert held.allows("It is ", "It is **0.5") and held.allows("It is **0.5", "It is **0.597**.")
    assert not held.allows("It is ", "It is **0.4") and not held.allows("It is **0.59", "It is **0.59**")
    assert held.allows("**PCNA** and ", "**PCNA** and **Prolif")  # a second span starts over, case-blind
    assert held.rest("The GC content is **0.5") == "97**" and held.rest("It is **pc") == "NA**"
    assert held.rest("It is **") is None and held.rest("**0.597** closed") is None  # several values left; none open


def test_a_reply_states_the_tools_value_even_when_the_model_would_misquote_it(tiny):
    gene = {"symbol": "PCNA", "full_name": "proliferating cell nuclear antigen"}
    values = [*stated("gene_name", gene), *stated("gene_summary", {**gene, "summary": "[text 1: 80 words]"})]
    assert values == ["proliferating cell nuclear antigen", "[text 1]"]
    assert constrained_output(tiny, "It is **[text 1]**.", values=values) == "It is **[text 1]**."  # as written
    assert constrained_output(tiny, "GC: **0.412**.", values=["0.597"]).startswith("GC: **0.597**")
    reply = constrained_output(tiny, "It stands for **proliferating nuclear antigen**.", values=values)
    assert reply.startswith("It stands for **") and assistant_eval.bold(reply).lower() in map(str.lower, values)


def test_the_kept_cache_and_the_decoder_change_no_output(tiny):
    tok, model = tiny
    kept = HFChatModel(tok, model, max_new_tokens=12, constrain=False)
    assert tok.chat_template == TEMPLATE
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "GC of [sequence 1: 93 nt]?"}]
    grown = [*messages, call_message("", [{"name": "gc_content", "arguments": {"sequence": "1"}}]),
             {"role": "tool", "name": "gc_content", "content": '{"result": 0.4}'}]
    schemas = Toolbox().schemas()
    for msgs in (messages, grown, messages):  # the second reuses the first's cache, the third cuts it back
        prompt = tok.apply_chat_template(msgs, tools=schemas, add_generation_prompt=True, return_tensors="pt",
                                         return_dict=True)
        with torch.no_grad():
            ref = model.generate(**prompt, max_new_tokens=12, do_sample=False, eos_token_id=tok.eos_token_id,
                                 pad_token_id=tok.pad_token_id)
        expected = tok.decode(ref[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True).strip()
        assert kept.complete(msgs, schemas) == expected
        assert kept._cached[: 20] == prompt["input_ids"][0, :20].tolist()


class Counting(torch.nn.Module):
    """A model that counts its forward passes."""

    def __init__(self, model):
        super().__init__()
        self.model, self.config, self.passes = model, model.config, 0

    def forward(self, **kw):
        self.passes += 1
        return self.model(**kw)


def test_drafts_change_no_output_and_save_forward_passes(tiny):
    tok, model = tiny
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "GC of [sequence 1: 93 nt]?"}]
    schemas = Toolbox().schemas()
    plain, drafted = Counting(model), Counting(model)
    without = HFChatModel(tok, plain, max_new_tokens=24, constrain=False, speculate=False)
    with_drafts = HFChatModel(tok, drafted, max_new_tokens=24, constrain=False)
    for _ in range(2):  # the second time, the first output is the guess
        assert with_drafts.complete(messages, schemas) == without.complete(messages, schemas)
    assert drafted.passes < plain.passes
    assert with_drafts._cached == without._cached  # the cache holds no rejected guess


class WrongGuesses:
    """A drafter whose guesses the model never takes past their first token."""

    def propose(self, ids):
        return [ids[-1], 7, 7, 7]

    def learn(self, prompt, out):
        pass


def test_rejected_guesses_are_cut_from_the_cache(tiny):
    tok, model = tiny
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "GC of [sequence 1: 93 nt]?"}]
    schemas = Toolbox().schemas()
    without = HFChatModel(tok, model, max_new_tokens=16, constrain=False, speculate=False)
    wrong = HFChatModel(tok, model, max_new_tokens=16, constrain=False)
    wrong.drafter = WrongGuesses()
    for _ in range(2):  # the second call reuses the cache the first one cut
        assert wrong.complete(messages, schemas) == without.complete(messages, schemas)
        assert wrong._cached == without._cached and wrong._cache.get_seq_length() == len(wrong._cached)
