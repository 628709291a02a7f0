"""The GPU run's script, exercised on the CPU with a tiny config: pack -> gpu.sh -> what comes back (<= 8 files,
sharded weights) -> unpack -> a release folder whose model equals the one trained."""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from finetune.training.gpu import pack, unpack

TINY = {"hidden_size": 32, "intermediate_size": 64, "num_layers": 2, "num_attention_heads": 4,
        "position_streams": ["token", "run_start", "run_end", "codon"], "conv_kernel_size": 4}


def test_gpu_script_runs_on_cpu_and_comes_back_sharded(tiny_setup, tmp_path):
    written = pack(Path(tiny_setup.datasets), Path(tiny_setup.tokenizer), tmp_path / "pack")
    assert any(k.startswith("datasets/GenomicLLM_GRCh38/data/") for k in written) and "tokenizer/tokenizer.json" in written
    import pyarrow.parquet as pq

    packed = next((tmp_path / "pack" / "datasets").rglob("train.parquet"))
    assert pq.read_schema(packed).names == ["prompt", "answer"]  # only what the mixture reads

    env = {**os.environ, "PYTHON": sys.executable, "PACK": str(tmp_path / "pack"), "OMP_NUM_THREADS": "1"}
    sets = [f"model={json.dumps(TINY)}", "mixed_precision=\"no\"", "wall_budget_s=6", "steps=400",
            "tokens_per_batch=600", "microbatch_tokens=2048", "max_rows_per_source=100", "warmup_steps=2",
            "max_shard_size=\"60KB\"", "checkpoint_every=1000"]
    run, back = tmp_path / "run", tmp_path / "back"
    done = subprocess.run(["bash", "finetune/training/gpu.sh", str(run), str(back), *sets], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    files = sorted(p.name for p in back.iterdir())
    shards = [p for p in back.glob("*.safetensors")]
    assert len(files) <= 8 and len(shards) >= 2 and "model.safetensors.index.json" in files
    from safetensors import safe_open

    for p in shards:  # within the limit, unless one tensor alone is larger (then it is alone)
        with safe_open(p, "pt") as f:
            assert p.stat().st_size <= 60_000 or len(list(f.keys())) == 1, p.name
    log = [json.loads(x) for x in (back / "log.jsonl").read_text().splitlines()]
    assert 6 <= log[-1]["wall_s"] < 30 and log[-1]["step"] < 400  # stopped by the wall-clock budget, not steps

    rebuilt = unpack(back, Path(tiny_setup.tokenizer), tmp_path / "rebuilt")
    from transformers import AutoModelForCausalLM

    ids = torch.tensor([[1, 5, 6, 7, 8, 9, 10, 11, 12]])
    a = AutoModelForCausalLM.from_pretrained(run / "release", trust_remote_code=True).eval()
    b = AutoModelForCausalLM.from_pretrained(rebuilt / "release", trust_remote_code=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(a(ids).logits, b(ids).logits, rtol=0, atol=0)
    assert {"loss.png", "mixture.json", "train_config.json"} <= {p.name for p in rebuilt.iterdir()}
