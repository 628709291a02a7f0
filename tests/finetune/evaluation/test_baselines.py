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
