"""The cheap baselines reported beside the model: k-mer logistic regression and the small CNN, on real GUE rows."""

import numpy as np
import pytest

from dataset_scripts import build_gue
from finetune.evaluation import baselines


@pytest.fixture(scope="module")
def prom_tata():
    files = build_gue.discover()["prom_core_tata"]
    read = lambda split, n: build_gue.read_split(files[split], {0: "no", 1: "yes"}, "promoter", limit=n)  # noqa: E731
    return read("train", 1500), read("test", 300)


def test_kmer_baseline_learns_a_real_task(prom_tata):
    train, test = prom_tata
    model = baselines.kmer_lr(train.sequence.tolist(), train.answer.tolist())
    acc = np.mean(model.predict(test.sequence.tolist()) == test.answer.to_numpy())
    assert acc > 0.65  # chance is ~0.5 on this balanced task


def test_cnn_baseline_runs_and_predicts_labels(prom_tata):
    train, test = prom_tata
    fitted = baselines.cnn(train.sequence.tolist()[:300], train.answer.tolist()[:300], test.sequence.tolist()[:50],
                           test.answer.tolist()[:50], epochs=1)
    assert set(baselines.predict_cnn(fitted, test.sequence.tolist()[:50])) <= {"yes", "no"}


def test_a_set_without_a_train_split_is_fitted_on_dev_and_scored_on_test(tmp_path, monkeypatch):
    import pandas as pd

    from tasks.benchmarks import Benchmark

    files = build_gue.discover()["prom_core_tata"]
    folder = tmp_path / "GUE" / "data" / "prom_core_tata"
    folder.mkdir(parents=True)
    for split, n in (("dev", 400), ("test", 100)):
        build_gue.read_split(files[split], {0: "no", 1: "yes"}, "promoter", limit=n).to_parquet(folder / f"{split}.parquet")
    monkeypatch.setattr(baselines, "cnn", lambda *a, **k: None)  # the CNN's fit is tested above; keep this fast
    monkeypatch.setattr(baselines, "predict_cnn", lambda fitted, seqs: ["yes"] * len(seqs))
    got = baselines.run_benchmark(Benchmark("GUE", "prom_core_tata", "promoter", ("dev", "test")), None, root=tmp_path)
    assert got["fit_split"] == "dev" and got["n_train"] == 360 and got["n_test"] == 100  # 10% of dev held out
    assert got["kmer_lr"]["n"] == 100 and got["kmer_lr"]["accuracy"] > 0.5
    assert baselines.run_benchmark(Benchmark("GUE", "x", "promoter", ("test",)), None, root=tmp_path) == \
        {"skipped": "no train split"}
