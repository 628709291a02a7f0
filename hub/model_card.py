"""The Hub model card, rendered from the `model_card.md` template with every number read from data.

Nothing in the card is typed by hand: the results table is `finetune.evaluation.evaluate.markdown` of the measured
`results.json` + `baselines.json` (the same function `make eval` writes `results.md` with), the YAML header's
`model-index` and the `.eval_results/*.yaml` files are generated from the same `results.json`, compute comes from the
release folder's `training_summary.json` / `train_config.json`, the training mixture from its `mixture.json`, and the
assemblies / regions from the built dataset cards (what `dataset_scripts` recorded while building them).

Results come from `build/eval/` when `make eval` has written it, else from the committed copy `release/eval/`.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, EvalResultEntry, ModelCard, ModelCardData, eval_result_entries_to_yaml

from finetune.evaluation.evaluate import (baseline_summary, baseline_wins, dev_fitted, main_metric, markdown,
                                         sampled_from)
from modeling.configuration_genomicllm import GenomicLLMConfig
from modeling.release import weights_mb
from tasks.anchors import ANCHORS
from tasks.benchmarks import DATASETS as DATASET_NAMES
from tasks.paths import EVAL_DIR
from tasks.registry import get_task

TEMPLATE = Path(__file__).resolve().parent.parent / "model_card.md"
RESULTS_DIRS = (EVAL_DIR, Path("release/eval"))  # `make eval` output first, then the committed copy
HUB_NAMES = {"GenomicLLM_GRCh38": "genomicllm_grch38", "GUE": "gue", "GenomicBenchmarks": "genomic_benchmarks"}
PAPER = ("Liu et al., \"Exploring Genomic Large Language Models: Bridging the Gap between Natural Language and Gene "
         "Sequences\", bioRxiv, 2024")
# Hub metric ids (https://hf.co/metrics) and display names of our metric keys.
METRICS = {"accuracy": ("accuracy", "accuracy"), "mcc": ("matthews_correlation", "MCC"), "macro_f1": ("f1", "macro F1"),
           "mae": ("mae", "MAE"), "pearson": ("pearsonr", "Pearson r"), "exact_match": ("exact_match", "exact match"),
           "rouge_l": ("rouge", "ROUGE-L"), "identity": ("identity", "per-residue identity")}
NOT_MODEL_INDEX = ("n", "unparseable_rate")


@dataclass
class Evaluation:
    """The measured results a card is rendered from, and where they were read."""

    source: Path
    results: dict
    baselines: dict
    bench: dict | None

    @property
    def scored(self) -> dict:
        return {k: r for k, r in self.results.items() if "skipped" not in r}


def find_results(explicit: Path | None = None) -> Path:
    """The folder holding `results.json` (+ `baselines.json`): `explicit`, else build/eval, else release/eval."""
    for folder in ([explicit] if explicit else RESULTS_DIRS):
        if (folder / "results.json").is_file():
            return folder
    where = explicit or " or ".join(str(d) for d in RESULTS_DIRS)
    raise FileNotFoundError(f"no results.json in {where}: run `make eval` (or commit its copy to release/eval/)")


def load_evaluation(folder: Path) -> Evaluation:
    results = json.loads((folder / "results.json").read_text())
    if not isinstance(results, dict) or not results:
        raise ValueError(f"{folder / 'results.json'} holds no results")
    if not (folder / "baselines.json").is_file():
        raise FileNotFoundError(f"{folder / 'baselines.json'} missing: results.json and baselines.json go together "
                                "(`make eval` writes both)")
    baselines = json.loads((folder / "baselines.json").read_text())
    bench = json.loads((folder / "bench.json").read_text()) if (folder / "bench.json").is_file() else None
    return Evaluation(folder, results, baselines, bench)


def _split_name(name: str) -> tuple[str, str, str | None]:
    """'GenomicLLM_GRCh38/gene_description:gene_name' -> (dataset, config, sub-task or None)."""
    dataset, rest = name.split("/", 1)
    config, _, sub = rest.partition(":")
    return dataset, config, sub or None


def eval_results(ev: Evaluation, dataset_ids: dict[str, str]) -> list[EvalResult]:
    """model-index entries: every metric of ours (the headline first) on every scored benchmark. The sub-tasks of one
    config (reverse / complement / reverse_complement) share its model-index entry (the Hub groups results by task
    type, dataset, config and split); their metrics are named with the sub-task and carry it as `config`."""
    out = []
    for name, r in ev.scored.items():
        dataset, config, sub = _split_name(name)
        task = get_task(r["task"])
        headline = main_metric(r["task"], name)
        keys = [headline] + [k for k in r["ours"] if k not in (headline, *NOT_MODEL_INDEX)]
        for key in keys:
            metric_id, metric_name = METRICS.get(key, (key, key))
            out.append(EvalResult(
                task_type="text-classification" if task.kind == "classify" else "text-generation",
                task_name=config if sub else r["task"], dataset_type=dataset_ids[dataset],
                dataset_name=f"{dataset} {config}", dataset_config=config, dataset_split=r["split"],
                metric_type=metric_id, metric_name=f"{metric_name} ({sub})" if sub else metric_name,
                metric_config=sub, metric_value=round(float(r["ours"][key]), 4)))
    return out


HEAD_READ = {"benchmark": "this benchmark's own label head", "task": "the task's label head, pooled over its benchmarks",
             None: "the label tokens' scores"}


def eval_results_files(ev: Evaluation, dataset_ids: dict[str, str]) -> dict[str, str]:
    """`.eval_results/<dataset>.yaml` (the Hub's eval-results format): the headline metric per benchmark."""
    files: dict[str, list[EvalResultEntry]] = {}
    for name, r in ev.scored.items():
        dataset, config, sub = _split_name(name)
        headline = main_metric(r["task"], name)
        how = ("greedy generation through the released folder, unparseable answers counted wrong" if "greedy" not in r
               else "the model's value head (a linear map from its hidden states)"
               if get_task(r["task"]).kind == "regress"
               else f"the most probable label ({HEAD_READ.get(r.get('head'), HEAD_READ[None])})")
        metric = METRICS.get(headline, (headline, headline))[1]
        whole = sampled_from(r, ev.baselines.get(name, {}))
        sample = f", a sample of its {whole} rows" if whole else ""
        notes = f"{metric} on the {r['split']} split (n={r['ours']['n']}{sample}), {how}"
        files.setdefault(dataset, []).append(EvalResultEntry(
            dataset_id=dataset_ids[dataset], task_id=f"{config}:{sub}" if sub else config,
            value=round(float(r["ours"][headline]), 4), notes=notes))
    return {f"{HUB_NAMES[d]}.yaml": yaml.safe_dump(eval_result_entries_to_yaml(e), sort_keys=False)
            for d, e in files.items()}


def wins(ev: Evaluation) -> tuple[int, int, str]:
    """(benchmarks above both baselines, benchmarks with both fitted, the sentence): evaluate.baseline_summary's."""
    won, rows = baseline_wins(ev.results, ev.baselines)
    return len(won), rows, baseline_summary(ev.results, ev.baselines)


def versus_anchors(ev: Evaluation) -> tuple[int, int]:
    """(benchmarks where ours is at least the best published number, benchmarks with a published number), each
    compared on the published metric (MAE: lower is better)."""
    at_least, total = 0, 0
    for name, r in ev.scored.items():
        by_metric: dict[str, list[float]] = {}
        for metric, value in ANCHORS.get(name, {}).values():
            by_metric.setdefault(metric, []).append(value)
        for metric, values in by_metric.items():
            if metric in r["ours"]:
                total += 1
                ours = r["ours"][metric]
                at_least += ours <= min(values) if metric == "mae" else ours >= max(values)
    return at_least, total


def parameter_count(model_dir: Path) -> int:
    """Parameters stored in the safetensors file(s), read from their headers (tied weights are stored once)."""
    total = 0
    for path in sorted(model_dir.glob("*.safetensors")):
        with path.open("rb") as f:
            header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
        total += sum(prod(v["shape"]) for k, v in header.items() if k != "__metadata__")
    if not total:
        raise FileNotFoundError(f"no safetensors weights in {model_dir}")
    return total


def grch38_regions(card: Path) -> list[str]:
    """The assemblies and regions the corpus build used, as its card lists them ('- GRCh37 chromosome 20: 0-63,…')."""
    lines = [ln[2:].strip() for ln in card.read_text().splitlines() if re.match(r"- GRCh\d+ chromosome \S+: ", ln)]
    if not lines:
        raise ValueError(f"{card} lists no assemblies/regions ('- GRChNN chromosome C: start-end'): rebuild it with "
                         "`make datasets`")
    return [re.sub(r"\s*\(.*\)$", "", ln) for ln in lines]


def genomic_benchmarks_build(card: Path) -> tuple[str, list[str]]:
    """(how the sequences were read, configs not built) from the GenomicBenchmarks card."""
    text = card.read_text()
    m = re.search(r"This build used: (.+?\.)(?:\s|$)", text)
    if not m:
        raise ValueError(f"{card} does not say what this build used ('This build used: …'): "
                         "rebuild it with `make datasets`")
    section = re.search(r"^## Not built\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    not_built = re.findall(r"^- \*\*(\w+)\*\*: ", section.group(1), re.M) if section else []
    return m.group(1), not_built


def card_context(model_dir: Path, ev: Evaluation, dataset_cards: dict[str, Path], repos) -> dict:
    """Everything the template prints, read from files."""
    config = json.loads((model_dir / "config.json").read_text())
    tok_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    summary = json.loads((model_dir / "training_summary.json").read_text())
    train = json.loads((model_dir / "train_config.json").read_text())
    mixture = json.loads((model_dir / "mixture.json").read_text())
    n_wins, n_compared, win_sentence = wins(ev)
    n_anchor_best, n_anchored = versus_anchors(ev)
    init = summary.get("init_from")  # a second phase: the totals cover both runs
    tokens = summary.get("total_tokens") or summary.get("tokens") or summary.get("tokens_estimate")
    cpu_s = summary.get("total_cpu_s") or summary.get("cpu_s") or summary.get("cpu_s_estimate")
    gb_used, gb_not_built = genomic_benchmarks_build(dataset_cards["GenomicBenchmarks"])
    per_dataset: dict[str, dict] = {}
    for m in mixture:
        d = per_dataset.setdefault(m["source"].split("/")[0], {"sources": 0, "rows": 0, "weight": 0.0})
        d["sources"] += 1
        d["rows"] += m["rows"]
        d["weight"] += m["weight"]
    return {
        "repos": repos, "paper": PAPER, "n_params": parameter_count(model_dir), "config": config,
        "weights_mb": weights_mb(model_dir),
        "answers_with_heads": GenomicLLMConfig(**config).answers_with_heads,  # generate writes the heads' answers
        "tokenizer_kind": tok_config.get("candidate") or tok_config.get("dna_scheme", "hybrid"),
        # the "char" scheme (dna_kmer null) is one token per base
        "dna_kmer": tok_config.get("dna_kmer") or (1 if tok_config.get("dna_scheme") == "char" else None),
        "summary": summary, "train": train, "tokens": tokens,
        "init": init, "steps": summary["steps"] + (init["steps"] if init else 0),
        "tokens_estimated": summary.get("tokens") is None and tokens is not None,
        "cpu_hours": cpu_s / 3600 if cpu_s else None, "cpu_estimated": summary.get("cpu_s") is None and bool(cpu_s),
        "mixture": mixture, "per_dataset": per_dataset,
        "regions": grch38_regions(dataset_cards["GenomicLLM_GRCh38"]), "gb_used": gb_used, "gb_not_built": gb_not_built,
        "zero_shot": [k for k, r in ev.scored.items() if not r.get("trained_on", True)],
        "dev_fitted": [k for k, r in ev.scored.items() if dev_fitted(r)],
        "results_table": markdown(ev.results, ev.baselines).strip(),
        "gc": ev.scored.get("GenomicLLM_GRCh38/gc_content"),
        "n_anchor_best": n_anchor_best, "n_anchored": n_anchored, "n_wins": n_wins, "n_compared": n_compared,
        "win_sentence": win_sentence,
        "n_benchmarks": len(ev.scored), "eval_splits": sorted({r["split"] for r in ev.scored.values()}),
        "skipped": {k: r["skipped"] for k, r in ev.results.items() if "skipped" in r},
        "anchor_sources": sorted({s for a in ANCHORS.values() for s in a}), "bench": ev.bench,
    }


def render_model_card(model_dir: Path, ev: Evaluation, dataset_cards: dict[str, Path], repos,
                      template: Path = TEMPLATE) -> ModelCard:
    """The model repo's README.md: YAML header (with model-index) + the template filled from data."""
    if not template.is_file():
        raise FileNotFoundError(f"model card template {template} missing")
    data = ModelCardData(
        license="apache-2.0", library_name="transformers", pipeline_tag="text-generation", language=["en"],
        tags=["biology", "genomics", "dna", "multitask", "custom_code", "genomicllm"],
        datasets=[repos.datasets[d] for d in DATASET_NAMES], metrics=sorted({m for m, _ in METRICS.values()}),
        model_name="GenomicLLM", eval_results=eval_results(ev, repos.datasets))
    return ModelCard.from_template(data, template_path=str(template),
                                   **card_context(model_dir, ev, dataset_cards, repos))
