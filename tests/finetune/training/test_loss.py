"""The narrow prompt-DNA loss: prompt bases scored over the DNA letters alone, everything else as the plain loss."""

from pathlib import Path

import numpy as np
import torch
from torch.nn.functional import cross_entropy, log_softmax

from finetune.loop import lm_loss
from finetune.training.data import collate, load_mixture
from finetune.training.loss import NarrowPromptDNALoss
from finetune.training.train import build_model, stream_token_ids


def _setup(tiny_setup, prompt_weight):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)
    mix = load_mixture(Path(tiny_setup.datasets), tok, max_len=120, max_rows_per_source=50)
    batch = collate(mix.sample(np.random.default_rng(1), 400), tok.pad_token_id, prompt_weight)
    model = build_model(tiny_setup, tok)
    dna = stream_token_ids(tok)["dna_token_ids"]
    return model, batch, dna, NarrowPromptDNALoss(dna, model.config.vocab_size)


def test_prompt_bases_are_scored_over_the_dna_letters_and_the_rest_over_the_vocabulary(tiny_setup):
    model, batch, dna, narrow = _setup(tiny_setup, prompt_weight=0.2)
    total = batch["loss_weights"][:, 1:].sum()
    got = narrow(model, batch, total)
    # the same loss from the full logits, by hand
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
    target, w = batch["input_ids"][:, 1:], batch["loss_weights"][:, 1:]
    expected = 0.0
    for b in range(target.shape[0]):
        for t in range(target.shape[1]):
            if w[b, t] == 0:
                continue
            if t + 1 < batch["prompt_lengths"][b] and int(target[b, t]) in dna:
                expected += -log_softmax(logits[b, t, dna], -1)[dna.index(int(target[b, t]))] * w[b, t]
            else:
                expected += cross_entropy(logits[b, t], target[b, t]) * w[b, t]
    assert torch.allclose(got, expected / total, rtol=1e-5)
    assert got < lm_loss(model, batch, total)  # fewer rivals for every prompt base: a smaller loss
    got.backward()
    assert model.lm_head.weight.grad.abs().sum() > 0


def test_without_prompt_weight_it_is_the_plain_loss(tiny_setup):
    model, batch, _, narrow = _setup(tiny_setup, prompt_weight=0.0)
    total = batch["loss_weights"][:, 1:].sum()
    assert torch.allclose(narrow(model, batch, total), lm_loss(model, batch, total), rtol=1e-6)
