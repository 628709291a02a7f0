"""Cheap baselines for every classification benchmark: k-mer logistic regression and a small CNN.

- k-mer LR: counts of overlapping k-mers, k = 3..6 (scikit-learn CountVectorizer on characters), l2-normalised,
  logistic regression.
- CNN: the GenomicBenchmarks baseline shape (one-hot -> 3 x [Conv1d(16, k=8) -> BatchNorm -> ReLU -> MaxPool(2)]
  -> global average -> Linear), Adam, a few epochs, the epoch with the best dev accuracy kept (dev = the benchmark's
  dev split, else 10% of train held aside).
Both are fitted on the train split only and scored on test with `tasks.metrics`; where the mirror has no train
split (GUE's histone marks and mouse_1) on the dev split instead, as the model's heads are (`Benchmark.fit`).

    python -m finetune.evaluation.baselines [--only GUE/tf_0 ...] [--max-train 20000] [--datasets build/datasets]
        ->  build/eval/baselines.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dataset_scripts.audit import kmer_lr
from tasks.benchmarks import Benchmark, discover
from tasks.metrics import score
from tasks.paths import DATASETS_DIR, EVAL_DIR

BASES = {b: i for i, b in enumerate("ACGT")}  # N and others: all-zero column


def one_hot(seqs: list[str], length: int) -> torch.Tensor:
    x = torch.zeros(len(seqs), 4, length)
    for i, s in enumerate(seqs):
        idx = [(j, BASES[b]) for j, b in enumerate(s[:length]) if b in BASES]
        if idx:
            cols, rows = zip(*idx)
            x[i, list(rows), list(cols)] = 1.0
    return x


class SmallCNN(nn.Module):
    def __init__(self, n_classes: int, channels: int = 16, kernel: int = 8):
        super().__init__()
        layers, c_in = [], 4
        for _ in range(3):
            layers += [nn.Conv1d(c_in, channels, kernel, padding=kernel // 2), nn.BatchNorm1d(channels), nn.ReLU(),
                       nn.MaxPool1d(2)]
            c_in = channels
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, 4, length)
        return self.head(self.features(x).mean(dim=-1))  # (batch, n_classes)


def cnn(train_x, train_y, dev_x, dev_y, epochs: int = 5, seed: int = 0, batch: int = 128):
    torch.manual_seed(seed)
    classes = sorted(set(train_y))
    length = max(len(s) for s in train_x)
    xt, yt = one_hot(train_x, length), torch.tensor([classes.index(y) for y in train_y])
    xd = one_hot(dev_x, length)
    model, best = SmallCNN(len(classes)), (-1.0, None)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(xt), generator=gen).split(batch):
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = float(np.mean(np.array(_predict(model, classes, xd)) == np.array(dev_y)))
        if acc > best[0]:
            best = (acc, {k: v.clone() for k, v in model.state_dict().items()})
    model.load_state_dict(best[1])
    return model, classes, length


@torch.no_grad()
def _predict(model: SmallCNN, classes: list[str], x: torch.Tensor) -> list[str]:
    model.eval()
    return [classes[i] for start in range(0, len(x), 512) for i in model(x[start : start + 512]).argmax(-1).tolist()]


def predict_cnn(fitted, seqs: list[str]) -> list[str]:
    model, classes, length = fitted
    return _predict(model, classes, one_hot(seqs, length))


def run_benchmark(b: Benchmark, max_train: int | None, seed: int = 0, root: Path = DATASETS_DIR) -> dict:
    if not b.fit or "test" not in b.splits:
        return {"skipped": f"no {'train' if not b.fit else 'test'} split"}
    cols = ["sequence", "answer"]
    train = b.load(b.fit, root, columns=cols)
    if max_train and len(train) > max_train:
        train = train.sample(n=max_train, random_state=seed)
    test = b.load("test", root, columns=cols)
    if b.selection:
        dev = b.load(b.selection, root, columns=cols)
    else:
        dev = train.sample(frac=0.1, random_state=seed)
        train = train.drop(dev.index)
    out = {"n_train": len(train), "n_test": len(test), "fit_split": b.fit}
    t = time.time()
    lr = kmer_lr(train.sequence.tolist(), train.answer.tolist(), seed)
    out["kmer_lr"] = score(b.task, test.answer.tolist(), lr.predict(test.sequence.tolist()).tolist())
    out["kmer_lr"]["fit_seconds"] = time.time() - t
    t = time.time()
    fitted = cnn(train.sequence.tolist(), train.answer.tolist(), dev.sequence.tolist(), dev.answer.tolist(), seed=seed)
    out["cnn"] = score(b.task, test.answer.tolist(), predict_cnn(fitted, test.sequence.tolist()))
    out["cnn"]["fit_seconds"] = time.time() - t
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="*", help="benchmark names like GUE/tf_0")
    p.add_argument("--max-train", type=int, default=30_000, help="cap on train rows per benchmark (speed)")
    p.add_argument("--out", type=Path, default=EVAL_DIR / "baselines.json")
    p.add_argument("--datasets", type=Path, default=DATASETS_DIR, help="folder of the built datasets")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    results = {}
    for b in discover(args.datasets):
        if args.only and b.name not in args.only:
            continue
        results[b.name] = {"task": b.task, **run_benchmark(b, args.max_train, root=args.datasets)}
        r = results[b.name]
        if "skipped" in r:
            print(f"{b.name:<45} skipped: {r['skipped']}", flush=True)
        else:
            print(f"{b.name:<45} kmer-LR mcc {r['kmer_lr']['mcc']:.3f} acc {r['kmer_lr']['accuracy']:.3f} | "
                  f"CNN mcc {r['cnn']['mcc']:.3f} acc {r['cnn']['accuracy']:.3f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
