"""The training script on a tiny config: runs, logs, checkpoints, resumes, writes a loadable release, and runs
under `accelerate launch --num_processes 2` on the CPU."""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from finetune.data import answer_weight, collate, length_groups, load_mixture, weighted_lm_loss
from finetune.train import TrainConfig, train


def test_mixture_never_truncates_and_weights_answers(tiny_setup):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)
    mix = load_mixture(Path(tiny_setup.datasets), tok, max_len=120, max_rows_per_source=200)
    table = {r["source"]: r for r in mix.table()}
    assert table["GenomicLLM_GRCh38/splice_site"]["dropped_for_length"] == 200  # 400 nt windows never fit in 120
    rows = {f"GenomicLLM_GRCh38/{p.parent.name}": len(pd.read_parquet(p, columns=["answer"]))
            for p in (Path(tiny_setup.datasets) / "GenomicLLM_GRCh38" / "data").glob("*/train.parquet")}
    assert all(len(s) + s.dropped_for_length == min(200, rows[s.name]) for s in mix.sources)  # kept + counted
    assert abs(mix.weights.sum() - 1) < 1e-9 and table["GenomicLLM_GRCh38/splice_site"]["weight"] == 0
    batch = collate(mix.sample(np.random.default_rng(0), 300), tok.pad_token_id, prompt_weight=0.0)
    ids, w = batch["input_ids"][0], batch["loss_weights"][0]
    answer = ids[w > 0].tolist()
    assert answer[-1] == tok.eos_token_id and ids[0] == tok.bos_token_id and w[0] == 0


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


def test_train_checkpoints_resumes_releases_and_ships(tiny_setup, tmp_path):
    out = tmp_path / "run"
    release = train(tiny_setup, out, progress=False)
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and (out / "loss.png").is_file()
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-2", "step-4"]
    with (out / "log.jsonl").open("a") as f:  # a step logged after the last checkpoint, then interrupted
        f.write(json.dumps({**log[-1], "step": 5, "tokens": 10**9}) + "\n")
    longer = TrainConfig(**{**asdict(tiny_setup), "steps": 6})
    train(longer, out, progress=False)  # resumes at step 4, redoing step 5
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert log[3]["tokens"] < log[4]["tokens"] < log[5]["tokens"] < 10**9 and log[5]["cpu_s"] > log[3]["cpu_s"] > 0
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(release, trust_remote_code=True)  # the tokenizer's remote code ships too
    assert type(tok).__name__ == "GenomicLLMTokenizerFast"
    plain = AutoTokenizer.from_pretrained(release)  # and without remote code it loads, without asking, as before
    assert type(plain).__name__ != "GenomicLLMTokenizerFast" and plain("ACGTACGTAC")["input_ids"] == tok("ACGTACGTAC")["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(release, trust_remote_code=True)
    out_ids = model.generate(**tok("ACGTACGTAC, GC content =", return_tensors="pt"), max_new_tokens=3, do_sample=False)
    assert out_ids.shape[1] >= 3

    from finetune.ship import ship

    shipped = ship(out, tmp_path / "shipped" / "GenomicLLM")
    summary = json.loads((shipped / "training_summary.json").read_text())
    assert summary["steps"] == 6 and summary["tokens"] == log[5]["tokens"] and summary["cpu_s"] > 0
    assert {"train_config.json", "mixture.json", "loss.png", "model.safetensors"} <= {p.name for p in shipped.iterdir()}
    assert json.loads((shipped / "train_config.json").read_text())["steps"] == 6


def test_two_process_cpu_run(tiny_setup, tmp_path):
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps({**asdict(tiny_setup), "steps": 2, "checkpoint_every": 2}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "finetune.train", "--config", str(cfg_path),
           "--out", str(tmp_path / "ddp")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "ddp" / "release" / "model.safetensors").is_file()
    assert len((tmp_path / "ddp" / "log.jsonl").read_text().splitlines()) == 2


def test_evaluate_through_the_release_folder(tiny_setup, tiny_release, tmp_path):
    from finetune.evaluate import evaluate_all, markdown, score_file

    release = tiny_release
    results = evaluate_all(release, tmp_path / "eval", root=Path(tiny_setup.datasets), max_rows=4, split="validation",
                           only=["GenomicLLM_GRCh38/splice_site", "GenomicLLM_GRCh38/reverse_complement"])
    assert "GenomicLLM_GRCh38/splice_site" in results
    ops = [r for k, r in results.items() if k.startswith("GenomicLLM_GRCh38/reverse_complement:")]
    assert ops and all(r["exact_rule"]["exact_match"] == 1.0 for r in ops)  # the rule column agrees with the gold
    splice = results["GenomicLLM_GRCh38/splice_site"]["ours"]
    assert splice["n"] == 4 and 0 <= splice["unparseable_rate"] <= 1 and "mcc" in splice
    assert (tmp_path / "eval" / "confusion" / "GenomicLLM_GRCh38__splice_site.png").is_file()
    assert "| GenomicLLM_GRCh38/splice_site | splice_site |" in markdown(results, {})
    data = tmp_path / "mine.csv"
    data.write_text("sequence,label\nACGTACGTAC,yes\nTTTTGGGGCC,no\n")
    assert score_file(release, "promoter", data)["n"] == 2
    data.write_text("sequence,label\nACGT,maybe\n")
    with pytest.raises(SystemExit, match="not labels of promoter"):
        score_file(release, "promoter", data)


def test_bench_measures_the_released_model(tiny_release, tiny_setup):
    from finetune.bench import measure, report

    row = measure("ours", tiny_release, n_prompts=4, new=3, batch=2, train_steps=1, root=Path(tiny_setup.datasets),
                  split="validation")
    assert row["prompts"] == 4 and row["new_tokens"] == 3
    assert 0 < row["latency_p50_s"] <= row["latency_p95_s"] and row["answers_per_s"] > 0 and row["train_tokens_per_s"] > 0
    slower = {**row, "latency_p50_s": row["latency_p50_s"] * 10, "answers_per_s": row["answers_per_s"] / 4}
    table = report(row, slower)
    assert "| latency p50, one answer (s) |" in table and "10.0x less" in table and "4.0x more" in table
