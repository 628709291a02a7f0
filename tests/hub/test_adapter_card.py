"""hub/adapter_card.py and hub/push.py: a fine-tuned folder's card parses as the Hub reads it (base_model,
library_name: peft, the task's phrase and labels, model-index = the measured test metrics) and its body holds the
data summary and the baseline; `push` lists the files without a token, uploads through HfApi (a spec'd mock) with
one, and refuses a folder that is unfinished, holds pickles or names a local base."""

from __future__ import annotations

import json
import shutil
from unittest.mock import create_autospec

import pytest
from huggingface_hub import HfApi, ModelCard

from hub import assemble as hr
from hub.adapter_card import write_adapter_card
from hub.push import check_folder, push_folder


@pytest.fixture
def copy(tiny_adapter, tmp_path):
    out = tmp_path / "adapter"
    shutil.copytree(tiny_adapter, out)
    return out


def test_the_card_header_is_what_the_hub_reads(tiny_adapter):
    header, body = hr.front_matter(tiny_adapter / "README.md")
    assert header["base_model"] == "test-org/GenomicLLM" and header["library_name"] == "peft"
    assert header["base_model_relation"] == "adapter" and header["pipeline_tag"] == "text-generation"
    assert header["genomicllm_task"] == {"name": "gc_rich", "phrase": "GC rich", "labels": ["no", "yes"],
                                         "objective": "lm", "mode": "lora"}
    assert {"lora", "peft", "genomics", "gc_rich"} <= set(header["tags"])
    results = json.loads((tiny_adapter / "training" / "results.json").read_text())
    evals = {e.metric_type: e.metric_value for e in ModelCard.load(tiny_adapter / "README.md").data.eval_results}
    assert evals == {"matthews_correlation": round(results["ours"]["mcc"], 4),
                     "accuracy": round(results["ours"]["accuracy"], 4), "f1": round(results["ours"]["macro_f1"], 4)}


def test_the_card_body_holds_the_task_data_training_and_baselines(tiny_adapter):
    _, body = hr.front_matter(tiny_adapter / "README.md")
    results = json.loads((tiny_adapter / "training" / "results.json").read_text())
    assert "<sequence>, GC rich = <label>" in body and "`no`, `yes`" in body
    assert "PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained('test-org/GenomicLLM'" in body
    assert "labels written as 0 → no, 1 → yes" in body and "Duplicates removed: 0 across splits" in body
    assert "| train | the rest, seed 0 | 96 | 48 | 48 |" in body
    assert f"| this model | {results['ours']['mcc']:.3f} |" in body
    assert f"| k-mer (3-6) logistic regression | {results['baselines']['kmer_lr']['mcc']:.3f} |" in body
    assert "LoRA r=8, alpha=16" in body and "q_proj" in body


def test_the_release_checker_accepts_the_folder_as_an_adapter_repo(tiny_adapter, tmp_path):
    hr.assemble_lora(tiny_adapter, tmp_path / "lora", hr.Repos("test-org"))
    assert (tmp_path / "lora" / "adapter_model.safetensors").is_file()


def test_push_without_a_token_is_a_dry_run_listing_the_files(tiny_adapter, monkeypatch, capsys):
    monkeypatch.delenv(hr.TOKEN_ENV, raising=False)
    assert push_folder(tiny_adapter, "me/gc-rich") is None
    out = capsys.readouterr().out
    assert "me/gc-rich" in out and "adapter_model.safetensors" in out and "dry run: nothing uploaded" in out


def test_push_with_a_token_creates_the_repo_and_uploads_the_folder(tiny_adapter):
    api = create_autospec(HfApi, instance=True)
    push_folder(tiny_adapter, "me/gc-rich", token="hf_test", api=api, private=True)
    api.create_repo.assert_called_once_with("me/gc-rich", repo_type="model", private=True, exist_ok=True,
                                            token="hf_test")
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "me/gc-rich" and kwargs["folder_path"] == str(tiny_adapter)


def test_push_refuses_what_must_not_be_uploaded(copy):
    with pytest.raises(hr.ReleaseInputError, match="invalid Hub repo id"):
        push_folder(copy, "no-slash")
    (copy / "checkpoints").mkdir()
    with pytest.raises(hr.ReleaseInputError, match="training has not finished"):
        check_folder(copy)
    (copy / "checkpoints").rmdir()
    (copy / "optimizer.pt").write_bytes(b"")
    with pytest.raises(hr.ReleaseInputError, match="pickle files"):
        check_folder(copy)
    (copy / "optimizer.pt").unlink()
    text = (copy / "README.md").read_text().replace("base_model: test-org/GenomicLLM", "base_model: /home/me/base")
    (copy / "README.md").write_text(text)
    with pytest.raises(hr.ReleaseInputError, match="not a Hub id"):
        check_folder(copy)
    write_adapter_card(copy)  # the card is rewritten from the folder's files alone
    assert check_folder(copy)["base_model"] == "test-org/GenomicLLM"
