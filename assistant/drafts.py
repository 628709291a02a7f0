"""Draft tokens for speculative decoding: guesses of the next few tokens, checked by the model in one forward pass.

A turn's reply is mostly a sentence the assistant has written before ("The GC content is **…**.") or text it copies
from the conversation (a probability from the tool's result). So the guess is what followed the last `n` tokens the
last time they occurred: in this model's earlier outputs first, then in the prompt (prompt lookup). `decode` feeds
the guess with the last token, keeps the longest prefix the model would have chosen itself, and cuts the rest from
the KV cache: the output is the model's own greedy output, written in fewer forward passes (a forward pass of a
135M model on one core costs about the same for 1 token as for 9).

    drafts = Drafter()
    drafts.propose(prompt + out)      # [] or up to `k` token ids
    drafts.learn(prompt, out)         # after a call: its output, keyed by the prompt's last tokens
"""

from __future__ import annotations

NGRAM = 3  # tokens a guess is keyed by
DRAFT = 8  # tokens a guess holds at most
MAX_KEYS = 100_000  # forget earlier outputs beyond this many n-grams (a long-running Space)


class Drafter:
    def __init__(self, n: int = NGRAM, k: int = DRAFT, stop: int | None = None):
        self.n, self.k, self.stop = n, k, stop  # `stop`: a token a guess never holds (end of turn)
        self.seen: dict[tuple[int, ...], list[int]] = {}

    def learn(self, prompt: list[int], out: list[int]) -> None:
        """Remember what followed each n-gram of an output (the prompt's last tokens lead into it)."""
        if len(self.seen) > MAX_KEYS:
            self.seen.clear()
        ids = prompt[-self.n :] + out
        for i in range(len(ids) - self.n):
            self.seen[tuple(ids[i : i + self.n])] = self._cut(ids[i + self.n : i + self.n + self.k])

    def propose(self, ids: list[int]) -> list[int]:
        """A guess of the tokens after `ids` (the prompt and the output so far); [] when there is none."""
        if len(ids) <= self.n:
            return []
        key = tuple(ids[-self.n :])
        if key in self.seen:
            return self.seen[key]
        for i in range(len(ids) - self.n - 1, -1, -1):  # prompt lookup: the latest earlier occurrence
            if tuple(ids[i : i + self.n]) == key:
                return self._cut(ids[i + self.n : i + self.n + self.k])
        return []

    def _cut(self, ids: list[int]) -> list[int]:
        return ids[: ids.index(self.stop)] if self.stop in ids else ids
