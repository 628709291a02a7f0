"""Give a label head its own motif reader (`heads_genomicllm.HeadConv`): a small CNN over the DNA run's per-base
states, trained with the head's linear map on train rows, the transformer frozen.

Why: a linear head reads averages of the states (and the last one), in which a motif or a stop codon at one base is
diluted; a kernel-9 convolution over the run's states, max- and mean-pooled (per codon position for a reading
frame), is what a task-specific fine-tune adds on top of a model. Dev MCC, the linear head -> this one
(`finetune/README.md`): GUE mouse_3 0.52 -> 0.79, mouse_2 0.70 -> 0.80, ORF frame 0.80 -> 0.83; sequence direction
0.850 -> 0.851 (not kept), and on some TF sets it is worse, hence the selection below.

A head is fitted for a task (its pooled head, what `generate` answers with) or one of its benchmarks (its own head,
what `ask(..., benchmark=)` and the evaluation read). It reads what the head it replaces read (`features`), any
`--extra-features` (the DNA run's k-mer profile, `kmers:3-6`: what k-mer LR reads) and `conv:<name>`; rows with
fields are asked with and without them (`label_heads.fit_states`), strand-symmetric tasks read both strands and
average the features, as in use. The new head is kept only where it beats the head it would
replace by `MIN_GAIN` MCC on the selection rows (`label_heads.benchmark_rows`: the dev split, or held-out train
rows); its reader's weights go into the folder's `model.safetensors` (`head_convs.<name>.*`) and its spec into
`config.json` (`head_convs`), the entry into `label_heads`. Other weights are not touched.

    python -m finetune.training.conv_heads --model release/GenomicLLM --task tf_binding --benchmark GUE/mouse_3
"""

from __future__ import annotations

import argparse
import fcntl
import re
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from finetune.training.folder_config import edited_config
from finetune.training.head_questions import QUESTION_KEYS, add_questions
from finetune.training.label_heads import (PROFILE_SCALE, _columns, _rounded, benchmark_rows, profile_columns,
                                           put_label_head, task_benchmarks, with_letters)
from modeling.heads_genomicllm import HeadConv, feature_width, head_logits, reads_letters
from modeling.inference import load
from modeling.modeling_genomicllm import stored_weights
from modeling.scores import FEATURES, head, question_states
from tasks.benchmarks import DATASETS_DIR
from tasks.grammar import render_prompt
from tasks.metrics import classification
from tasks.registry import get_task
from tasks.rules import reverse_complement

# a reader is kept where it gains this much dev MCC: less is within the noise of 400 rows, and costs a forward's
# reading for nothing (sequence direction: 0.850 -> 0.851)
MIN_GAIN = 0.01
SPEC = {"layers": None, "proj": 32, "channels": 64, "kernel": 9}  # layers None: the embeddings and the last block


def conv_name(task: str, benchmark: str | None = None) -> str:
    """The reader's name (a Python identifier: it names weights) of a task's pooled head or a benchmark's own."""
    return re.sub(r"\W", "_", f"{task}__{benchmark}" if benchmark else task)


class Questions:
    """The questions of some rows as the head reads them: per question and strand, the pooled features the new head
    reads ((Q, F)), the reader's layers' states along the DNA run ((run length, D x layers), float16), and with
    `old` (the features of the head it would replace, which may read a reader of its own) those too; asked as
    `label_heads.fit_states` asks them."""

    def __init__(self, model, tok, task, rows, features, layers: list[int], also_without_fields: bool,
                 old: list[str] | None = None):
        seqs, fields, self.answers = _columns(rows)
        asked = [(seqs, fields)]
        if also_without_fields and any(fields):
            asked.append((seqs, [None] * len(seqs)))
            self.answers = self.answers + self.answers
        strands = [lambda s: s] + ([reverse_complement] if task.strand_symmetric else [])
        read = list(features) + [f for f in old or () if f not in features]
        at, cols = {}, 0  # each feature's columns among those read
        for name in read:
            at[name] = (cols, cols + _width(model, [name]))
            cols = at[name][1]
        self.pooled, self.runs, self.old = [], [], []  # per strand
        for flip in strands:
            pooled, runs = [], []
            for s, f in asked:
                p, r = question_states(model, tok, [render_prompt(task, flip(x), y) for x, y in zip(s, f)], read,
                                       run_layers=layers)
                pooled.append(p)
                runs += r
            both = np.concatenate(pooled)
            self.pooled.append(both[:, : _width(model, features)])
            self.runs.append(runs)
            if old:  # the old head's columns, in its order
                self.old.append(np.concatenate([both[:, slice(*at[name])] for name in old], 1))


def _width(model, features) -> int:
    return sum(feature_width(model.config, f) for f in features)


def _batch(runs: list[np.ndarray], layers: list[int], width: int, rows) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """A batch of runs as ``HeadConv`` reads a question: (hidden states by layer, run mask, base index)."""
    length = max(len(runs[i]) for i in rows)
    x = torch.zeros(len(rows), length, width * len(layers))
    run = torch.zeros(len(rows), length, dtype=torch.bool)
    for j, i in enumerate(rows):
        x[j, : len(runs[i])] = torch.from_numpy(runs[i].astype(np.float32))
        run[j, : len(runs[i])] = True
    states = {k: x[..., n * width : (n + 1) * width] for n, k in enumerate(layers)}
    return states, run, torch.arange(length).expand(len(rows), length)


