"""Fuse a second linear head into a task's label head: the weighted sum of the two heads' logits is itself one linear
map, over both heads' features, which the model applies as it applies any head (``generate`` and ``ask`` alike).

Why: a head that reads the states (and its motif reader) and a logistic regression on what the DNA run's letters
alone say (the k-mer profile; for a reading frame its codon usage per frame and its stop-free frames) err on
different rows. ORF frame, test MCC: the head 0.842, a phased k-mer LR with the stop-free frames 0.866, the two fused
here 0.873; GUE mouse_3 0.745 -> 0.812, tf_3 0.522 -> 0.554 (``finetune/README.md``). The second head is fitted on
train rows (``label_heads.fit_head``; features read from the letters alone need no forward pass) at each of
``PENALTIES``, its penalty and weight chosen on the selection rows (``label_heads.benchmark_rows``: the dev split)
read as the model reads them (every reading, ``modeling.scores.reading_states``), and the fused head is kept where it
gains ``MIN_GAIN`` MCC there over the head it replaces. The transformer and the motif readers are not touched.

    python -m finetune.training.fuse_heads --model release/GenomicLLM --task orf_frame --rows 20000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from finetune.training.conv_heads import MIN_GAIN
from finetune.training.head_questions import add_questions
from finetune.training.label_heads import (_columns, _rounded, benchmark_rows, fit_head, fit_states, profile_columns,
                                           task_benchmarks, with_letters, write_label_heads)
from modeling.heads_genomicllm import feature_width, reads_states
from modeling.inference import load
from modeling.scores import head, reading_states, readings_read, task_states
from tasks.benchmarks import DATASETS_DIR
from tasks.metrics import classification
from tasks.registry import get_task
from tasks.rules import STOPS

SHARES = tuple(round(0.1 * k, 1) for k in range(1, 10))  # the first head's share of the fused logits, tried
# The second head's inverse penalties, tried: a k-mer profile read x 10 (label_heads.PROFILE_SCALE) at C = 1 is
# k-mer LR's C = 100, which overfits the TF sets (test MCC tf_0 0.629 vs 0.656 at k-mer LR's C = 1; tf_1 0.660 vs 0.697)
PENALTIES = (0.01, 0.1, 1.0)


def letters_features(task) -> list[str]:
    """What a task's second head reads by default: the run's k-mer profile (what k-mer LR reads), and where the
    label is a reading frame (`Task.codon_phased`) its phased profile and its stop-free frames instead."""
    return ["phased:3-5", f"free:{','.join(STOPS)}"] if get_task(task).codon_phased else ["kmers:3-6"]


def _union(first: dict, second: dict) -> list[str]:
    """What the fused head reads: the first head's features, then the second's not among them."""
    return list(first["features"]) + [f for f in second["features"] if f not in first["features"]]


def fuse(config, first: dict, second: dict, share: float) -> dict:
    """The head whose logits are ``share`` x ``first``'s + (1 - share) x ``second``'s (each a label head entry:
    "weight" labels x width, "bias", "features"): it reads the first's features, then the second's not among them
    (a feature both read gets both weights), and keeps the first's other keys (how it is asked, its readings)."""
    features = _union(first, second)
    edges = np.cumsum([0] + [feature_width(config, f) for f in features])
    at = {f: slice(edges[i], edges[i + 1]) for i, f in enumerate(features)}
    weight = np.zeros((len(first["bias"]), edges[-1]))
    for entry, part in ((first, share), (second, 1.0 - share)):
        w, start = np.asarray(entry["weight"], dtype=np.float64), 0
        for f in entry["features"]:
            width = feature_width(config, f)
            weight[:, at[f]] += part * w[:, start : start + width]
            start += width
    bias = share * np.asarray(first["bias"]) + (1.0 - share) * np.asarray(second["bias"])
    return {**first, "features": features, "weight": [_rounded(row) for row in weight], "bias": _rounded(bias)}


