"""Fit each classification task's label head and each regression task's value head into a model folder's `config.json`
(`label_heads`, `value_heads`).

A label head is a linear map from the question's hidden states to the task's classes (`modeling.scores`): by default
the final layer's state at the question's last token and every layer's states averaged over the question, and for
the ORF frame the last block's states per codon position (`head_features`, `--features`,
`modeling.scores.question_states`), concatenated. It is a class-balanced logistic regression (scikit-learn) on
standardised states, the scaling folded into the weights, fitted on `--rows` train rows of every benchmark of the
task (pooled: a user asks "transcription factor binding site", not "GUE tf_3"). A task pooled over several
benchmarks also gets each benchmark's own head, fitted on that benchmark's rows alone and kept where it beats the
pooled head on `--select-rows` of the benchmark's dev rows (where it has no dev split, train rows held out from both
heads): the evaluation asks with the benchmark's name, as the baselines are fitted per benchmark (pooling the nine
TF sets costs the k-mer LR 0.08 MCC, studies/results/tf_sets.md). A row with fields (the corpus' chromosome and
strand) is fitted both as asked with them and without them (`fit_states`), as users ask. Strand-symmetric tasks
average the states of both strands, in fitting as in use. The transformer's weights are not touched. A benchmark
with no upstream train split in the mirror (GUE's yeast histone marks and mouse_1; prom_300_all, prom_300_notata and
splice_reconstructed, whose train split is a rebuild) is fitted on its dev split instead
(`Benchmark.fit`), a quarter of it held out for the selection; only a task with no rows to fit at all keeps the
label scores. A regression task (GC content) gets a value head: ridge regression on the same states
(`fit_value_head`). On dev the last state alone beat the label's token scores by +0.066 mean MCC
(`studies/results/label_scoring.md`), and the averaged layers beat the last state alone by a further +0.116
(`studies/results/head_features.md`). Each head is then told how its task is asked (`head_questions.py`), so that
`model.generate` answers with it as `ask` does.

    python -m finetune.training.label_heads --model build/train/genomicllm-classify/release --rows 3000
    python -m finetune.training.label_heads --model release/GenomicLLM --tasks splice_site \
        --benchmark GUE/splice_reconstructed --rows 5000 --select-rows 400   # one benchmark's own head, refitted
    python -m finetune.training.label_heads --model release/GenomicLLM --tasks histone_mark --benchmark GUE/emp_H3 \
        --rows 100000 --features last mean@1 mean@2 mean@3 mean@4 kmers:3-6 --c 0.03 --replace   # to a recipe
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from finetune.training.folder_config import edited_config
from finetune.training.head_questions import QUESTION_KEYS, add_questions
from finetune.training.train import base_token_ids
from modeling.heads_genomicllm import PROFILES, feature_width, reads_letters
from modeling.inference import load
from modeling.scores import FEATURES, HEADS, head, head_probabilities, task_states
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.grammar import read_fields
from tasks.metrics import classification
from tasks.registry import get_task

DIGITS = 6  # significant digits kept in config.json: far below the regression's own noise
PROFILE_SCALE = 0.1  # a k-mer profile's columns are fitted as profile / PROFILE_SCALE (`profile_columns`)


def task_benchmarks(task: str, root: Path = DATASETS_DIR) -> list:
    """The benchmarks of `task` that heads can be fitted on (`Benchmark.fit`: train, else dev)."""
    return [b for b in discover(root, tuple(HEADS)) if b.task == task and b.fit]


def benchmark_rows(bench, task: str, rows: int, root: Path = DATASETS_DIR, select_rows: int = 0, seed: int = 1):
    """(fit rows, selection rows) of one benchmark of `task`, two DataFrames: up to `rows` rows of its fit split
    (`Benchmark.fit`) to fit heads on, and up to `select_rows` rows to choose between heads on, apart from them: the
    benchmark's dev split, or where it has none apart from the fit split (GenomicBenchmarks; GUE's sets fitted on
    dev) the first of a quarter of the fit rows held out, the fit rows drawn from the rest. The quarter is the same
    whatever `select_rows` is (a seeded draw's first rows), so that the selection rows of one step (label heads on
    300, fused heads on 2,000) are never among the rows another step fitted on."""
    train = _of_task(bench.load(bench.fit, root), task)
    if bench.selection:
        chosen = _sample(_of_task(bench.load(bench.selection, root), task), select_rows, 0)
    else:
        held = _sample(train, len(train) // 4, 0) if select_rows else train.iloc[:0]
        chosen, train = held.iloc[:select_rows], train.drop(held.index)
    return _sample(train, rows, seed), chosen


def _of_task(df, task: str):
    return df[df["task"] == task] if "task" in df.columns else df


def _sample(df, rows: int, seed: int):
    return df.sample(n=rows, random_state=seed) if len(df) > rows else df


def _columns(df) -> tuple[list, list, list]:
    """(sequences, fields, answers) of rows."""
    fields = [read_fields(f) for f in df["fields"]] if "fields" in df else [None] * len(df)
    return df["sequence"].tolist(), fields, df["answer"].tolist()


def layer_means(layers: int) -> tuple[str, ...]:
    """The `question_states` features of every layer's average, embeddings (0) to the last block."""
    return tuple(f"mean@{k}" for k in range(layers + 1))