class ConvHead(torch.nn.Module):
    """The reader and the head's linear map over [standardised pooled features, the reader's], both strands
    averaged. The `as_is` columns (a k-mer profile: `label_heads.profile_columns`) are read x 10, not standardised,
    as `label_heads` fits them: standardised, the rare k-mers' columns are blown up and overfitted (GUE tf_1 with
    kmers:3-6 standardised: selection MCC 0.520 -> 0.540, test 0.676 -> 0.625)."""

    def __init__(self, hidden_size: int, spec: dict, pooled: np.ndarray, labels: int, dropout: float = 0.2,
                 as_is: np.ndarray | None = None):
        super().__init__()
        self.reader = HeadConv.from_spec(hidden_size, spec)
        self.layers, self.width = list(spec["layers"]), hidden_size
        mean, scale = pooled.mean(0), pooled.std(0) + 1e-6
        if as_is is not None:
            mean[as_is], scale[as_is] = 0.0, PROFILE_SCALE
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.out = torch.nn.Linear(pooled.shape[1] + HeadConv.width(spec), labels)
        self.drop = torch.nn.Dropout(dropout)

    def features(self, q: Questions, rows) -> torch.Tensor:
        f = 0
        for pooled, runs in zip(q.pooled, q.runs):
            p = (torch.from_numpy(pooled[rows]).float() - self.mean) / self.scale
            f = f + torch.cat([p, self.reader(*_batch(runs, self.layers, self.width, rows))], -1)
        return f / len(q.pooled)

    def forward(self, q: Questions, rows) -> torch.Tensor:
        return self.out(self.drop(self.features(q, rows)))

    def entry(self) -> dict:
        """The linear map over the raw features, the standardisation folded in: {"weight", "bias"}."""
        n = len(self.mean)
        w = self.out.weight.detach().double().clone()
        b = self.out.bias.detach().double() - w[:, :n] @ (self.mean.double() / self.scale.double())
        w[:, :n] = w[:, :n] / self.scale.double()
        return {"weight": [_rounded(r) for r in w.tolist()], "bias": _rounded(b.tolist())}


