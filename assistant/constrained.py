"""Greedy decoding that keeps tool calls well formed: the calls a turn can make, as a trie of their tokens.

The model still decides everything it has a choice in: whether to call a tool at all (its first token opens
`<tool_call>` or not), and, wherever the possible calls part (the tool's name, an enum value, which sequence), the
most likely of the tokens that continue one of them. Where only one continuation is left (`{"name": "`, the
argument keys, `"}}</tool_call>`) the tokens are written without asking, several in one forward pass. So a call
always names a real tool with arguments it takes and a sequence the conversation holds, and a `classify` call costs
about 8 forward passes instead of 35. Free text (the reply, a gene look-up's query) is greedy decoding, with one
hold: after the tools have answered, a bold span `**…**` of the reply (where replies put the value) can only be one of
the values they returned (`Stated`), so a reply never misquotes a result; once one value is left it is written
without asking.

    grammar = CallGrammar(tok)                          # renders calls with the tokenizer's own chat template
    root = grammar.trie(calls, open_calls)              # from `Toolbox.calls(refs)`
    ids, fed = decode(model, tok, prompt_ids, cache, 0, root, 96, Stated(["0.597"]))

Calls are the template's own rendering of an assistant turn that makes them (exactly what training put in the loss),
so the trie holds the token sequences the LoRA learned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

OPEN = "\u2063OPEN\u2063"  # stands for a free-text argument while a call is rendered; cut there


@dataclass
class Node:
    children: dict[int, Node] = field(default_factory=dict)
    end: bool = False  # a whole call ends here: back to free text (another call may follow)
    open: bool = False  # a free-text argument starts here: free text until the call closes


def build_trie(complete: list[list[int]], opened: list[list[int]]) -> Node:
    """The trie of whole calls (`complete`) and of calls up to a free-text argument (`opened`)."""
    root = Node()
    for ids, mark in [*((c, "end") for c in complete), *((o, "open") for o in opened)]:
        node = root
        for t in ids:
            node = node.children.setdefault(t, Node())
        setattr(node, mark, True)
    return root


class CallGrammar:
    """Token sequences of tool calls, rendered by `tok`'s chat template (tries cached by the calls they hold)."""

    TRIES = 16  # tries kept (a turn's free-text choices, the user's words, make a new one)

    def __init__(self, tok):
        self.tok, self._tries, self._shapes = tok, {}, {}

    def text(self, call: dict) -> str:
        """What the template writes for an assistant turn making `call` (a content-less turn; no end-of-turn).
        Rendered once per shape (tool, argument keys, non-text values) with markers for the text values, which
        are then written in as the template's `tojson` writes them: hundreds of quoted-span calls cost no more
        template renders than one."""
        args = call["arguments"]
        texts = {k: v for k, v in args.items() if isinstance(v, str) and v != OPEN}
        shape = json.dumps([call["name"], {k: None if k in texts else v for k, v in args.items()}], sort_keys=True)
        if shape not in self._shapes:
            marked = {k: f"\u2063{i}\u2063" if k in texts else v for i, (k, v) in enumerate(args.items())}
            self._shapes[shape] = self._render({"name": call["name"], "arguments": marked})
        out = self._shapes[shape]
        for i, (k, v) in enumerate(args.items()):
            if k in texts:
                out = out.replace(f"\u2063{i}\u2063", json.dumps(v, ensure_ascii=False)[1:-1])
        return out

    def _render(self, call: dict) -> str:
        from .chat import call_message

        system = [{"role": "system", "content": ""}]
        prompt = self.tok.apply_chat_template(system, tokenize=False, add_generation_prompt=True)
        full = self.tok.apply_chat_template([*system, call_message("", [call])], tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template does not render an assistant turn after its generation prompt")
        out = full[len(prompt) :]
        eos = self.tok.eos_token or ""
        return out[: out.rfind(eos)] if eos and eos in out else out

    def ids(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"]

    def trie(self, complete: list[dict], opened: list[dict]) -> Node:
        """`complete`: whole calls; `opened`: calls whose last argument is free text (its value `OPEN`)."""
        key = json.dumps([complete, opened], sort_keys=True)
        if key not in self._tries:
            heads = []
            for call in opened:
                text = self.text(call)
                if OPEN not in text:
                    raise ValueError(f"an open call must hold {OPEN!r} as its free-text argument: {call}")
                heads.append(self.ids(text[: text.index(OPEN)]))
            whole = self.tok([self.text(c) for c in complete], add_special_tokens=False)["input_ids"]
            if len(self._tries) >= self.TRIES:
                self._tries.pop(next(iter(self._tries)))
            self._tries[key] = build_trie(whole, heads)
        return self._tries[key]


BOLD = "**"
CANDIDATES = 64  # most likely tokens tried, in order, for one that keeps a bold span a stated value


class Stated:
    """The values a reply may write in bold: text whose bold spans are each one of `values` (or on its way to one),
    case-blind (a label opens a sentence: `**Yes**, …`)."""

    def __init__(self, values: list[str]):
        self.written = {v.lower(): v for v in values if v}  # compared lower-cased, written as the tool wrote it

    def _open(self, text: str) -> str | None:
        """The open bold span's text so far, lower-cased (None: no span is open)."""
        parts = text.lower().split(BOLD)
        return parts[-1] if len(parts) % 2 == 0 else None

    def allows(self, before: str, after: str) -> bool:
        """Whether text may grow from `before` to `after`: every span closed on the way is a value, an open one
        begins one."""
        closed = after.lower().split(BOLD)[1 : after.count(BOLD) // 2 * 2 : 2]
        done = before.count(BOLD) // 2
        if any(span not in self.written for span in closed[done:]):
            return False
        span = self._open(after)
        return span is None or any(v.startswith(span) for v in self.written)

    def rest(self, text: str) -> str | None:
        """What is left to write of the open span's value, closing it, when only one value can continue it."""
        span = self._open(text)
        if span is None:
            return None
        left = [v for v in self.written if v.startswith(span)]
        return self.written[left[0]][len(span) :] + BOLD if len(left) == 1 else None


def decode(model, tok, prompt: list[int], cache, cached: int, root: Node | None, max_new_tokens: int,
           stated: Stated | None = None, drafter=None) -> tuple[list[int], list[int]]:
    """Greedy continuation of `prompt` (its first `cached` tokens already in `cache`), held to `root`'s calls where
    a call starts (at the beginning, or right after a call) and to `stated` values in bold spans; in free text,
    `drafter`'s guesses (`drafts.Drafter`) are checked in the same forward pass. Returns (new tokens, every token
    now in the cache)."""
    import torch

    fed, feed = list(prompt[:cached]), list(prompt[cached:])
    out: list[int] = []
    node, call_may_start, done = None, root is not None, False
    while len(out) < max_new_tokens and not done:
        free = drafter is not None and node is None and not call_may_start
        draft = drafter.propose(fed + feed)[: max_new_tokens - len(out) - 1] if free else []
        rows = model(input_ids=torch.tensor([feed + draft]), cache=cache, use_cache=True,
                     logits_to_keep=len(draft) + 1).logits[0]
        fed += feed
        for i, logits in enumerate(rows):  # row i: after the first i draft tokens
            if node is None:
                t = _free_token(tok, logits, out, stated)
                node = root.children.get(t) if call_may_start else None
            else:
                t = max(node.children, key=lambda c: float(logits[c]))
                node = node.children[t]
            out.append(t)
            if t == tok.eos_token_id:
                done = True
                break
            forced = []
            if node is None and stated is not None and (rest := stated.rest(tok.decode(out))):
                forced = tok(rest, add_special_tokens=False)["input_ids"]
            while node is not None and len(node.children) == 1 and not (node.end or node.open):  # the only way on
                t_next, node = next(iter(node.children.items()))
                forced.append(t_next)
            out += forced
            call_may_start = node is not None and node.end
            if node is not None and (node.end or node.open):
                node = None
            drafted = i < len(draft) and t == draft[i]  # the model chose the guess: it is in the cache already
            if drafted:
                fed.append(t)
            if forced or not drafted:
                feed = forced if drafted else [t, *forced]
                break
        if cache.get_seq_length() > len(fed):  # the guesses the model did not take
            cache.crop(len(fed) - cache.get_seq_length())
    return out[:max_new_tokens], fed


def _free_token(tok, logits, out: list[int], stated: Stated | None) -> int:
    """The most likely next token of free text; with `stated`, the most likely of the `CANDIDATES` best that keeps
    the bold spans stated values (the best itself when none does: the span is then left as the model wrote it)."""
    best = int(logits.argmax())
    if stated is None:
        return best
    before = tok.decode(out)
    for t in logits.topk(CANDIDATES).indices.tolist():
        if stated.allows(before, tok.decode(out + [t])):
            return t
    return best