def head_features(model, task) -> tuple[str, ...]:
    """What a task's head reads by default: the last state and every layer's average, and where the label is a
    reading frame (`Task.codon_phased`) the last block's states per codon position too."""
    layers = model.config.num_layers
    return ("last",) + layer_means(layers) + ((f"phase@{layers}",) if get_task(task).codon_phased else ())


def fit_head(states: np.ndarray, answers: list[str], labels: tuple[str, ...], as_is: np.ndarray | None = None,
             c: float = 1.0) -> dict:
    """The label head of one task: {"weight": labels x hidden, "bias": per label, "rows": n} (softmax of
    weight @ state + bias gives the class probabilities in `labels` order). `as_is`: the columns left unscaled
    (`profile_columns`); `c`: the regression's inverse penalty (scikit-learn's C)."""
    from sklearn.linear_model import LogisticRegression

    missing = sorted(set(labels) - set(answers))
    if missing:
        raise ValueError(f"no training rows answer {missing}: a head needs every label")
    y = np.array([labels.index(a) for a in answers])
    w, b, _ = _fit_standardised(LogisticRegression(class_weight="balanced", max_iter=2000, C=c), states, y, as_is)
    if len(labels) == 2:  # scikit-learn's binary form: one logit, for labels[1] against labels[0]
        w, b = np.vstack([np.zeros_like(w[0]), w[0]]), np.array([0.0, b[0]])
    return {"weight": [_rounded(row) for row in w], "bias": _rounded(b), "rows": len(answers)}


def fit_value_head(states: np.ndarray, answers: list[str]) -> dict:
    """The value head of a regression task: {"weight": [features], "bias": [b], "rows": n, "alpha": ridge penalty}
    (weight @ state + bias is the value): ridge regression on standardised states, the penalty chosen by
    leave-one-out cross-validation, the scaling folded into the weights."""
    from sklearn.linear_model import RidgeCV

    y = np.array([float(a) for a in answers])
    w, b, ridge = _fit_standardised(RidgeCV(alphas=np.logspace(-3, 3, 13)), states, y)
    return {"weight": [_rounded(w[0])], "bias": _rounded(b), "rows": len(answers), "alpha": float(ridge.alpha_)}


