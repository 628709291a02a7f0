"""Position streams: where each token sits for the rotary embedding of each attention head, read from the token ids.

Why: with one token per base, "reverse", "complement", "reverse complement" and "translate" are copies at a fixed
*alignment* between an answer token and a prompt base, but at no fixed distance in ordinary positions (the distance
grows with the sequence). Plain RoPE cannot express "the base as far from the run's end as I am from ``=``"; four
streams can, with no task-specific logic (the ids alone decide):

    stream     prompt DNA run (closed, >= min_run)   the answer (after " =" up to </s>)   anything else
    token      ordinary position                      ordinary position                    ordinary position
    run_start  index from the run's first base        index since " =" (" =" itself -1)    far + position
    run_end    index from the run's last base         index since " ="                     far + position
    codon      index from the run's first base        3 x index since " =" (" =" at -3)    far + position

so the source of answer token j lies at a constant offset in one stream: complement in ``run_start``, reverse and
reverse complement in ``run_end``, the codon of residue j in ``codon``. "Far" (``far_offset`` + position) keeps text
tokens apart from both.

Two more streams do the same for a field read back from the prompt (``key=value`` in the grammar; a value runs from
a field opener ``=`` to the next closer ``,`` or the marker):

    stream     a field's value (after "=")               the answer                          anything else
    field      index from the value's first token        index since " ="                    far + position
    field_key  the position of the value's "="           the position of " ="                ordinary position

In ``field`` the value token that answer token j copies (with a tokenizer that cuts answers as values: token j + 1 of
the answer after its leading space) lies at offset 0, in every field at once; ``field_key`` tells them apart: there
every token of a value sits one step from its key, and every answer token two steps from the key it was asked
(``what is the end? =``), whatever its index.

One stream points at the field a question asks for (``key=value`` fields, "what is the {key}? ="):

    stream     a field's tokens (opener, value, closer)   " =" and the answer, when a field is asked   else
    pointer    base + opener position x stride + index    base + asked opener's position x stride      far + position
               from the opener (the opener 0; "=+,",       + index since " =" (" =" itself -1)
               opener, value and closer in one, 1)

The asked field is the last field before the question whose key names the question's last key word (key tokens
compared through ``key_canon``, so "symbol" and " symbol" are one key). The value token that " =" or answer token j
must copy (the value's token j + 1 with answers cut as values: a space, then the value's own tokens) then lies at a
constant offset in this stream. Heads on it (``GenomicLLMAttention``) read only the tokens of their own field
(``field_of``: for " =" and the answer, the asked one), where rotary positions tell a handful of value tokens apart,
and write only where a field is asked (``field_pointer``'s second output): every other prompt is computed as without
them, so they can be added to a trained model (``finetune/training/pointer_heads.py``).

One stream has no position at all:

    stream     every token
    content    0

so its heads rank keys by content alone (rotary is the identity): the " =" can weigh every base of the run alike
and read their mean, which is what a count (GC content) or a bag of k-mers (the short convolution's features; what a
k-mer logistic regression reads) needs, at any length, where a rotary head's weights drift with distance.

A run is a maximal stretch of DNA-token ids before the answer; it counts once a non-DNA token follows it (a run at
the very end of the input is still open and sits far). Positions are a function of the whole input, so cached
generation passes the full history (``GenomicLLMForCausalLM.prepare_inputs_for_generation``) and gets exactly the
positions a full forward gives, for every prompt that ends after its DNA (the grammar ends prompts with " =").

Remote code: pure torch, imported by ``modeling_genomicllm.py`` (``save_pretrained`` copies it along).
Shapes: B batch, S tokens (history), N streams.
"""

from __future__ import annotations

import torch

STREAMS = ("token", "run_start", "run_end", "codon", "field", "field_key", "content", "pointer")
POINTER_STRIDE = 64  # a field's tokens sit at its opener's position x stride + index: fields never overlap
ALIGNMENTS = 2  # what ``aligned_sources`` reads an answer against: a run's start and its end


def pointer_base(far_offset: int) -> int:
    """Where the pointer stream's fields start: past every far position (far_offset + position < 2 x far_offset)."""
    return 2 * far_offset


def _cummax(x: torch.Tensor) -> torch.Tensor:
    return torch.cummax(x, dim=-1).values


def _reverse_cummin(x: torch.Tensor) -> torch.Tensor:
    return torch.flip(torch.cummin(torch.flip(x, dims=[-1]), dim=-1).values, dims=[-1])


