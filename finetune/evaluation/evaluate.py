"""Evaluate a released GenomicLLM folder on every benchmark's test split, the way users call it (`make eval`).

The model is loaded with `AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)`. A classification
question is answered by its most probable label (`modeling.scores.class_probabilities`), as `ask`, the command, the
Space and the assistant answer it, from the benchmark's own label head where the model has one (the baselines are
fitted per benchmark; `ask` uses the task's head, pooled over its benchmarks), and GC content by the model's value
head where it has one; what `model.generate` writes is scored too, as `greedy` (the task's pooled head where the
model answers with its heads, `modeling/heads_genomicllm.py`; else the LM's text). Other prompts are answered by
greedy generation (left-padded batches, stop at eos), answers parsed by the prompt grammar; unparseable answers
count as wrong and their rate is reported. A corpus question read by a head is also asked without its fields
(chromosome, strand), as `ask`, the Space and the assistant ask it (`without_fields`). Writes `results.json` (with
the head that answered each benchmark), `results.md` (ours beside the baselines of `baselines.json` and the published
anchors) and a confusion-matrix PNG per classification benchmark.

    python -m finetune.evaluation.evaluate --model build/train/small/release [--max-rows 500]
    python -m finetune.evaluation.evaluate --model DIR --task promoter --data my.csv   # score your own labelled file
    python -m finetune.evaluation.evaluate --out release/eval --merge OUT...   # runs over a few benchmarks, into one
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from modeling.inference import answer_tokens, generate, load
from modeling.scores import checked_benchmark, class_probabilities, head, values
from tasks import exact_answer, get_task, parse_answer, render_answer, render_prompt
from tasks.anchors import ANCHORS, SPLIT_NOTES
from tasks.grammar import read_fields
from tasks.benchmarks import DATASETS_DIR, discover
from tasks.metrics import UNPARSEABLE, score
from tasks.paths import EVAL_DIR, MODEL_DIR
from tasks.registry import KINDS


def answer_budget(tok, task: str, answers: list[str]) -> list[int]:
    """New tokens allowed per row in evaluation: the longest label (classification) or the gold answer's length + 8."""
    if get_task(task).kind == "classify":
        return [answer_tokens(tok, task)] * len(answers)
    return [len(ids) + 8 for ids in tok([" " + a for a in answers], add_special_tokens=False)["input_ids"]]


def score_rows(model, tok, task: str, prompts: list[str], answers: list[str], batch_size: int = 32) -> tuple[dict, list]:
    texts = generate(model, tok, prompts, answer_budget(tok, task, answers), batch_size)
    gold = [parse_answer(task, a) for a in answers]
    pred = [parse_answer(task, t) for t in texts]
    return score(task, gold, pred), pred


def read_by_heads(model, task: str) -> bool:
    """Whether `task` is answered from the model's states rather than its text: every classification task (by its
    label head, else its label scores), a regression task where the model has a value head."""
    t = get_task(task)
    return t.kind == "classify" or (t.kind == "regress" and head(model, t) is not None)


def head_used(model, task: str, benchmark: str) -> str | None:
    """Which head answers `benchmark`'s rows: "benchmark" (its own), "task" (the task's pooled one) or None (the
    label scores)."""
    entry = head(model, task, benchmark)
    return None if entry is None else "task" if entry is head(model, task) else "benchmark"


def score_heads(model, tok, task: str, sequences: list[str], fields: list, answers: list[str],
                prompts: list[str] | None = None, benchmark: str | None = None) -> tuple[dict, list]:
    """Rows scored the way `ask` answers them from the model's states: a classification by its most probable label,
    a regression by its value head's reading in the grammar's digits; by `benchmark`'s own head where the model has
    one (as the baselines are fitted per benchmark). `prompts`: the rows' own questions, which must be the grammar's
    for their sequence and fields (else the rows would be asked something else)."""
    t = get_task(task)
    fields = [read_fields(f) for f in fields]
    for i, (seq, f, prompt) in enumerate(zip(sequences, fields, prompts or [])):
        if render_prompt(t, seq, f) != prompt:
            raise ValueError(f"{task}: row {i}'s prompt is not the grammar's question for its sequence: "
                             f"{prompt[:80]!r}")
    pred, _ = head_answers(model, tok, t, sequences, fields, benchmark)
    return score(task, [parse_answer(task, a) for a in answers], pred), pred


def head_answers(model, tok, task, sequences: list[str], fields: list, benchmark: str | None
                 ) -> tuple[list, np.ndarray]:
    """(answers, what they were read from: the class probabilities, or the values) of `score_heads`."""
    t = get_task(task)
    if t.kind == "classify":
        probs = class_probabilities(model, tok, t, sequences, fields, benchmark)
        return [t.labels[i] for i in probs.argmax(1)], probs
    read = values(model, tok, t, sequences, fields, benchmark)
    return [parse_answer(t, render_answer(t, float(v))) for v in read], read


