"""Own-task fine-tuning, the run's safety: an interrupted run resumes to exactly the adapter of an uninterrupted one,
a finished or different run is never overwritten, and sequences over the model's context are refused with the
window that fits (and windowed when asked)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from finetune.adapt import train_adapter
from finetune.adapt.examples import fit_to_context
from finetune.adapt.run import RunFolderError, finetune
from finetune.adapt.train_adapter import AdaptConfig
from finetune.adapt.userdata import UserDataError, load_user_data
from tasks.custom import custom_task


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_an_interrupted_run_resumes_to_the_same_adapter(tiny_base, labelled_csv, tmp_path, monkeypatch):
    data = load_user_data(labelled_csv)
    task = custom_task("gc_rich", "GC rich", data.labels)
    cfg = AdaptConfig(epochs=2, tokens_per_batch=400, lr=5e-3, evals_per_epoch=2)
    finetune(data, task, tmp_path / "straight", cfg, tiny_base, progress=False)

    real, calls = train_adapter.save_checkpoint, []

    def crash_after_first(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(args[3])
        raise KeyboardInterrupt

    monkeypatch.setattr(train_adapter, "save_checkpoint", crash_after_first)
    with pytest.raises(KeyboardInterrupt):
        finetune(data, task, tmp_path / "resumed", cfg, tiny_base, progress=False)
    assert (tmp_path / "resumed" / "checkpoints" / f"step-{calls[0]}").is_dir()
    monkeypatch.setattr(train_adapter, "save_checkpoint", real)
    with pytest.raises(RunFolderError, match="other settings"):
        finetune(data, task, tmp_path / "resumed", AdaptConfig(epochs=3, tokens_per_batch=400), tiny_base,
                 progress=False)
    finetune(data, task, tmp_path / "resumed", cfg, tiny_base, progress=False)

    a = load_file(tmp_path / "straight" / "adapter_model.safetensors")
    b = load_file(tmp_path / "resumed" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    log = (tmp_path / "resumed" / "training" / "log.jsonl").read_text()
    steps = [json.loads(x)["step"] for x in log.splitlines()]
    assert steps == list(range(1, len(steps) + 1)) and not (tmp_path / "resumed" / "checkpoints").exists()
    with pytest.raises(RunFolderError, match="already holds a finished adapter"):
        finetune(data, task, tmp_path / "resumed", cfg, tiny_base, progress=False)


def test_sequences_over_the_context_are_refused_with_the_window_that_fits(tiny_base, tmp_path):
    import random

    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_base, trust_remote_code=True)
    rng = random.Random(0)
    rows = [("".join(rng.choice("ACGT") for _ in range(60)), str(i % 2)) for i in range(60)]
    rows[5] = ("ACGTTGCA" * 90, "1")  # 720 nt: ~250 tokens with kmer3, the context is 128
    f = tmp_path / "long.csv"
    f.write_text("sequence,label\n" + "".join(f"{s},{y}\n" for s, y in rows))
    data = load_user_data(f, min_per_class=5)
    task = custom_task("long_one", None, data.labels)
    with pytest.raises(UserDataError, match=r"longer than the model accepts: long.csv row 6 \(720 nt.*128 tokens.*"
                                            r"Pass --window (\d+)") as e:
        fit_to_context(tok, task, data, 128)
    window = int(e.value.args[0].split("--window ")[1].split()[0])
    assert window % 3 == 0 and 300 < window < 400
    fitted = fit_to_context(tok, task, data, 128, window)
    assert fitted.summary["windows"]["bases"] == window
    assert max(len(s) for part in fitted.splits.values() for s in part["sequence"]) <= window
    assert sum(len(part) for part in fitted.splits.values()) > 60  # the long row became windows
