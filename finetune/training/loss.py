"""The training loss with the prompt's bases predicted over the DNA letters alone (`TrainConfig.narrow_prompt_dna`).

Why: with one token per base most targets are prompt bases (weight `prompt_weight`), and scoring each of them over
the whole vocabulary costs a (D x V) product and a V-way softmax per position: about a quarter of a training step's
CPU time for the 5.3M model (V = 8,454). What that part of the loss teaches is which base comes next; asked over the
DNA letters alone (a softmax over ~15 columns of the tied output matrix) it costs almost nothing. Everything else (the
answer, its end, the prompt's words, the token that ends a DNA run) keeps the full softmax, so generation is trained
exactly as before. Measured: 1.27x the tokens per CPU-second, but no better dev metrics at equal CPU-seconds so far
(`studies/results/narrow_softmax.md`, `narrow_phase.md`), so it is off by default.

    loss_of = NarrowPromptDNALoss(dna_token_ids, vocab_size)   # finetune.loop.optimizer_step(..., loss_of=loss_of)

Shapes: B batch, T tokens, D hidden, V vocabulary, K DNA letters.
"""

from __future__ import annotations

import torch
from torch.nn.functional import cross_entropy


class NarrowPromptDNALoss:
    """A micro-batch's share of the step's weighted LM loss (as `finetune.loop.lm_loss`), prompt bases over the DNA
    letters alone. The batch carries `prompt_lengths` (B,): tokens before the answer (`data.collate`)."""

    def __init__(self, dna_token_ids: list[int], vocab_size: int):
        self.dna = torch.tensor(sorted(dna_token_ids), dtype=torch.long)  # (K,)
        self.column = torch.full((vocab_size,), -1, dtype=torch.long)  # token id -> its column among the K
        self.column[self.dna] = torch.arange(len(self.dna))

    def __call__(self, model, batch: dict[str, torch.Tensor], total) -> torch.Tensor:
        # the full logits of one position only: the loss reads the final hidden states instead
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True,
                    logits_to_keep=1)
        hidden = out.hidden_states[-1][:, :-1]  # (B, T-1, D): the final norm's output, predicting input_ids[:, 1:]
        target, weight = batch["input_ids"][:, 1:], batch["loss_weights"][:, 1:]  # (B, T-1)
        index = torch.arange(1, target.shape[1] + 1, device=target.device)  # each target's place in input_ids
        in_prompt = index[None, :] < batch["prompt_lengths"][:, None]
        column = self.column.to(target.device)[target]  # (B, T-1): each target's DNA column, -1 if none
        narrow = in_prompt & (column >= 0) & (weight > 0)
        wide = ~narrow & (weight > 0)
        matrix = getattr(model, "module", model).lm_head.weight  # (V, D), through a DDP wrapper too
        loss = (cross_entropy(hidden[wide] @ matrix.T, target[wide], reduction="none") * weight[wide]).sum()
        columns = column[narrow]
        dna_rows = matrix[self.dna.to(target.device)]  # (K, D)
        loss = loss + (cross_entropy(hidden[narrow] @ dna_rows.T, columns, reduction="none") * weight[narrow]).sum()
        return loss / torch.as_tensor(total).clamp_min(1e-8)
