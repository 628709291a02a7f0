"""Own-task fine-tuning end to end on a tiny model: a labelled file → a Hub-ready folder that users reload with
`PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, trust_remote_code=True), DIR)` in a fresh
offline process and get the same logits as `modeling.inference.load_adapter` here; the same for the
classification-head LoRA and the full fine-tune."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from finetune.adapt.run import finetune
from finetune.adapt.train_adapter import AdaptConfig
from finetune.adapt.userdata import load_user_data
from modeling.inference import load_adapter
from tasks.custom import custom_task

ROOT = Path(__file__).resolve().parents[3]
QUESTION = "GGGCCCATGGCCGGGCATCC, GC rich ="


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


LOADS = {  # how users load each kind of folder, in a fresh process (`base`, `folder`: paths)
    "lora": """
tok = AutoTokenizer.from_pretrained(folder)
model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, trust_remote_code=True), folder)""",
    "head": """
tok = AutoTokenizer.from_pretrained(folder)
base_model = AutoModelForSequenceClassification.from_pretrained(base, trust_remote_code=True, num_labels=2)
model = PeftModel.from_pretrained(base_model, folder)""",
    "full": """
tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)""",
}


def fresh_logits(tmp_path: Path, base: Path, folders: dict[str, Path]) -> dict[str, torch.Tensor]:
    """Logits of QUESTION for each folder, from one new offline Python process with an empty HF_HOME, each loaded
    as LOADS says."""
    code = ["import json, torch", "from peft import PeftModel",
            "from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer",
            f"base, out = {str(base)!r}, {{}}"]
    for kind, folder in folders.items():
        code += [f"folder = {str(folder)!r}", LOADS[kind].strip(), "with torch.no_grad():",
                 f"    out[{kind!r}] = model.eval()(**tok({QUESTION!r}, return_tensors='pt')).logits.tolist()"]
    code.append("print('\\nLOGITS ' + json.dumps(out))")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", "\n".join(code)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOGITS "))
    return {k: torch.tensor(v) for k, v in json.loads(line.removeprefix("LOGITS ")).items()}


@torch.no_grad()
def here_logits(tok, model) -> torch.Tensor:
    return model(**tok(QUESTION, return_tensors="pt")).logits


@pytest.fixture(scope="module")
def variants(tiny_base, labelled_csv, tmp_path_factory) -> dict[str, Path]:
    """The classification-head LoRA and the full fine-tune, 4 steps each, on the same file."""
    data = load_user_data(labelled_csv)
    task = custom_task("gc_rich", "GC rich", data.labels)
    out = {}
    for kind, mode, objective in (("head", "lora", "head"), ("full", "full", "lm")):
        out[kind] = tmp_path_factory.mktemp(kind) / "run"
        cfg = AdaptConfig(mode=mode, objective=objective, epochs=1, tokens_per_batch=400, lr=5e-3, steps=4)
        finetune(data, task, out[kind], cfg, tiny_base, base_id="test-org/GenomicLLM", progress=False)
    return out


@pytest.fixture(scope="module")
def theirs(tiny_adapter, tiny_base, variants, tmp_path_factory) -> dict[str, torch.Tensor]:
    return fresh_logits(tmp_path_factory.mktemp("fresh"), tiny_base, {"lora": tiny_adapter, **variants})


def test_the_folder_is_a_hub_ready_peft_adapter(tiny_adapter):
    names = {p.relative_to(tiny_adapter).as_posix() for p in tiny_adapter.rglob("*") if p.is_file()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "genomicllm_task.json",
            "README.md", "training/log.jsonl", "training/loss.png", "training/results.json",
            "training/data_summary.json", "training/confusion.png"} <= names
    assert not any(n.startswith("checkpoints/") or n.endswith((".pt", ".bin")) for n in names)
    config = json.loads((tiny_adapter / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "test-org/GenomicLLM" and config["task_type"] == "CAUSAL_LM"
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                             "down_proj"}
    results = json.loads((tiny_adapter / "training" / "results.json").read_text())
    assert {"mcc", "accuracy", "macro_f1", "unparseable_rate"} <= set(results["ours"])
    assert results["baselines"]["kmer_lr"]["mcc"] > 0.5  # the classes are separable by k-mer counts
    assert results["ours"]["n"] == results["baselines"]["kmer_lr"]["n"] == 12
    lora_b = [v for k, v in load_file(tiny_adapter / "adapter_model.safetensors").items() if "lora_B" in k]
    assert lora_b and any(float(v.abs().max()) > 0 for v in lora_b)  # trained (B starts at zero)


def test_peft_reload_in_a_fresh_offline_process_gives_the_same_logits(tiny_adapter, tiny_base, theirs):
    tok, model, task, meta = load_adapter(tiny_adapter, tiny_base, merge=False)
    assert task.name == "gc_rich" and task.labels == ("no", "yes") and meta["label_map"] == {"0": "no", "1": "yes"}
    assert torch.allclose(here_logits(tok, model), theirs["lora"], atol=1e-5)
    tok, merged, _, _ = load_adapter(tiny_adapter, tiny_base)  # merged: the same function
    assert torch.allclose(here_logits(tok, merged), theirs["lora"], atol=1e-4)
    from modeling.inference import load

    _, base = load(tiny_base)
    assert not torch.allclose(here_logits(tok, base), theirs["lora"], atol=1e-3)  # the adapter changes the answer


def test_the_head_and_the_full_fine_tune_reload_as_users_load_them(tiny_base, variants, theirs):
    head, full = variants["head"], variants["full"]
    assert json.loads((head / "adapter_config.json").read_text())["task_type"] == "SEQ_CLS"
    assert (full / "model.safetensors").is_file() and not (full / "adapter_config.json").exists()
    for kind, folder in variants.items():
        tok, model, _, meta = load_adapter(folder, tiny_base, merge=False)
        assert (meta["mode"], meta["objective"]) == {"head": ("lora", "head"), "full": ("full", "lm")}[kind]
        ours = here_logits(tok, model)
        assert ours.shape[-1] == (2 if kind == "head" else len(tok))
        assert torch.allclose(ours, theirs[kind], atol=1e-5), kind