def _answer_span(input_ids: torch.LongTensor, real: torch.Tensor, is_marker: torch.Tensor, eos_token_id: int | None):
    """What every stream reads first, (B, S) each: token indices, ordinary positions (counting real tokens, for left
    padding), the markers " =", the last marker so far, and the answer (from a marker up to and including the next
    </s>; the marker itself included)."""
    batch, seq = input_ids.shape
    idx = torch.arange(seq, device=input_ids.device).expand(batch, seq)
    pos = (real.long().cumsum(-1) - 1).clamp(min=0)
    marker = is_marker[input_ids] & real
    eos = (input_ids == eos_token_id) & real if eos_token_id is not None else torch.zeros_like(real)
    last_marker = _cummax(torch.where(marker, idx, -1))
    eos_before = torch.nn.functional.pad(_cummax(torch.where(eos, idx, -1))[:, :-1], (1, 0), value=-1)
    answer = (last_marker >= 0) & (last_marker > eos_before) & real
    return idx, pos, marker, last_marker, answer


def _prompt_runs(input_ids, real, is_dna, answer, idx, min_run: int):
    """Prompt DNA runs: contiguous DNA ids outside the answer, closed by a following real token, of at least
    ``min_run`` tokens. (B, S) each: the first and last index of the run each token is in, and whether it is in one."""
    seq = input_ids.shape[1]
    dna = is_dna[input_ids] & real & ~answer
    prev_dna = torch.nn.functional.pad(dna[:, :-1], (1, 0), value=False)
    next_dna = torch.nn.functional.pad(dna[:, 1:], (0, 1), value=False)
    next_real = torch.nn.functional.pad(real[:, 1:], (0, 1), value=False)
    run_start = _cummax(torch.where(dna & ~prev_dna, idx, -1))
    run_end = _reverse_cummin(torch.where(dna & ~next_dna, idx, seq))
    closed = (dna & ~next_dna & next_real).gather(1, run_end.clamp(max=seq - 1))
    return run_start, run_end, dna & closed & (run_end - run_start + 1 >= min_run)


def stream_positions(
    input_ids: torch.LongTensor,  # (B, S)
    real: torch.Tensor,  # (B, S) bool: real tokens (False on padding)
    is_dna: torch.Tensor,  # (V,) bool: DNA token ids
    is_marker: torch.Tensor,  # (V,) bool: the question/answer separator " ="
    eos_token_id: int | None,
    min_run: int,
    far_offset: int,
    is_open: torch.Tensor | None = None,  # (V,) bool: field openers "="
    is_close: torch.Tensor | None = None,  # (V,) bool: field closers ","
) -> torch.LongTensor:
    """(B, N - 1, S) positions, one row per stream of ``STREAMS`` but the last, ``pointer`` (``field_pointer``)."""
    real = real.bool()
    idx, pos, marker, last_marker, answer = _answer_span(input_ids, real, is_marker, eos_token_id)
    marker_pos = pos.gather(1, last_marker.clamp(min=0))
    since_marker = pos - marker_pos - 1  # the marker itself: -1

    run_start, run_end, in_run = _prompt_runs(input_ids, real, is_dna, answer, idx, min_run)
    far = far_offset + pos
    from_start = torch.where(in_run, idx - run_start, far)
    from_end = torch.where(in_run, run_end - idx, far)

    # Field values: after an opener, up to the next closer or marker, outside the answer.
    opener = (is_open[input_ids] & real) if is_open is not None else torch.zeros_like(real)
    closer = (is_close[input_ids] & real) if is_close is not None else torch.zeros_like(real)
    last_open = _cummax(torch.where(opener, idx, -1))
    last_close = _cummax(torch.where(closer | marker, idx, -1))
    in_value = (last_open > last_close) & ~opener & real & ~answer
    open_pos = pos.gather(1, last_open.clamp(min=0))
    return torch.stack(
        [
            pos,
            torch.where(answer, since_marker, from_start),
            torch.where(answer, since_marker, from_end),
            torch.where(answer, 3 * since_marker, from_start),
            torch.where(answer, since_marker, torch.where(in_value, pos - open_pos - 1, far)),
            torch.where(answer, marker_pos, torch.where(in_value, open_pos, pos)),
            torch.zeros_like(pos),
        ],
        dim=1,
    )