def fit_fused_head(model, tok, task_name: str, features: list[str], benchmark: str | None = None, rows: int = 3000,
                   select_rows: int = 400, root: Path = DATASETS_DIR, min_gain: float = MIN_GAIN,
                   penalties: tuple[float, ...] = PENALTIES) -> dict:
    """Fit a head on `features` for `task_name`'s pooled head (or `benchmark`'s own) at each of `penalties`, fuse it
    with the head there at the penalty and share that read the selection rows best: {"entry" (the fused head, with a
    "fused" record), "kept", "scores" ({(penalty, share): selection MCC}, (None, 1.0): the head as it is)}."""
    task = get_task(task_name)
    first = head(model, task, benchmark) if task.kind == "classify" else None
    if first is None or "weight" not in first:
        raise ValueError(f"{task_name}: fuse a head into an existing label head (finetune.training.label_heads)")
    benches = [b for b in task_benchmarks(task_name, root) if benchmark in (None, b.name)]
    if not benches:
        raise ValueError(f"{task_name} has no benchmark {benchmark!r} with a train split under {root}")
    with_letters(model.config, tok, features)
    start = time.process_time()
    fits, chosen = zip(*(benchmark_rows(b, task_name, rows, root, select_rows) for b in benches))
    x, answers = [], []
    for df in fits:  # letters alone do not change with the fields: read once
        got = fit_states(model, tok, task, df, features) if reads_states(features) else \
            (task_states(model, tok, task, df["sequence"].tolist(), None, features), df["answer"].tolist())
        x.append(got[0])
        answers += got[1]
    x, as_is = np.concatenate(x), profile_columns(model.config, features)
    seconds = {c: {**fit_head(x, answers, task.labels, as_is, c), "features": list(features)} for c in penalties}
    selection = [(reading_states(model, tok, task, *_columns(df)[:2], _union(first, seconds[penalties[0]])),
                  df["answer"].tolist()) for df in chosen]
    scores = {(c, share): _mcc(fuse(model.config, first, second, share), selection, task.labels)
              for c, second in seconds.items() for share in SHARES}
    scores[None, 1.0] = _mcc(fuse(model.config, first, seconds[penalties[0]], 1.0), selection, task.labels)  # as is
    c, share = max((k for k in scores if k[0] is not None), key=lambda k: (scores[k], k[1], -k[0]))
    entry = fuse(model.config, first, seconds[c], share)
    entry["fused"] = {"features": list(features), "rows": len(answers), "share": share, "c": c,
                      "cpu_s": round(time.process_time() - start),
                      "selection": {"rows": sum(len(g) for _, g in selection), "mcc": round(scores[c, share], 4),
                                    "replaced_mcc": round(scores[None, 1.0], 4)}}
    print(f"{task_name}{'/' + benchmark if benchmark else ''}: {len(answers):,} fit rows, selection MCC "
          f"{scores[None, 1.0]:.3f} -> {scores[c, share]:.3f} (the head's share {share}, the second's C {c}), "
          f"{entry['fused']['cpu_s']} CPU-s", flush=True)
    return {"entry": entry, "kept": scores[c, share] >= scores[None, 1.0] + min_gain, "scores": scores}


def _mcc(entry: dict, selection: list, labels: tuple[str, ...]) -> float:
    """MCC of a head on the selection rows' readings (`reading_states`), every reading's probabilities averaged."""
    predicted, gold = [], []
    for read, answers in selection:
        probs = readings_read(entry, read)
        predicted += [labels[i] for i in (sum(probs.values()) / len(probs)).argmax(1)]
        gold += answers
    return classification(gold, predicted)["mcc"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a model folder with label heads (written in place)")
    ap.add_argument("--task", required=True, help="a classification task")
    ap.add_argument("--benchmark", nargs="*", default=[None],
                    help="fuse into these benchmarks' own heads (default: the task's pooled head)")
    ap.add_argument("--features", nargs="+",
                    help="what the second head reads (modeling.heads_genomicllm; default: letters_features)")
    ap.add_argument("--rows", type=int, default=3000, help="train rows per benchmark (default: %(default)s)")
    ap.add_argument("--select-rows", type=int, default=400, help="selection rows per benchmark (default: %(default)s)")
    ap.add_argument("--min-gain", type=float, default=MIN_GAIN,
                    help="keep the fused head where it gains this much selection MCC (default: %(default)s)")
    ap.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    args = ap.parse_args(argv)
    features = args.features or letters_features(args.task)
    for benchmark in args.benchmark:
        tok, model = load(args.model)  # with the heads written so far
        fitted = fit_fused_head(model, tok, args.task, features, benchmark, args.rows, args.select_rows,
                                args.datasets, args.min_gain)
        if not fitted["kept"]:
            print(f"  not kept: it gains less than {args.min_gain} MCC over the head it would replace")
            continue
        write_label_heads(args.model, args.task, {benchmark: fitted["entry"]}, model.config.kmer_base_token_ids)
        print(f"  kept: wrote the fused head into {args.model / 'config.json'}")
    add_questions(args.model)


if __name__ == "__main__":
    main()
