"""Label and value heads as the model's own answers: what ``generate`` writes to a classification or GC question.

Why: a classification task's *label head* (``config.label_heads``, a linear map from the question's states, fitted on
train rows) reads the same weights better than the LM's greedy text (test mean MCC 0.32 against 0.21), and GC
content's *value head* is off by 0.00075 where the generated digits are off by 0.029. Read only by the project's
``ask``, they left ``model.generate``, the way most users call the model, writing the worse answer. With a head entry
that says how its task is asked (written by ``finetune/training/head_questions.py``) the model answers with it:

    question   <fields, >  <DNA run (>= dna_run_min_tokens bases)>  <, task phrase =>   the entry's ``question_ids``
    answer     label head: each label's tokens + </s> (``answer_ids``) at the head's probability, nothing else
               value head: the value, clipped to ``value_range``, in the grammar's digits (``number_pieces``) + </s>

The features are the ones the head was fitted on (``question_features``: the last state, each layer's average over
the question, per codon position, a motif reader's, the run's k-mer profile), of the question and, where the label
does not depend on the strand, of the same question about the run's reverse complement, averaged; and, where other
readings of the sequence decide the label (``readings``: sequence direction read backwards, an ORF frame read from
its second and third base), the head's probabilities of every reading, each label beside the one the sequence so
read has: the answer equals ``modeling.scores``' (``ask``'s, with the task's pooled head). Written as logits
(log-probabilities, -inf off the answer), so greedy decoding writes the most probable label and sampling samples
labels. An answer that has left
every label (a prefix written by the caller) gets the LM's logits back; so does every other question, and training
or a loss (``labels``) always sees the LM's.

Remote code: pure torch, imported by ``modeling_genomicllm.py``. Shapes: B batch, S tokens, L layers, D hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from .kmers_genomicllm import base_table, frames_without, kmer_profile
from .positions_genomicllm import STREAMS, stream_positions, token_table


def run_index(config, input_ids: torch.LongTensor, real: torch.Tensor) -> torch.LongTensor:
    """(B, S) each token's index in its prompt DNA run, as the ``run_start`` position stream counts it (the config's
    DNA tokens, marker, run length), -1 elsewhere."""
    c = config
    is_dna, is_marker = (token_table(c.vocab_size, t, input_ids.device) for t in (c.dna_token_ids,
                                                                                   c.answer_marker_token_ids))
    pos = stream_positions(input_ids, real.bool(), is_dna, is_marker, c.eos_token_id, c.dna_run_min_tokens,
                           c.far_offset)
    pos = pos[:, STREAMS.index("run_start")]
    return torch.where((pos >= 0) & (pos < c.far_offset), pos, -1)  # the marker sits at -1, text far


PROFILES = ("kmers:", "phased:")  # the head features counted from the DNA run's letters (a k-mer profile)
PERIOD = 3  # a "phased:" profile counts each k-mer per codon phase: where it ends in the run, modulo 3
FREE = "free:"  # "free:TAA,TAG,TGA": per reading frame, 1 where none of those k-mers sits in it (stop-free frames)
LETTERS = (*PROFILES, FREE)  # the head features read from the DNA run's letters alone, no state
BASES = "ACGT"  # the letters' order (0..3): the config's kmer_base_token_ids


def run_letters(config, input_ids: torch.LongTensor, base: torch.LongTensor) -> torch.LongTensor:
    """(B, S) the bases of the DNA run (``base``: ``run_index``) as letters, 0..3 for A, C, G, T (the config's
    ``kmer_base_token_ids``), -1 elsewhere and at any other base (N): what the ``LETTERS`` features read."""
    if not config.kmer_base_token_ids:
        raise ValueError("a k-mer profile head feature needs kmer_base_token_ids (the token ids of A, C, G, T)")
    letters = base_table(config.vocab_size, config.kmer_base_token_ids, input_ids.device)[input_ids]
    return torch.where(base >= 0, letters, -1)


def profile_sizes(name: str) -> list[int]:
    """The k-mer sizes of a ``"kmers:<k>"`` or ``"kmers:<lo>-<hi>"`` feature (1 <= k <= 8; so of ``"phased:"``)."""
    lo, _, hi = name.partition(":")[2].partition("-")
    try:
        sizes = list(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        sizes = []
    if not sizes or sizes[0] < 1 or sizes[-1] > 8:
        raise ValueError(f"{name!r}: a k-mer profile is 'kmers:<k>' or 'kmers:<lo>-<hi>' with 1 <= lo <= hi <= 8 "
                         "(so is a phased one, 'phased:...')")
    return sizes


def free_kmers(name: str) -> list[list[int]]:
    """The k-mers of a ``"free:<k-mer>,<k-mer>,..."`` feature as letters (0..3), all of one length, 1 to 8."""
    kmers = name.partition(":")[2].upper().split(",")
    if not all(kmers) or any(set(m) - set(BASES) for m in kmers) or len({len(m) for m in kmers}) > 1 or \
            len(kmers[0]) > 8:
        raise ValueError(f"{name!r}: a frame feature is 'free:<k-mer>,<k-mer>,...', k-mers of A, C, G, T of one "
                         "length 1 to 8 (the stop codons: 'free:TAA,TAG,TGA')")
    return [[BASES.index(b) for b in m] for m in kmers]


def letters_feature(name: str, letters: torch.LongTensor) -> torch.Tensor:
    """(B, width) what a ``LETTERS`` feature reads from the run's ``letters``: the k-mer profile of a ``"kmers:"``
    or ``"phased:"`` feature, or the frames without a ``"free:"`` feature's k-mers."""
    if name.startswith(FREE):
        return frames_without(letters, free_kmers(name), PERIOD)
    sizes = profile_sizes(name)
    return kmer_profile(letters, sizes) if name.startswith("kmers:") else kmer_profile(letters, [], sizes, PERIOD)