def aligned_sources(
    input_ids: torch.LongTensor,  # (B, S)
    real: torch.Tensor,  # (B, S) bool
    is_dna: torch.Tensor,  # (V,) bool
    is_marker: torch.Tensor,  # (V,) bool
    eos_token_id: int | None,
    min_run: int,
) -> torch.LongTensor:
    """(B, 2, S): for " =" and each answer token, the index of the prompt base the answer's next base lies aligned
    with, in the last DNA run before " =": with j the answer's DNA tokens so far (what comes before its first base,
    such as the space the grammar writes, does not count), row 0 holds the run's base j from its start (``run_start``,
    the alignment of a complement), row 1 its base j from its end (``run_end``, that of a reverse); -1 past the run,
    and for every other token. What ``aligned_writes`` reads: the streams make these alignments learnable by
    attention; the aligned copy lets the model write the aligned base directly
    (``GenomicLLMForCausalLM._aligned_copy``)."""
    real = real.bool()
    idx, _, _, last_marker, answer = _answer_span(input_ids, real, is_marker, eos_token_id)
    return _aligned(input_ids, real, is_dna, idx, last_marker, answer, min_run)


def _aligned(input_ids, real, is_dna, idx, last_marker, answer, min_run: int) -> torch.LongTensor:
    """``aligned_sources`` from the answer span ``_answer_span`` read (so that ``aligned_writes`` reads it once)."""
    run_start, run_end, in_run = _prompt_runs(input_ids, real, is_dna, answer, idx, min_run)
    last_end = _cummax(torch.where(in_run & (idx == run_end), idx, -1))  # the last run's last base so far
    end = last_end.gather(1, last_marker.clamp(min=0))  # (B, S) read at the question's " ="
    start = run_start.gather(1, end.clamp(min=0))
    bases = (is_dna[input_ids] & answer).long().cumsum(-1)
    ahead = bases - bases.gather(1, last_marker.clamp(min=0))  # the answer's bases so far (" =" is none)
    ok = answer & (end >= 0) & (ahead <= end - start)
    at_start, at_end = start + ahead, end - ahead
    return torch.stack([torch.where(ok, at_start, -1), torch.where(ok, at_end, -1)], dim=1)


def aligned_writes(
    input_ids: torch.LongTensor,  # (B, S)
    real: torch.Tensor,  # (B, S) bool
    is_dna: torch.Tensor,  # (V,) bool
    is_marker: torch.Tensor,  # (V,) bool
    eos_token_id: int | None,
    min_run: int,
    complement_of: torch.Tensor,  # (V,) long: each id's complement, itself where it has none
) -> torch.LongTensor:
    """(B, 2A, S): the id the aligned copy may write next, at most one per token: of the four ways to write an
    aligned base (``aligned_sources``' start and end, each as it is and complemented), the one that has written
    every base of the answer so far, where only one has; -1 elsewhere. So the copy joins an answer the LM has begun
    and whose bases only one way explains (usually from its second base: a way that matched by chance survives
    each further base one time in four), follows it, and leaves at the first base it would not have written; an
    answer with no bases (a translation, a label, a number) is explained by every way alike and is never offered a
    copy."""
    real = real.bool()
    idx, _, marker, last_marker, answer = _answer_span(input_ids, real, is_marker, eos_token_id)
    at = _aligned(input_ids, real, is_dna, idx, last_marker, answer, min_run)  # (B, A, S)
    base = input_ids[:, None].expand_as(at).gather(2, at.clamp(min=0))
    written = torch.stack([base, complement_of[base]], dim=2).flatten(1, 2)  # (B, 2A, S): each as is, complemented
    written = torch.where(at.repeat_interleave(2, dim=1) >= 0, written, -1)
    following = torch.nn.functional.pad(input_ids[:, 1:], (0, 1))
    next_base = torch.nn.functional.pad((is_dna[input_ids] & answer & ~marker)[:, 1:], (0, 1), value=False)
    missed = ((written != following[:, None]) & (written >= 0) & next_base[:, None]).long()  # (B, 2A, S)
    before = missed.cumsum(-1) - missed  # misses at earlier tokens
    since = before - before.gather(2, last_marker.clamp(min=0)[:, None].expand_as(before))  # in this answer
    followed = (since == 0) & (written >= 0)  # (B, 2A, S)
    return torch.where(followed & (followed.sum(1, keepdim=True) == 1), written, -1)