def confusion_png(task: str, gold: list, pred: list, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = list(get_task(task).labels)
    shown = [UNPARSEABLE if not isinstance(p, str) else p for p in pred]
    extra = [UNPARSEABLE] if UNPARSEABLE in shown else []
    fig, ax = plt.subplots(figsize=(4 + len(labels) * 0.4, 4 + len(labels) * 0.4))
    ConfusionMatrixDisplay.from_predictions(gold, shown, labels=labels + extra, ax=ax, colorbar=False)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def exact_reference(task: str, rows: pd.DataFrame) -> dict | None:
    """Metrics of the rule-computed answers (exact-computable tasks only), scored like the model's."""
    if not get_task(task).exact:
        return None
    texts = [exact_answer(task, r.sequence, r.fields, r.question) or "" for r in rows.itertuples()]
    return score(task, [parse_answer(task, a) for a in rows["answer"]], [parse_answer(task, t) for t in texts])


def evaluate_all(model_dir: Path | None, out: Path, root: Path = DATASETS_DIR, max_rows: int | None = None,
                 only: list[str] | None = None, seed: int = 0, split: str = "test", loaded=None) -> dict:
    """Every benchmark's `split` (test; dev/validation only for model selection) answered and scored.
    `loaded`: an already loaded (tokenizer, model), e.g. a training checkpoint, instead of `model_dir`."""
    tok, model = loaded if loaded is not None else load(model_dir)
    results = {}
    for b in discover(root, KINDS):
        if only and b.name not in only:
            continue
        wanted = b.dev if split == "dev" else split
        if wanted not in b.splits:
            results[b.name] = {"task": b.task, "skipped": f"no {split} split"}
            continue
        corpus = b.dataset == "GenomicLLM_GRCh38"
        for name, task, rows, of in evaluated_rows(b, wanted, root, max_rows, seed):
            prompts, answers = rows["prompt"].tolist(), rows["answer"].tolist()
            metrics, pred = score_rows(model, tok, task, prompts, answers)
            results[name] = {"task": task, "split": wanted, "ours": metrics, "trained_on": b.fit is not None,
                             "fit_split": b.fit, "split_rows": of}
            if read_by_heads(model, task):
                sequences = rows["sequence"].tolist()
                fields = rows["fields"].tolist() if "fields" in rows else [None] * len(rows)
                metrics, pred = score_heads(model, tok, task, sequences, fields, answers, prompts, b.name)
                results[name].update(ours=metrics, greedy=results[name]["ours"], head=head_used(model, task, b.name))
                if any(read_fields(f) for f in fields):  # also as `ask`, the Space and the assistant ask: no fields
                    results[name]["without_fields"] = score_heads(model, tok, task, sequences, [None] * len(rows),
                                                                  answers, None, b.name)[0]
            exact = exact_reference(task, rows) if corpus else None
            if exact:
                results[name]["exact_rule"] = exact
            if get_task(task).kind == "classify":
                confusion_png(task, rows["answer"].tolist(), pred, name, out / "confusion" / f"{name.replace('/', '__')}.png")
            print(f"{name:<55} " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if k != "n"), flush=True)
    return results


def evaluated_rows(b, split: str, root: Path = DATASETS_DIR, max_rows: int | None = None, seed: int = 0):
    """(result name, task, rows, how many rows the split has for the task) of each task of benchmark `b`'s `split`,
    as `evaluate_all` scores them: a sample of `max_rows` (drawn with `seed`) where a task has more."""
    corpus = b.dataset == "GenomicLLM_GRCh38"
    df = b.load(split, root, ["task", "prompt", "answer", "sequence", "fields", "question"] if corpus
                else ["prompt", "answer", "sequence"])
    multi = len(b.tasks) > 1
    for task, rows in (df.groupby("task") if multi else [(b.task, df)]):
        of = len(rows)
        if max_rows and of > max_rows:
            rows = rows.sample(n=max_rows, random_state=seed)
        yield (f"{b.name}:{task}" if multi else b.name), task, rows, of


def main_metric(task: str, name: str | None = None) -> str:
    """The headline metric: the published anchors' metric for `name` when it has one (GenomicBenchmarks report
    accuracy even for promoters), else the task's first metric."""
    anchored = {m for m, _ in ANCHORS.get(name, {}).values()} if name else set()
    if len(anchored) == 1:
        return anchored.pop()
    return get_task(task).metrics[0] if get_task(task).metrics else "exact_match"


