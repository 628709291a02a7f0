"""DNA tokens for a byte-level BPE base model: the hybrid scheme applied to SmolLM2's tokenizer.

Measured (`python -m finetune.chat.smollm_base`): SmolLM2's BPE cuts DNA into 1-2 letter pieces (1.88 bases/token) and
cuts the same 6-mer differently depending on its neighbours (94% of repeated 6-mers). We add the 64 upper-case 3-mers
as tokens: DNA runs (upper-cased and joined by `chat_data.normalize_dna`) are then cut into codons from their first
base, 3 bases/token, always the same way. Why 3-mers and not our model's 6-mers: 4,096 new embeddings would need far
more than the ~0.5M tokens a CPU LoRA run sees to be learnt, and codon-aligned tokens suit translation.

The new rows are initialised to the mean of the base embeddings of the pieces BPE cut that 3-mer into (a known-good
start), and trained through peft's `trainable_token_indices` (only those 64 rows are saved in the adapter; the tied
output embedding follows them).
"""

from __future__ import annotations

import itertools

import torch

K = 3
DNA_TOKENS = tuple("".join(p) for p in itertools.product("ACGT", repeat=K))


def add_dna_tokens(tok, model) -> list[int]:
    """Add the 3-mer tokens to `tok` (in place), grow `model`'s embeddings, initialise the new rows; return their ids.

    Idempotent for a tokenizer that already has them (e.g. one saved with an adapter): only the embeddings are grown.
    """
    pieces = {t: tok(t, add_special_tokens=False)["input_ids"] for t in DNA_TOKENS}  # before adding: BPE pieces
    tok.add_tokens(list(DNA_TOKENS))
    ids = tok.convert_tokens_to_ids(list(DNA_TOKENS))
    if len(set(ids)) != len(DNA_TOKENS) or tok.unk_token_id in ids:
        raise RuntimeError("the DNA tokens were not added to the tokenizer")
    size = max(len(tok), model.get_input_embeddings().num_embeddings)
    model.resize_token_embeddings(size, mean_resizing=False)
    emb = model.get_input_embeddings().weight
    with torch.no_grad():
        for t, i in zip(DNA_TOKENS, ids):
            if pieces[t] != [i]:  # a fresh token: start from its BPE pieces' mean
                emb[i] = emb[pieces[t]].mean(0)
    return ids


def dna_token_ids(tok) -> list[int]:
    ids = tok.convert_tokens_to_ids(list(DNA_TOKENS))
    if tok.unk_token_id in ids or None in ids:
        raise ValueError("this tokenizer has no DNA 3-mer tokens: load the one saved with the adapter")
    return ids


def main() -> None:
    """Before/after: how SmolLM2's tokenizer cuts 500 real sequences without and with the DNA tokens."""
    import json

    import pandas as pd
    from transformers import AutoTokenizer

    from .smollm_base import DEFAULT_DIR, DNA_DATA, convert, dna_tokenization_report

    seqs = pd.read_parquet(DNA_DATA, columns=["sequence"])["sequence"].head(500).tolist()
    tok = AutoTokenizer.from_pretrained(convert(DEFAULT_DIR))
    keys = ("bases_per_token", "tokens_per_sequence_mean", "distinct_tokens", "top_tokens")
    before = dna_tokenization_report(tok, seqs, k=K)
    tok.add_tokens(list(DNA_TOKENS))
    after = dna_tokenization_report(tok, seqs, k=K)
    print(json.dumps({"sequences": len(seqs), "smollm2": {k: before[k] for k in keys},
                      "smollm2 + DNA 3-mers": {k: after[k] for k in keys}}, indent=1))


if __name__ == "__main__":
    main()
