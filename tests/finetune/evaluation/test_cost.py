"""The cost benchmark on the released model."""

from pathlib import Path


def test_bench_measures_the_released_model(tiny_release, tiny_setup):
    from finetune.evaluation.cost import measure, report

    row = measure("ours", tiny_release, n_prompts=4, new=3, batch=2, train_steps=1, root=Path(tiny_setup.datasets),
                  split="validation")
    assert row["prompts"] == 4 and row["new_tokens"] == 3
    assert 0 < row["latency_p50_s"] <= row["latency_p95_s"] and row["answers_per_s"] > 0 and row["train_tokens_per_s"] > 0
    slower = {**row, "latency_p50_s": row["latency_p50_s"] * 10, "answers_per_s": row["answers_per_s"] / 4}
    table = report(row, slower)
    assert "| latency p50, one answer (s) |" in table and "10.0x less" in table and "4.0x more" in table

    longer = {**row, "prompt_tokens_p50": row["prompt_tokens_p50"] * 3}
    assert "3.0x more (worse)" in report(longer, row)  # longer prompts: the larger over the smaller, flagged