def markdown(results: dict, baselines: dict) -> str:
    """One row per benchmark: ours (all metrics, the headline first), baselines, rule, published, split notes."""
    fmt = lambda x: "–" if x is None else f"{x:.3f}"  # noqa: E731
    lines = ["| benchmark | task | metric | ours | k-mer LR | CNN | exact rule | published | other metrics (ours) "
             "| unparseable | n | notes |", "|" + "---|" * 12]
    for name, r in results.items():
        if "skipped" in r:
            lines.append(f"| {name} | {r['task']} | | skipped: {r['skipped']} |" + " |" * 8)
            continue
        metric, ours = main_metric(r["task"], name), r["ours"]
        base = baselines.get(name, {})
        lr, cnn = (base.get(k, {}).get(metric) for k in ("kmer_lr", "cnn"))
        rule = r.get("exact_rule", {}).get(metric)
        pub = "; ".join(f"{src} {m} {v:.3f}" for src, (m, v) in ANCHORS.get(name, {}).items())
        other = ", ".join(f"{k} {v:.3f}" for k, v in ours.items() if k not in (metric, "n", "unparseable_rate"))
        notes = [SPLIT_NOTES.get(name.split("/")[0], "")]
        if "greedy" in r:
            notes.append(f"model.generate: {metric} {fmt(r['greedy'].get(metric))}")
        if "without_fields" in r:
            notes.append(f"asked without its fields: {metric} {fmt(r['without_fields'].get(metric))}")
        notes += [fit_note(r), sample_note(r, base)]
        lines.append(f"| {name} | {r['task']} | {metric} | {fmt(ours.get(metric))} | {fmt(lr)} | {fmt(cnn)} | "
                     f"{fmt(rule)} | {pub or '–'} | {other} | {ours['unparseable_rate']:.3f} | {ours['n']} | "
                     f"{'; '.join(n for n in notes if n)} |")
    return "\n".join(lines) + "\n\n" + HEADS_NOTE + "\n\n" + baseline_summary(results, baselines) + "\n"


HEADS_NOTE = ("A classification's \"ours\" is read by the benchmark's own head where the model has one, as "
              "`ask(..., benchmark=)`, `genomicllm ask --benchmark` and `model.generate(..., head_benchmark=)` ask it; "
              "\"model.generate\" in the notes is a plain `generate`, which reads the task's head, pooled over its "
              "benchmarks.")


def fit_note(r: dict) -> str:
    """What a benchmark's result was fitted on, where it is not its train split ("" where it is)."""
    if not r.get("trained_on", True):
        return "no train split in the mirror: zero-shot from the other configs of this task"
    if dev_fitted(r):
        return (f"no upstream train split in the mirror: baselines fitted on its {r['fit_split']} split, heads "
                "fitted there too where they read a held-out quarter of it better")
    return ""


def sampled_from(r: dict, base: dict) -> int | None:
    """How many rows the split has where ours was scored on a sample of them (`--max-rows`), else None. Results
    written before `split_rows` was recorded are told by the baselines' count (`base`: the benchmark's baselines)."""
    whole = r.get("split_rows", base.get("n_test"))
    return whole if whole is not None and r["ours"]["n"] < whole else None


def sample_note(r: dict, base: dict) -> str:
    """Where ours was scored on a sample of the split's rows, how many of how many, and that the baselines read them
    all ("" where ours read them all): a sample's metric moves with it."""
    whole = sampled_from(r, base)
    if whole is None:
        return ""
    return f"ours on a sample of {r['ours']['n']} of the {whole} {r.get('split', 'test')} rows" + (
        ", which the baselines read whole" if "n_test" in base else "")


def merged(results: dict, parts: list[Path]) -> dict:
    """`results` with each part's benchmarks (another run's `results.json`, e.g. `--only B` on a whole test split)
    in place of its own entries, the later part winning: how one table is put together from runs over a few
    benchmarks each. A part scored on another split than the entry it replaces is refused."""
    out = dict(results)
    for part in parts:
        path = part / "results.json"
        if not path.is_file():
            raise SystemExit(f"--merge {part}: no results.json there (an `evaluate --out` folder is wanted)")
        for name, r in json.loads(path.read_text()).items():
            if name in out and out[name].get("split") != r.get("split"):
                raise SystemExit(f"--merge {part}: {name} was scored on {r.get('split')}, the table on "
                                 f"{out[name].get('split')}")
            out[name] = r
    return out


def baseline_wins(results: dict, baselines: dict) -> tuple[list[str], int]:
    """(classification benchmarks where ours beats both baselines, benchmarks with both baselines fitted)."""
    wins, rows = [], 0
    for name, r in results.items():
        if "skipped" in r or get_task(r["task"]).kind != "classify":
            continue
        metric, base = main_metric(r["task"], name), baselines.get(name, {})
        lr, cnn = (base.get(k, {}).get(metric) for k in ("kmer_lr", "cnn"))
        if lr is None or cnn is None:
            continue
        rows += 1
        if r["ours"][metric] > max(lr, cnn):
            wins.append(name)
    return wins, rows


