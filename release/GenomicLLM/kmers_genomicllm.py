"""k-mer ids: which k-mer of bases ends at each token, read from the token ids, for the k-mer embedding.

Why: with one token per base, a k-mer's identity (what k-mer logistic regression, the cheap baseline that beat the
per-base model on most classifiers, is built on) has to be assembled by the network from k separate embeddings. A
lookup table indexed by the k-mer ending at each base hands it over for the cost of a gather: the answer position can
then pool a bag of k-mers in one attention head. Causal (a k-mer ends at its last base) and a function of the ids
alone, so cached generation, given the history, gets what a full forward gets.

    ids      ...  ,   A   C   G   T   T   A  ...
    3-mer         -   -   -  CGT GTT TTA        (- : fewer than k bases since the last non-base token: no k-mer)

Only the four base tokens make k-mers (``N``, text and padding break them). A k-mer's row in the one shared table is
``offset[k] + sum_j base[i - j] * 4**j``; row 0 is "no k-mer" and stays zero.

Phased k-mers (``phased_sizes``) also know where they end in their run of bases, modulo ``period`` (3: the codon
phase): one row per (k-mer, phase). Whether ``TAA`` ends on a multiple of 3 from the run's first base is what tells a
reading frame's stop codon, and no other input says it (rotary positions have no period of 3).

A label head may also read the DNA run's k-mer profile (``kmer_profile``: every k-mer's count, L2-normalised, the
feature k-mer logistic regression reads; ``heads_genomicllm``'s ``"kmers:<lo>-<hi>"``), or its phased profile (each
(k-mer, phase)'s count: codon usage per frame, ``"phased:<lo>-<hi>"``), beside the states.

Remote code: pure torch, imported by ``modeling_genomicllm.py`` (``save_pretrained`` copies it along).
Shapes: B batch, S tokens (history), K k-mer sizes.
"""

from __future__ import annotations

import torch


def table_rows(kmer_sizes: list[int], phased_sizes: list[int] = (), period: int = 3) -> int:
    """Rows of the shared table: one per k-mer of each size, one per (k-mer, phase) of each phased size, plus row 0
    for "no k-mer"."""
    return 1 + sum(4**k for k in kmer_sizes) + period * sum(4**k for k in phased_sizes)


def base_table(vocab_size: int, base_token_ids: list[int] | None, device: torch.device | None = None) -> torch.Tensor:
    """(V,) long: 0..3 at the ids of A, C, G, T (in that order), -1 elsewhere."""
    table = torch.full((vocab_size,), -1, dtype=torch.long, device=device)
    if base_token_ids:
        table[torch.tensor(base_token_ids, dtype=torch.long, device=device)] = torch.arange(4, device=device)
    return table


def kmer_ids(input_ids: torch.LongTensor, bases: torch.Tensor, kmer_sizes: list[int], phased_sizes: list[int] = (),
             period: int = 3) -> torch.LongTensor:
    """(B, S) ids -> (B, K, S) rows of the shared table (0 where no k-mer of that size ends): the plain sizes, then the
    phased ones."""
    return kmer_rows(bases[input_ids], kmer_sizes, phased_sizes, period)


def kmer_rows(base: torch.LongTensor, kmer_sizes: list[int], phased_sizes: list[int] = (), period: int = 3
              ) -> torch.LongTensor:
    """(B, S) letters (0..3 for A, C, G, T, -1 elsewhere) -> (B, K, S) rows of the shared table (``kmer_ids``)."""
    seq = base.shape[-1]
    longest = max([*kmer_sizes, *phased_sizes])
    padded = torch.nn.functional.pad(base, (longest - 1, 0), value=-1)  # (B, S + longest - 1)
    codes, code, valid = {}, torch.zeros_like(base), torch.ones_like(base, dtype=torch.bool)
    for j in range(longest):  # grow the k-mer one base to the left: base i - j is digit j
        earlier = padded[:, longest - 1 - j : longest - 1 - j + seq]
        valid = valid & (earlier >= 0)
        code = code + earlier.clamp(min=0) * 4**j
        codes[j + 1] = (code, valid)
    rows, offset = [], 1
    for k in kmer_sizes:
        rows.append(torch.where(codes[k][1], offset + codes[k][0], 0))
        offset += 4**k
    if phased_sizes:
        idx = torch.arange(seq, device=base.device).expand_as(base)
        last_break = torch.cummax(torch.where(base < 0, idx, -1), dim=-1).values
        phase = (idx - last_break - 1) % period  # the base's index in its run of bases, modulo the period
        for k in phased_sizes:
            rows.append(torch.where(codes[k][1], offset + codes[k][0] * period + phase, 0))
            offset += period * 4**k
    return torch.stack(rows, dim=1)


def kmer_counts(base: torch.LongTensor, kmer_sizes: list[int], phased_sizes: list[int] = (), period: int = 3
                ) -> torch.Tensor:
    """(B, S) letters (0..3, -1 elsewhere) -> (B, sum 4**k + period x sum 4**p) float32: each k-mer's count over the
    row (k-mers of the sizes, ascending; within a size ordered by ``kmer_ids``' code, the last base the lowest
    digit), then each phased k-mer's (by code, then the phase of its last base)."""
    rows = kmer_rows(base, kmer_sizes, phased_sizes, period).flatten(1)  # (B, K x S), 0: no k-mer
    counts = torch.zeros(len(base), table_rows(kmer_sizes, phased_sizes, period), dtype=torch.float32,
                         device=base.device)
    counts.scatter_add_(1, rows, torch.ones_like(rows, dtype=torch.float32))
    return counts[:, 1:]  # row 0, "no k-mer", is not counted


def kmer_profile(base: torch.LongTensor, kmer_sizes: list[int], phased_sizes: list[int] = (), period: int = 3
                 ) -> torch.Tensor:
    """``kmer_counts``, the whole vector L2-normalised: what k-mer logistic regression reads (counts of overlapping
    k-mers, L2-normalised)."""
    counts = kmer_counts(base, kmer_sizes, phased_sizes, period)
    return counts / counts.norm(dim=1, keepdim=True).clamp(min=1e-12)


def frames_without(base: torch.LongTensor, kmers: list[list[int]], period: int = 3) -> torch.Tensor:
    """(B, S) letters -> (B, period) float32: column f is 1 where none of ``kmers`` (each a list of letters 0..3,
    all of one length k, e.g. the stop codons) starts at a run index f, f + period, ... with all its bases in the
    run (a reading frame's whole codons), else 0. Which frames are stop-free is what a reading frame's label turns
    on, and a linear map of k-mer counts cannot tell zero stops from few."""
    k = len(kmers[0])
    codes = torch.tensor([sum(b * 4 ** (k - 1 - j) for j, b in enumerate(m)) for m in kmers], device=base.device)
    hits = kmer_counts(base, [], [k], period).view(len(base), 4**k, period)[:, codes].sum(1)  # by last base's phase
    return (hits.roll(-(k - 1), dims=1) == 0).float()  # column f: the k-mers that start at phase f end at f + k - 1


__all__ = ["base_table", "frames_without", "kmer_counts", "kmer_ids", "kmer_profile", "kmer_rows", "table_rows"]