def field_pointer(
    input_ids: torch.LongTensor,  # (B, S)
    real: torch.Tensor,  # (B, S) bool
    is_marker: torch.Tensor,  # (V,) bool
    eos_token_id: int | None,
    far_offset: int,
    is_open: torch.Tensor,  # (V,) bool: what opens a field ("=", and "=+," that also closes it)
    is_close: torch.Tensor,  # (V,) bool
    key_canon: torch.Tensor,  # (V,) long
) -> tuple[torch.LongTensor, torch.Tensor]:
    """The ``pointer`` stream, (B, S), and where a field is asked, (B, S) bool: " =" and its answer's tokens."""
    batch, seq = input_ids.shape
    idx, pos, marker, last_marker, answer = _answer_span(input_ids, real, is_marker, eos_token_id)
    answer &= ~marker
    prompt = real & ~answer & ~marker

    opener = is_open[input_ids] & prompt
    closer = (is_close[input_ids] & prompt) | marker
    last_open = _cummax(torch.where(opener, idx, -1))
    close_before = torch.nn.functional.pad(_cummax(torch.where(closer, idx, -1))[:, :-1], (1, 0), value=-1)
    in_field = opener | ((last_open > close_before) & prompt)
    is_key = torch.nn.functional.pad(opener[:, 1:], (0, 1), value=False) & prompt  # the token before an opener
    canon = key_canon[input_ids]  # (B, S)

    # The question's key word: the last prompt token outside every field whose key identity is that of an earlier
    # field's key (each identity's first key, from a (B, V) table: causal, and no (B, S, S) tensor in every cached
    # step); the asked field is the last one with that key before the word, looked up at each " =" alone.
    first_key = torch.full((batch, key_canon.shape[0]), seq, dtype=torch.long, device=idx.device)
    first_key = first_key.scatter_reduce(1, canon, torch.where(is_key, idx, seq), reduce="amin")
    named = (first_key.gather(1, canon) < idx) & prompt & ~in_field & ~is_key
    word = _cummax(torch.where(named, idx, -1))  # the last key word so far
    asked_key = torch.full_like(idx, -1)
    for b, m in marker.nonzero().tolist():
        w = int(word[b, m])
        if w >= 0:
            asked_key[b, m] = int((is_key[b, :w] & (canon[b, :w] == canon[b, w])).nonzero()[-1])
    asked_key = asked_key.gather(1, last_marker.clamp(min=0))  # read at the question's " ="
    asked = (answer | marker) & (last_marker >= 0) & (asked_key >= 0)

    base = pointer_base(far_offset)
    open_pos = pos.gather(1, last_open.clamp(min=0))
    merged = opener & is_close[input_ids]  # "=+,": the opener, the value and the closer in one token, at index 1
    field_pos = base + open_pos * POINTER_STRIDE + (pos - open_pos) + merged.long()
    asked_open = pos.gather(1, (asked_key + 1).clamp(min=0, max=seq - 1))
    marker_pos = pos.gather(1, last_marker.clamp(min=0))
    asked_pos = base + asked_open * POINTER_STRIDE + (pos - marker_pos - 1)
    far = far_offset + pos
    return torch.where(asked, asked_pos, torch.where(in_field, field_pos, far)), asked


def field_of(pointer: torch.LongTensor, far_offset: int) -> torch.LongTensor:
    """(B, S) the field each token belongs to on the ``pointer`` stream (its opener's position; " =" and the answer
    belong to the asked field), -1 for tokens in none: a field's tokens sit at base + opener x stride + index, index
    from -1 (" =") up to stride - 2."""
    rel = pointer - pointer_base(far_offset) + 1
    return torch.where(rel >= 0, torch.div(rel, POINTER_STRIDE, rounding_mode="floor"), -1)


def key_table(vocab_size: int, aliases: list[list[int]] | None, device: torch.device | None = None) -> torch.Tensor:
    """(V,) long: each id's key identity, itself unless ``aliases`` ([id, same-key id] pairs) map it."""
    table = torch.arange(vocab_size, device=device)
    if aliases:
        pairs = torch.tensor(aliases, dtype=torch.long, device=device)
        table[pairs[:, 0]] = pairs[:, 1]
    return table


def token_table(vocab_size: int, token_ids: list[int] | None, device: torch.device | None = None) -> torch.Tensor:
    """(V,) bool, True at ``token_ids``."""
    table = torch.zeros(vocab_size, dtype=torch.bool, device=device)
    if token_ids:
        table[torch.tensor(token_ids, dtype=torch.long, device=device)] = True
    return table


__all__ = ["ALIGNMENTS", "POINTER_STRIDE", "STREAMS", "aligned_sources", "aligned_writes", "field_of", "field_pointer",
           "key_table", "stream_positions", "token_table"]