def baseline_summary(results: dict, baselines: dict) -> str:
    """How many classification benchmarks (with both baselines fitted) the model beats both baselines on."""
    wins, rows = baseline_wins(results, baselines)
    on_dev, dev_rows = baseline_wins({n: r for n, r in results.items() if dev_fitted(r)}, baselines)
    split = (f" Of them fitted on their dev split (no upstream train split in the mirror): above both on "
             f"{len(on_dev)} of {dev_rows}; with a train split: on {len(wins) - len(on_dev)} of {rows - dev_rows}."
             ) if dev_rows else ""
    return (f"Classification benchmarks with both baselines fitted: ours above both on {len(wins)} of {rows}"
            + (f" ({', '.join(wins)})." if wins else ".") + split)


def dev_fitted(r: dict) -> bool:
    """Whether a result's heads were fitted on its dev split (no upstream train split in the mirror)."""
    return r.get("fit_split", "train") not in ("train", None)


def score_file(model_dir: Path, task: str, data: Path, benchmark: str | None = None) -> dict:
    """Score a user's labelled file (CSV/TSV/parquet with `sequence` and `label`; labels as the task writes them),
    a classification by the head fitted on `benchmark` where given (`modeling.scores.checked_benchmark`)."""
    if data.suffix == ".parquet":
        df = pd.read_parquet(data)
    else:
        df = pd.read_csv(data, sep="\t" if data.suffix in (".tsv", ".tab") else ",", dtype=str)
    missing = {"sequence", "label"} - set(df.columns)
    if missing:
        raise SystemExit(f"{data}: missing column(s) {sorted(missing)}; need `sequence` and `label`")
    t = get_task(task)
    bad = sorted(set(df["label"]) - set(t.labels)) if t.kind == "classify" else []
    if bad:
        raise SystemExit(f"{data}: labels {bad} are not labels of {task} ({', '.join(t.labels)})")
    tok, model = load(model_dir)
    try:
        benchmark = checked_benchmark(model, t, benchmark)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    prompts = []
    for i, seq in enumerate(df["sequence"].astype(str)):
        try:
            prompts.append(render_prompt(task, tok.normalize_sequence(seq)))
        except ValueError as e:
            raise SystemExit(f"{data}: row {i + 1}: {e}") from e
    if read_by_heads(model, task):
        sequences = [tok.normalize_sequence(seq) for seq in df["sequence"].astype(str)]
        return score_heads(model, tok, task, sequences, [None] * len(df), df["label"].astype(str).tolist(),
                           benchmark=benchmark)[0]
    metrics, _ = score_rows(model, tok, task, prompts, df["label"].astype(str).tolist())
    return metrics


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, default=MODEL_DIR)
    p.add_argument("--task")
    p.add_argument("--data", type=Path)
    p.add_argument("--max-rows", type=int, help="cap per benchmark (sampled with the seed); default: all test rows")
    p.add_argument("--only", nargs="*")
    p.add_argument("--render", action="store_true",
                   help="only rewrite results.md from OUT/results.json and OUT/baselines.json (no model run)")
    p.add_argument("--merge", nargs="+", type=Path, metavar="DIR",
                   help="put these runs' results (each DIR/results.json) in place of OUT/results.json's entries for "
                        "the same benchmarks, then rewrite OUT/results.{json,md} (no model run)")
    p.add_argument("--split", default="test", choices=("test", "dev"),
                   help="dev = each benchmark's dev/validation split, for model selection only")
    p.add_argument("--out", type=Path, default=EVAL_DIR)
    p.add_argument("--datasets", type=Path, default=DATASETS_DIR,
                   help="the built datasets to score (default: %(default)s)")
    args = p.parse_args(argv)
    if args.data or args.task:
        if not (args.data and args.task):
            raise SystemExit("--task and --data go together")
        print(json.dumps(score_file(args.model, args.task, args.data), indent=1))
        return
    if args.render or args.merge:
        before = json.loads((args.out / "results.json").read_text())
        results = merged(before, args.merge or [])
        for name in (n for n in results if results[n] != before.get(n) and "ours" in results[n]):
            metric, old, new = main_metric(results[name]["task"], name), before.get(name, {}), results[name]
            print(f"{name}: n {old.get('ours', {}).get('n')} -> {new['ours']['n']}, {metric} "
                  f"{old.get('ours', {}).get(metric)} -> {new['ours'].get(metric)}")
    else:
        results = evaluate_all(args.model, args.out, args.datasets, args.max_rows, args.only, split=args.split)
    baselines_path = args.out / "baselines.json"
    baselines = json.loads(baselines_path.read_text()) if baselines_path.is_file() else {}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    (args.out / "results.md").write_text(markdown(results, baselines))
    print(f"wrote {args.out / 'results.json'} and results.md")


if __name__ == "__main__":
    main()