def reads_letters(features) -> bool:
    """Whether these features need the DNA run's letters (``run_letters``)."""
    return any(f.startswith(LETTERS) for f in features)


def reads_states(features) -> bool:
    """Whether these features need the transformer's states (all but the ``LETTERS`` features do)."""
    return not all(f.startswith(LETTERS) for f in features)


def right_padded(rows: list, pad_id: int | None) -> tuple[torch.LongTensor, torch.LongTensor]:
    """(ids, attention mask) of token rows (lists, or 1-D tensors: on their device) right-padded with ``pad_id`` (0
    where None)."""
    device = rows[0].device if isinstance(rows[0], torch.Tensor) else None
    ids = torch.full((len(rows), max(map(len, rows))), pad_id or 0, dtype=torch.long, device=device)
    mask = torch.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.as_tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


def question_features(hidden_states: tuple, mask: torch.Tensor, features, base: torch.LongTensor | None = None,
                      convs=None, letters: torch.LongTensor | None = None) -> torch.Tensor:
    """(B, width) the question's states named by ``features``, concatenated in that order, from every layer's
    output (``hidden_states``: L + 1 of (B, S, D), 0 the embeddings) over the question's tokens (``mask`` (B, S)).
    "last": the final layer at the question's last token (where the answer is generated from); "mean" / "mean@k":
    the final layer's / layer k's average; "max@k": layer k's largest value, per feature (a CNN's global max
    pooling); "phase@k": layer k averaged over the DNA run's bases at each codon position counted from its first
    base (``base``, ``run_index``; 3 x D: what a reading frame shows); "conv:<name>": what the head's own motif
    reader ``convs[name]`` (a ``HeadConv``) finds along the DNA run; "kmers:<lo>-<hi>": the run's k-mer profile
    (``letters``, ``run_letters``; ``kmer_profile``: what k-mer logistic regression reads, no state at all);
    "phased:<lo>-<hi>": its k-mers counted per codon phase (codon usage in each frame); "free:<k-mers>": per
    reading frame, whether none of those k-mers sits in it (``frames_without``: the stop-free frames)."""
    mask = mask.bool()
    cols = []
    for name in features:
        if name.startswith(LETTERS) and letters is not None:
            cols.append(letters_feature(name, letters))
            continue
        kind, _, layer = name.partition("@")
        h = hidden_states[int(layer)] if layer else hidden_states[-1]
        if name == "last":
            last = (torch.arange(mask.shape[1], device=mask.device) * mask).argmax(-1)  # the rightmost real token
            cols.append(h[torch.arange(len(h), device=h.device), last])
        elif kind == "mean":
            cols.append(masked_mean(h, mask))
        elif kind == "max" and layer:
            cols.append(h.masked_fill(~mask[..., None], float("-inf")).amax(1))
        elif kind == "phase" and layer and base is not None:
            cols += [masked_mean(h, mask & (base >= 0) & (base % 3 == r)) for r in range(3)]
        elif name.startswith("conv:") and base is not None and convs is not None and name[5:] in convs:
            cols.append(convs[name[5:]](hidden_states, mask & (base >= 0), base))
        else:
            raise ValueError(f"unknown state feature {name!r}: 'last', 'mean', 'mean@<layer>', 'max@<layer>', "
                             "'phase@<layer>' (with the DNA run's base index), 'conv:<name>' (with the model's "
                             "head_convs) or 'kmers:<lo>-<hi>' / 'phased:<lo>-<hi>' (with the run's letters)")
    return torch.cat([c.float() for c in cols], 1)


