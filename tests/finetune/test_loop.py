"""The shared training-loop parts: the weighted loss, length-grouped micro-batches that add up to the step."""

import numpy as np

from finetune.loop import answer_weight, length_groups, weighted_lm_loss
from finetune.training.data import collate


def test_weighted_loss_ignores_zero_weight_tokens():
    import torch

    logits = torch.randn(1, 5, 7)
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    w = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0]])
    full = torch.nn.functional.cross_entropy(logits[0, 2:4], ids[0, 3:5])
    assert torch.allclose(weighted_lm_loss(logits, ids, w), full)


def test_length_groups_cut_padding_and_keep_every_example():
    rng = np.random.default_rng(0)
    examples = [(np.ones(n, dtype=np.int32), 1) for n in rng.choice([20, 30, 300], size=40)]
    groups = length_groups(examples, max_padded_tokens=1024)
    assert sorted(len(e[0]) for g in groups for e in g) == sorted(len(e[0]) for e in examples)
    assert all(len(g) * max(len(e[0]) for e in g) <= 1024 or len(g) == 1 for g in groups)
    padded = sum(len(g) * max(len(e[0]) for e in g) for g in groups)
    assert padded < 1.2 * sum(len(e[0]) for e in examples)  # one batch would pad all 40 rows to 300


def test_micro_batch_losses_add_up_to_the_step_loss():
    import torch

    examples = [(np.arange(3, 3 + n, dtype=np.int32), 2) for n in (5, 6, 40, 41)]
    whole = collate(examples, 0, prompt_weight=0.2)
    parts = [collate(g, 0, prompt_weight=0.2) for g in length_groups(examples, 82)]
    assert len(parts) == 2
    torch.manual_seed(0)
    table = torch.randn(50, 50)
    total = sum(answer_weight(b) for b in parts)
    split = sum(weighted_lm_loss(table[b["input_ids"]], b["input_ids"], b["loss_weights"], total) for b in parts)
    assert torch.allclose(split, weighted_lm_loss(table[whole["input_ids"]], whole["input_ids"], whole["loss_weights"]))


def test_row_balance_gives_every_row_the_same_answer_and_prompt_weight():
    # (ids, prompt length): 1 answer token vs 150
    short, long = (np.arange(3, 9, dtype=np.int32), 5), (np.arange(3, 303, dtype=np.int32), 150)
    plain = collate([short, long], 0, prompt_weight=0.2)["loss_weights"]
    assert plain[1].sum() / plain[0].sum() > 20  # every token alike: the long row outweighs the short one
    balanced = collate([short, long], 0, prompt_weight=0.2, row_balance=1.0)["loss_weights"]
    for row, (ids, n_prompt) in zip(balanced, [short, long]):
        assert np.isclose(float(row[:n_prompt].sum()), 0.2) and np.isclose(float(row[n_prompt:len(ids)].sum()), 1.0)
        assert float(row[len(ids):].sum()) == 0.0  # padding stays unweighted
