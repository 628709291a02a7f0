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

from finetune.data import collate, load_mixture, weighted_lm_loss
from finetune.train import TrainConfig, train


@pytest.fixture(scope="module")
def tiny_setup(small_corpus, tmp_path_factory):
    from tokenizer.candidates import build_candidate

    texts = []
    for path in sorted((small_corpus / "data").glob("*/train.parquet")):
        df = pd.read_parquet(path, columns=["prompt", "answer"]).head(300)
        texts += (df.prompt + " " + df.answer).tolist()
    tok_dir = tmp_path_factory.mktemp("tok")
    build_candidate("kmer3", texts).save_pretrained(tok_dir)
    cfg = TrainConfig(tokenizer=str(tok_dir), datasets=str(small_corpus.parent), max_len=768,
                      model={"hidden_size": 32, "intermediate_size": 64, "num_layers": 2, "num_attention_heads": 2},
                      tokens_per_batch=600, steps=4, warmup_steps=2, checkpoint_every=2, max_rows_per_source=200)
    return cfg


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


def test_train_checkpoints_resumes_and_releases(tiny_setup, tmp_path):
    out = tmp_path / "run"
    release = train(tiny_setup, out, progress=False)
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and (out / "loss.png").is_file()
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-2", "step-4"]
    longer = TrainConfig(**{**asdict(tiny_setup), "steps": 6})
    train(longer, out, progress=False)  # resumes at step 4
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(release)
    model = AutoModelForCausalLM.from_pretrained(release, trust_remote_code=True)
    out_ids = model.generate(**tok("ACGTACGTAC, GC content =", return_tensors="pt"), max_new_tokens=3, do_sample=False)
    assert out_ids.shape[1] >= 3


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


def test_evaluate_through_the_release_folder(tiny_setup, tmp_path):
    from finetune.evaluate import evaluate_all, markdown, score_file

    release = train(TrainConfig(**{**asdict(tiny_setup), "steps": 2}), tmp_path / "run", progress=False)
    results = evaluate_all(release, tmp_path / "eval", root=Path(tiny_setup.datasets), max_rows=4, split="validation",
                           only=["GenomicLLM_GRCh38/splice_site", "GenomicLLM_GRCh38/reverse_complement"])
    assert "GenomicLLM_GRCh38/splice_site" in results
    assert any(k.startswith("GenomicLLM_GRCh38/reverse_complement:") for k in results)
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