def _fit_standardised(estimator, states: np.ndarray, y: np.ndarray, as_is: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray, object]:
    """(weight outputs x features, bias per output, the fitted estimator) of a linear scikit-learn estimator fitted
    on standardised states (but the `as_is` columns), the scaling folded in: (w . (x - mean) / scale) + b =
    (w / scale) . x + (b - w . mean / scale)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(states)
    if as_is is not None:
        scaler.mean_[as_is], scaler.scale_[as_is] = 0.0, PROFILE_SCALE
    estimator.fit(scaler.transform(states), y)
    w = np.atleast_2d(estimator.coef_) / scaler.scale_
    return w, np.atleast_1d(estimator.intercept_) - w @ scaler.mean_, estimator


def _rounded(a) -> list[float]:
    return [float(f"{x:.{DIGITS}g}") for x in a]


def profile_columns(config, features) -> np.ndarray:
    """(width,) bool: the columns of `features` that are a k-mer profile. A head fits them as k-mer LR reads them
    (L2-normalised counts), not standardised: standardised, the rare k-mers' columns are blown up and the head
    overfits them (gene biotype dev MCC 0.45 -> 0.17); read x 10 (`PROFILE_SCALE`), beside the standardised states
    (sequence direction dev 0.850 -> 0.905; x 1: 0.865; `studies/results/kmer_heads.md`)."""
    return np.concatenate([np.full(feature_width(config, f), f.startswith(PROFILES)) for f in features])


def fit_heads(tok, model, rows: int, root: Path = DATASETS_DIR, tasks: list[str] | None = None,
              features: tuple[str, ...] | None = FEATURES, select_rows: int = 0, c: float = 1.0) -> dict:
    """{task: head} for every classification and regression task with train rows (or those of `tasks`), each
    reading the question's states named by `features` (`modeling.scores.question_states`; None: `head_features`),
    a label head at inverse penalty `c`.
    With `select_rows`, a classification task pooled over several benchmarks also gets a head per benchmark, kept
    (in the entry's "benchmarks") where it beats the pooled head on that many of the benchmark's selection rows."""
    names = tasks or sorted({b.task for b in discover(root, tuple(HEADS)) if b.fit})
    heads = {}
    for name in names:
        task = get_task(name)
        if task.kind not in HEADS:
            raise ValueError(f"{name}: a {task.kind} task has no head (only {' and '.join(HEADS)} tasks)")
        benches = task_benchmarks(name, root)
        if not benches:
            raise ValueError(f"{name}: no train rows under {root}")
        start = time.process_time()
        reads = features or head_features(model, task)
        select = select_rows if task.kind == "classify" and len(benches) > 1 else 0
        fits, chosen = {}, {}
        for b in benches:
            fits[b.name], chosen[b.name] = benchmark_rows(b, name, rows, root, select)
        own = {n: fit_states(model, tok, task, df, reads) for n, df in fits.items()}
        x, gold = np.concatenate([v[0] for v in own.values()]), [a for v in own.values() for a in v[1]]
        as_is = profile_columns(model.config, reads)
        fitted = fit_head(x, gold, task.labels, as_is, c) if task.kind == "classify" else fit_value_head(x, gold)
        heads[name] = {**fitted, "features": list(reads)}
        if select:
            selection = {n: (task_states(model, tok, task, *_columns(df)[:2], reads), df["answer"].tolist())
                         for n, df in chosen.items()}
            heads[name]["benchmarks"] = benchmark_heads(task.labels, heads[name], own, selection, as_is, c=c)
        print(f"{name}: {sum(len(df) for df in fits.values()):,} train rows ({len(gold):,} questions), "
              f"{time.process_time() - start:.0f} CPU-s", flush=True)
    return heads


def fit_states(model, tok, task, rows, features: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """(states, answers) of train rows asked as the dataset asks them, and, where they carry fields (the corpus'
    chromosome and strand), asked without them too: `ask`, the command, the Space and the assistant give none, and a
    head fitted on one form alone reads the other at chance (ORF frame dev MCC 0.72 with fields, 0.12 without);
    fitted on both it reads both (0.75 and 0.69)."""
    seqs, fields, answers = _columns(rows)
    states = task_states(model, tok, task, seqs, fields, features)
    if not any(fields):
        return states, answers
    return np.concatenate([states, task_states(model, tok, task, seqs, None, features)]), answers + answers


def benchmark_heads(labels: tuple[str, ...], pooled: dict, fits: dict, selection: dict,
                    as_is: np.ndarray | None = None, against: str = "pooled", c: float = 1.0,
                    features: list[str] | None = None, against_states: dict | None = None,
                    replace: bool = False) -> dict:
    """{benchmark: head} of the benchmarks whose own head (fitted on their `fits` (states, answers) alone, at
    penalty `c`, reading `features`, by default what `pooled` reads) beats the task's `pooled` head (or with
    `against="replaced"`, the head the benchmark reads now; it reads `against_states` of the selection rows where
    it reads other features) in MCC on their `selection` (states, answers), or every one with `replace`; each kept
    head records both MCCs."""
    kept = {}
    for name, (x, gold) in selection.items():
        if set(labels) - set(fits[name][1]):
            print(f"  {name}: not every label among its rows, the {against} head answers it")
            continue
        own = {**fit_head(*fits[name], labels, as_is, c), "features": features or pooled["features"]}
        mcc = {k: classification(gold, [labels[i] for i in probs.argmax(1)])["mcc"]
               for k, probs in (("own", head_probabilities(own, x)),
                                (against, head_probabilities(pooled, (against_states or {}).get(name, x))))}
        print(f"  {name}: own head MCC {mcc['own']:.3f}, {against} {mcc[against]:.3f} on {len(gold)} selection rows")
        if mcc["own"] > mcc[against] or replace:
            kept[name] = {**own, "selection": {"rows": len(gold), "mcc": round(mcc["own"], 4),
                                               f"{against}_mcc": round(mcc[against], 4)}}
    return kept


def refit_benchmark_heads(tok, model, task_name: str, benchmarks: list[str], rows: int, root: Path = DATASETS_DIR,
                          select_rows: int = 300, features: tuple[str, ...] | None = None, c: float = 1.0,
                          replace: bool = False) -> dict:
    """{benchmark: own head} of `benchmarks` of a classification task, each refitted on up to `rows` of its fit rows
    alone (`Benchmark.fit`) at penalty `c`, reading `features` (default: what the head it reads now reads), and kept
    where it beats that head on its selection rows (or, with `replace`, whatever they say: a recipe a study chose
    over several benchmarks, where one benchmark's few selection rows would choose at random); the pooled head and
    the other benchmarks' heads are not touched. For a benchmark whose fit split changed (GUE's rebuilt train
    splits: their heads now read dev), or a better recipe, without refitting the whole task."""
    task = get_task(task_name)
    found = {b.name: b for b in task_benchmarks(task_name, root) if b.name in benchmarks}
    if set(benchmarks) - set(found):
        raise ValueError(f"{task_name} has no benchmark(s) {sorted(set(benchmarks) - set(found))} under {root}")
    kept = {}
    for name, bench in found.items():
        now = head(model, task, name)
        if now is None or "weight" not in now or any(f.startswith("conv:") for f in now["features"]):
            what = "no label head" if now is None or "weight" not in now else "a motif reader"
            raise ValueError(f"{name}: only a linear label head is refitted here, and it has {what} "
                             "(fit the task's heads first; a motif reader's head: finetune.training.conv_heads)")
        reads = tuple(features or now["features"])
        fit, chosen = benchmark_rows(bench, task_name, rows, root, select_rows)
        asked = _columns(chosen)[:2]
        selection = {name: (task_states(model, tok, task, *asked, reads), chosen["answer"].tolist())}
        against = ({name: task_states(model, tok, task, *asked, tuple(now["features"]))}
                   if reads != tuple(now["features"]) else None)
        own = {name: fit_states(model, tok, task, fit, reads)}
        kept.update(benchmark_heads(task.labels, now, own, selection, profile_columns(model.config, reads),
                                    against="replaced", c=c, features=list(reads), against_states=against,
                                    replace=replace))
    return kept


def with_letters(config, tok, features=("kmers:",), folder: Path | None = None) -> None:
    """Give `config` (and the `folder`'s config.json) the base tokens' ids (`kmer_base_token_ids`) where `features`
    read the DNA run's k-mer profile and it has none."""
    if not reads_letters(features) or config.kmer_base_token_ids:
        return
    config.kmer_base_token_ids = base_token_ids(tok)
    if folder is not None:
        with edited_config(folder) as written:
            written["kmer_base_token_ids"] = config.kmer_base_token_ids


def put_label_head(config: dict, task: str, benchmark: str | None, entry: dict) -> None:
    """Put a label head into a config's dict: as the task's pooled head (its benchmarks' own heads kept) or as
    `benchmark`'s own, not told how its task is asked (`QUESTION_KEYS`: `generate` reads pooled heads) and holding no
    benchmarks' heads (an entry grown from the pooled head, where the benchmark had none of its own, would)."""
    heads = config["label_heads"]
    if benchmark:
        own = {k: v for k, v in entry.items() if k not in (*QUESTION_KEYS, "benchmarks")}
        heads[task].setdefault("benchmarks", {})[benchmark] = own
    else:
        heads[task] = {**entry, "benchmarks": heads[task].get("benchmarks") or {}}


def write_heads(folder: Path, heads: dict) -> None:
    """Put `heads` into the folder's config.json (`label_heads` or `value_heads`, by the task's kind), beside the
    heads of other tasks already there (so tasks can be fitted in separate runs); the weights file is not touched."""
    with edited_config(folder) as config:
        if any(reads_letters(e.get("features") or ()) for e in heads.values()) and not config.get(
                "kmer_base_token_ids"):
            raise ValueError(f"{folder}: a head reads the k-mer profile, but the config has no kmer_base_token_ids")
        for name, entry in heads.items():
            key = HEADS[get_task(name).kind]
            config[key] = {**(config.get(key) or {}), name: entry}


def write_label_heads(folder: Path, task: str, entries: dict, letters: list[int] | None = None) -> None:
    """Put label heads of `task` into the folder's config.json (`put_label_head`; `entries`: {benchmark: head}, the
    benchmark None naming the task's pooled head), with the base tokens' ids (`letters`) that letters features read
    where the config has none; nothing else is touched."""
    with edited_config(folder) as config:
        for benchmark, entry in entries.items():
            put_label_head(config, task, benchmark, entry)
        if letters:
            config["kmer_base_token_ids"] = config.get("kmer_base_token_ids") or letters


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a model folder (a run's release/)")
    ap.add_argument("--rows", type=int, default=3000, help="train rows per benchmark (default: %(default)s)")
    ap.add_argument("--tasks", nargs="*", help="only these tasks (default: every one with train rows)")
    ap.add_argument("--benchmark", nargs="+",
                    help="refit only these benchmarks' own linear heads (one task in --tasks), each kept where it "
                    "beats the head it reads now on its selection rows; the task's other heads are left as they are")
    ap.add_argument("--features", nargs="+",
                    help="the states every head reads: last, mean, mean@<layer>, phase@<layer>, and the DNA run's "
                    "k-mer profile kmers:<lo>-<hi> (default: each task's head_features; with --benchmark, what "
                    "each refitted head reads now)")
    ap.add_argument("--c", type=float, default=1.0,
                    help="the logistic regression's inverse penalty (scikit-learn's C; default: %(default)s)")
    ap.add_argument("--replace", action="store_true",
                    help="with --benchmark: write every refitted head, whatever its selection rows say (a recipe a "
                    "study chose, e.g. studies/histone_heads, where the head it replaces was chosen on these rows)")
    ap.add_argument("--select-rows", type=int, default=300,
                    help="selection rows per benchmark on which a benchmark's own head must beat its task's pooled "
                    "head to be kept (0: pooled heads only; default: %(default)s)")
    ap.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    args = ap.parse_args(argv)
    if args.replace and not args.benchmark:
        ap.error("--replace is for refitting benchmarks' heads (--benchmark)")
    tok, model = load(args.model)
    features = tuple(args.features) if args.features else None
    with_letters(model.config, tok, features or (), args.model)
    if args.benchmark:
        if len(args.tasks or ()) != 1:
            ap.error("--benchmark refits heads of one task (--tasks TASK)")
        kept = refit_benchmark_heads(tok, model, args.tasks[0], args.benchmark, args.rows, args.datasets,
                                     args.select_rows, features, args.c, args.replace)
        write_label_heads(args.model, args.tasks[0], kept)
        print(f"wrote {len(kept)} of {len(args.benchmark)} refitted heads into {args.model / 'config.json'}")
        return
    write_heads(args.model, fit_heads(tok, model, args.rows, args.datasets, args.tasks, features,
                                      args.select_rows, args.c))
    print(f"wrote the heads into {args.model / 'config.json'}")
    try:  # so that `generate` answers with them too, where the model can tell their questions from the ids
        print(f"generate answers {', '.join(add_questions(args.model, tok))} with them")
    except ValueError as e:
        print(f"generate keeps the LM's text ({e}); `ask` reads the heads")


if __name__ == "__main__":
    main()