def feature_width(config, name: str) -> int:
    """How many numbers ``question_features`` reads for one feature name."""
    if name.startswith("conv:"):
        return HeadConv.width(config.head_convs[name[5:]])
    if name.startswith(FREE):
        free_kmers(name)  # a malformed name is an error here already, before any row is read
        return PERIOD
    if name.startswith(PROFILES):
        return (1 if name.startswith("kmers:") else PERIOD) * sum(4**k for k in profile_sizes(name))
    return config.hidden_size * (3 if name.startswith("phase@") else 1)


def reads_runs(features) -> bool:
    """Whether these features need the DNA run's base index (``run_index``)."""
    return any(f.startswith(("phase@", "conv:", *LETTERS)) for f in features)


class HeadConv(torch.nn.Module):
    """A head's motif reader: a small CNN over the DNA run's per-base states, as a task-specific fine-tune would add.

    Why: a linear head sees only averages of the states, and a motif or stop codon that sits at one base is diluted
    in them; read per base by a convolution and max-pooled, it is not (dev MCC GUE mouse_3 0.52 -> 0.78, ORF frame
    0.72 -> 0.86; ``finetune/training/conv_heads.py``). The transformer is not touched.

        states of ``layers`` at each base of the run   (B, S, D x len(layers)), zero off the run
        -> RMSNorm -> Linear (proj) -> Conv1d (channels, kernel, same padding) -> GELU
        -> mean and max over the run's bases           (B, 2 x channels); per codon position where ``phased``: 6 x
    """

    def __init__(self, hidden_size: int, layers: list[int], proj: int, channels: int, kernel: int,
                 phased: bool = False) -> None:
        super().__init__()
        self.layers, self.phased = list(layers), bool(phased)
        self.norm = torch.nn.RMSNorm(hidden_size * len(self.layers), eps=1e-6)
        self.proj = torch.nn.Linear(hidden_size * len(self.layers), proj)
        self.conv = torch.nn.Conv1d(proj, channels, kernel, padding=kernel // 2)

    @classmethod
    def from_spec(cls, hidden_size: int, spec: dict) -> HeadConv:
        return cls(hidden_size, spec["layers"], spec["proj"], spec["channels"], spec["kernel"], spec.get("phased"))

    @staticmethod
    def width(spec: dict) -> int:
        return spec["channels"] * (6 if spec.get("phased") else 2)

    def forward(self, hidden_states: tuple, run: torch.Tensor, base: torch.LongTensor) -> torch.Tensor:
        run = run.bool()
        x = torch.cat([hidden_states[k] for k in self.layers], -1).to(self.proj.weight.dtype)
        x = self.proj(self.norm(x)) * run[..., None]  # the question's text and padding read as zeros
        h = torch.nn.functional.gelu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # (B, S, channels)
        groups = [run & (base % 3 == r) for r in range(3)] if self.phased else [run]
        cols = []
        for g in groups:
            top = h.masked_fill(~g[..., None], float("-inf")).amax(1)
            cols += [masked_mean(h, g), torch.where(g.any(1, keepdim=True), top, torch.zeros_like(top))]
        return torch.cat(cols, -1)


def masked_mean(hidden_states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, S, D) -> (B, D): the average over the tokens where ``mask`` (B, S) is set (0 where none is)."""
    m = mask.to(torch.float32).unsqueeze(-1)
    return ((hidden_states.float() * m).sum(1) / m.sum(1).clamp(min=1.0)).to(hidden_states.dtype)


def head_logits(entry: dict, features: torch.Tensor) -> torch.Tensor:
    """(B, outputs) a head's linear map (``weight`` outputs x features, ``bias``) in float64, as it was fitted."""
    weight = torch.tensor(entry["weight"], dtype=torch.float64, device=features.device)
    return features.double() @ weight.T + torch.tensor(entry["bias"], dtype=torch.float64, device=features.device)


@dataclass
class HeadQuestion:
    """A question a head answers: its row, where its " =" sits, its task's entry, and its DNA run [start, end) among
    the question's own tokens (padding left out: where ``reread`` finds it in the question alone)."""

    row: int
    marker: int
    task: str
    entry: dict
    value: bool  # a value head's (a number), else a label head's
    run: tuple[int, int]
    benchmark: str | None = None  # the benchmark whose own head answers it (``with_benchmark_heads``), else None


def with_benchmark_heads(questions: list[HeadQuestion], benchmark: str | None) -> list[HeadQuestion]:
    """The questions whose task has a head fitted on ``benchmark`` (its entry's ``benchmarks``) answered by that
    head, asked as the task's (the pooled entry's question and answer keys); the others as they were. A name that no
    question's task has a head for is refused with the names they have: answering with the pooled head instead would
    give another head's answer without a word."""
    if benchmark is None or not questions:
        return questions
    out = [replace(q, entry={**q.entry, **q.entry["benchmarks"][benchmark]}, benchmark=benchmark)
           if benchmark in (q.entry.get("benchmarks") or {}) else q for q in questions]
    if all(q.benchmark is None for q in out):
        have = sorted({f"{b} ({q.task})" for q in questions for b in q.entry.get("benchmarks") or {}})
        raise ValueError(f"head_benchmark={benchmark!r}: no question here is of a task with a head fitted on it; "
                         + (f"their tasks' heads: {', '.join(have)}" if have else "their tasks have no such heads"))
    return out


def head_entries(config) -> list[tuple[str, dict, bool]]:
    """(task, entry, is a value head) of every head that says how its task is asked (``question_ids``)."""
    out = []
    for heads, value in ((config.label_heads, False), (config.value_heads, True)):
        out += [(task, entry, value) for task, entry in (heads or {}).items() if entry.get("question_ids")]
    return out


def find_questions(config, ids: torch.LongTensor, real: torch.Tensor, is_dna: set[int], is_marker: torch.Tensor
                   ) -> list[HeadQuestion]:
    """The rows of ``ids`` (B, S: every id so far) whose question, up to its first " =", ends in a head's task
    phrase right after a DNA run the model reads per base (``dna_run_min_tokens`` or more of ``is_dna``, the DNA
    token ids)."""
    entries = head_entries(config)
    if not entries:
        return []
    marked = (is_marker[ids] & real.bool()).int()
    found = []
    for row in marked.any(1).nonzero().flatten().tolist():
        marker = int(marked[row].argmax())
        row_ids = ids[row, : marker + 1].tolist()
        row_real = real[row, : marker + 1].tolist()
        for task, entry, value in entries:
            tail = entry["question_ids"]
            if row_ids[-len(tail):] != tail:
                continue
            end = start = marker + 1 - len(tail)
            while start > 0 and row_real[start - 1] and row_ids[start - 1] in is_dna:
                start -= 1
            if end - start >= config.dna_run_min_tokens:
                pad = row_real[:start].count(False)
                found.append(HeadQuestion(row, marker, task, entry, value, (start - pad, end - pad)))
            break
    return found


def render_number(value: float, entry: dict) -> list[int]:
    """The ids of " <value>" in the grammar's digits (``decimals``), cut into the tokenizer's number pieces by longest
    match (``number_pieces``: piece -> id, checked against the tokenizer when written)."""
    text = f" {value:.{entry['decimals']}f}"
    pieces = entry["number_pieces"]
    longest = max(map(len, pieces))
    out, at = [], 0
    while at < len(text):
        for size in range(min(longest, len(text) - at), 0, -1):
            if text[at : at + size] in pieces:
                out.append(pieces[text[at : at + size]])
                at += size
                break
        else:
            raise ValueError(f"{text!r}: {text[at]!r} is not among the number pieces of this head")
    return out


def answers(question: HeadQuestion, features: torch.Tensor, eos_token_id: int, readings: dict | None = None
            ) -> tuple[list[list[int]], torch.Tensor]:
    """The question's possible answers (ids, each ending in </s>) and their log-probabilities, from its head; with the
    features of the question about its sequence read other ways (``readings``: name -> features; the entry's
    ``readings`` give, per label, the index of the label the sequence so read has), every reading's probabilities
    averaged."""
    out = head_logits(question.entry, features[None])[0]
    if question.value:
        lo, hi = question.entry.get("value_range") or (float("-inf"), float("inf"))
        value = min(max(float(out[0]), lo), hi)
        return [render_number(value, question.entry) + [eos_token_id]], torch.zeros(1, dtype=torch.float64)
    options = [list(a) for a in question.entry["answer_ids"]]
    if not readings:
        return options, torch.log_softmax(out, dim=-1)
    probs = torch.softmax(out, dim=-1)
    for name, other in readings.items():  # each label beside the one the sequence so read has
        read = torch.softmax(head_logits(question.entry, other[None])[0], dim=-1)
        probs = probs + read[question.entry["readings"][name]]
    return options, torch.log(probs / (1 + len(readings)))


def next_token_logits(options: list[list[int]], logp: torch.Tensor, written: list[int], vocab_size: int
                      ) -> torch.Tensor | None:
    """(V,) log-probabilities of the next answer token given the answer's ids so far: the answers that begin so,
    renormalised, summed per next id; -inf elsewhere. None where no answer begins so, or one is already whole."""
    k = len(written)
    going = [i for i, a in enumerate(options) if a[:k] == written and len(a) > k]
    if not going:
        return None
    nxt = torch.tensor([options[i][k] for i in going])
    out = torch.full((vocab_size,), float("-inf"), dtype=torch.float64)
    for token in nxt.unique().tolist():
        out[token] = torch.logsumexp(logp[going][nxt == token], 0)
    return out - torch.logsumexp(logp[going], 0)


READINGS = ("reverse_complement", "backwards", "from_base_2", "from_base_3")  # what ``reread`` reads (tasks.rules)


def reread(question_ids: torch.LongTensor, run: tuple[int, int], reading: str,
           complement_of: torch.Tensor | None = None) -> torch.LongTensor:
    """The same question about its run read another way: its reverse complement (bases reversed and complemented
    by ``complement_of``), read backwards, or read from its second or third base (one token per base)."""
    start, end = run
    bases = question_ids[start:end]
    if reading == "reverse_complement":
        bases = complement_of[bases.flip(0)]
    elif reading == "backwards":
        bases = bases.flip(0)
    elif reading in ("from_base_2", "from_base_3"):
        bases = bases[int(reading[-1]) - 1 :]
    else:
        raise ValueError(f"unknown reading {reading!r}: one of {READINGS}")
    return torch.cat([question_ids[:start], bases, question_ids[end:]])


__all__ = ["READINGS", "HeadConv", "HeadQuestion", "answers", "feature_width", "find_questions", "head_entries",
           "free_kmers", "head_logits", "letters_feature", "masked_mean", "next_token_logits", "question_features",
           "reads_letters", "reads_runs", "reads_states",
           "render_number", "reread", "right_padded", "run_index", "run_letters", "with_benchmark_heads"]