def train(head: ConvHead, q: Questions, labels: tuple[str, ...], epochs: int = 30, batch: int = 64,
          lr: float = 1e-3, seed: int = 0) -> list[float]:
    """Class-balanced cross-entropy, AdamW, one-cycle schedule; the loss of each epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    y = torch.tensor([labels.index(a) for a in q.answers])
    counts = np.bincount(y.numpy(), minlength=len(labels))
    if (counts == 0).any():
        raise ValueError(f"no training rows answer {[lab for lab, c in zip(labels, counts) if not c]}")
    weight = torch.tensor(len(y) / (len(labels) * counts), dtype=torch.float32)
    trainable = [p for p in head.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.05)
    per_epoch = (len(y) + batch - 1) // batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * per_epoch)
    losses = []
    head.train()
    for _ in range(epochs):
        total = 0.0
        for rows in np.array_split(rng.permutation(len(y)), per_epoch):
            loss = torch.nn.functional.cross_entropy(head(q, rows), y[rows], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            total += loss.item() * len(rows)
        losses.append(total / len(y))
    head.eval()
    return losses


@torch.no_grad()
def mcc(probabilities_of, q: Questions, labels: tuple[str, ...]) -> float:
    predicted = probabilities_of(q).argmax(1).tolist()
    return classification(q.answers, [labels[i] for i in predicted])["mcc"]


def fit_conv_head(model, tok, task_name: str, benchmark: str | None = None, rows: int = 3000, select_rows: int = 400,
                  epochs: int = 30, spec: dict | None = None, root: Path = DATASETS_DIR, min_gain: float = MIN_GAIN,
                  extra: list[str] = ()) -> dict:
    """Fit a head with a motif reader for `task_name`'s pooled head (or `benchmark`'s own) and compare it with the
    head it would replace on the selection rows (kept where its MCC is `min_gain` higher): {"name", "spec",
    "reader" (state dict), "entry", "kept", "selection_probabilities" (the selection rows', as asked)}. The new head
    reads what the old one read (its reader aside), the `extra` features (the run's k-mer profile: "kmers:3-6") and
    the new reader's."""
    task = get_task(task_name)
    if task.kind != "classify":
        raise ValueError(f"{task_name}: only a classification task's label head has a motif reader")
    old = head(model, task, benchmark)
    if old is None:
        raise ValueError(f"{task_name}: fit its label head first (finetune.training.label_heads)")
    benches = [b for b in task_benchmarks(task_name, root) if benchmark in (None, b.name)]
    if not benches:
        raise ValueError(f"{task_name} has no benchmark {benchmark!r} with a train split under {root}")
    layers = list((spec or {}).get("layers") or (0, model.config.num_layers))
    spec = {**SPEC, **(spec or {}), "layers": layers, "phased": task.codon_phased}
    features = [f for f in old.get("features", FEATURES) if not f.startswith("conv:")]
    features += [f for f in extra if f not in features]
    with_letters(model.config, tok, features)
    start = time.process_time()
    fits, chosen = zip(*(benchmark_rows(b, task_name, rows, root, select_rows) for b in benches))
    fit = Questions(model, tok, task, _concat(fits), features, layers, True)
    select = Questions(model, tok, task, _concat(chosen), features, layers, False, list(old.get("features", FEATURES)))
    torch.manual_seed(0)  # the reader's first weights: the same whichever heads this process fitted before
    net = ConvHead(model.config.hidden_size, spec, fit.pooled[0], len(task.labels),
                   as_is=profile_columns(model.config, features))
    losses = train(net, fit, task.labels, epochs)
    old_probs = lambda q: torch.softmax(head_logits(old, torch.from_numpy(sum(q.old) / len(q.old))), -1)
    new_probs = lambda q: torch.softmax(net(q, np.arange(len(q.answers))), -1)
    with torch.no_grad():
        probabilities = new_probs(select).numpy()
    scores = {"old": mcc(old_probs, select, task.labels), "new": mcc(new_probs, select, task.labels)}
    name = conv_name(task_name, benchmark)
    asked = {k: old[k] for k in QUESTION_KEYS if k in old}  # label_heads.put_label_head keeps them for pooled heads
    entry = {**asked, **net.entry(), "rows": len(fit.answers),
             "features": features + [f"conv:{name}"],
             "selection": {"rows": len(select.answers), "mcc": round(scores["new"], 4),
                           "replaced_mcc": round(scores["old"], 4)},
             "conv_fit": {"epochs": epochs, "final_loss": round(losses[-1], 4),
                          "cpu_s": round(time.process_time() - start)}}
    print(f"{name}: {len(fit.answers):,} fit questions, selection MCC {scores['old']:.3f} -> {scores['new']:.3f}, "
          f"{entry['conv_fit']['cpu_s']} CPU-s", flush=True)
    return {"name": name, "spec": spec, "reader": net.reader.state_dict(), "entry": entry,
            "letters": model.config.kmer_base_token_ids,
            "kept": scores["new"] >= scores["old"] + min_gain, "selection_probabilities": probabilities}


def _concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


def write_conv_head(folder: Path, task_name: str, benchmark: str | None, fitted: dict) -> None:
    """Add the reader's weights to the folder's model.safetensors and its spec and the head's entry to config.json
    (the task's pooled entry, or its `benchmarks[benchmark]`); nothing else is touched."""
    from safetensors.torch import load_file, save_file

    weights = folder / "model.safetensors"
    tensors = load_file(weights)
    prefix = f"head_convs.{fitted['name']}."
    tensors = {k: v for k, v in tensors.items() if not k.startswith(prefix)}
    with edited_config(folder) as config:  # the reader stored as the model's other weights are (`stored_dtype`)
        reader = stored_weights(fitted["reader"], config.get("stored_dtype"))
        tensors.update({prefix + k: v.detach().contiguous() for k, v in reader.items()})
        save_file(tensors, weights, metadata={"format": "pt"})
        config["head_convs"] = {**(config.get("head_convs") or {}), fitted["name"]: fitted["spec"]}
        if reads_letters(fitted["entry"]["features"]):
            config["kmer_base_token_ids"] = fitted["letters"]
        put_label_head(config, task_name, benchmark, fitted["entry"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a model folder with label heads (written in place)")
    ap.add_argument("--task", required=True, help="a classification task")
    ap.add_argument("--benchmark", nargs="*", default=[None],
                    help="fit these benchmarks' own heads (default: the task's pooled head)")
    ap.add_argument("--rows", type=int, default=3000, help="train rows per benchmark (default: %(default)s)")
    ap.add_argument("--select-rows", type=int, default=400, help="selection rows per benchmark (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--min-gain", type=float, default=MIN_GAIN,
                    help="keep a reader where it gains this much selection MCC (default: %(default)s)")
    ap.add_argument("--extra-features", nargs="*", default=[],
                    help="features the new head reads beside the old head's, e.g. the run's k-mer profile kmers:3-6")
    ap.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    args = ap.parse_args(argv)
    for benchmark in args.benchmark:
        with _locked(args.model):
            tok, model = load(args.model)
        fitted = fit_conv_head(model, tok, args.task, benchmark, args.rows, args.select_rows, args.epochs,
                               root=args.datasets, min_gain=args.min_gain, extra=args.extra_features)
        if fitted["kept"]:
            with _locked(args.model):
                write_conv_head(args.model, args.task, benchmark, fitted)
            print(f"  kept: wrote head_convs.{fitted['name']} into {args.model}")
        else:
            print(f"  not kept: it gains less than {args.min_gain} MCC over the head it would replace")
    with _locked(args.model):
        add_questions(args.model)


@contextmanager
def _locked(folder: Path):
    """Hold the folder's lock: fits of several tasks may run side by side and write into the same folder."""
    with open(folder / ".conv_heads.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


if __name__ == "__main__":
    main()
