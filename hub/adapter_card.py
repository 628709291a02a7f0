"""The card of a user's fine-tuned GenomicLLM (`genomicllm finetune` writes it into the adapter folder).

    python -m hub.adapter_card DIR [--license apache-2.0]        # rewrite DIR/README.md from DIR's measured files

README.md gets a YAML header for the Hub (`base_model`, `base_model_relation`, `library_name: peft` for a LoRA or
`transformers` for a full fine-tune, `pipeline_tag`, tags, `genomicllm_task` with the phrase and labels, and a
`model-index` of the test metrics) and a body written from the folder's own files only: `genomicllm_task.json`,
`adapter_config.json`, `training/data_summary.json`, `training/results.json` (test metrics beside the k-mer LR and
majority baselines, same split) and `training/log.jsonl` (`training_summary`, shared with the chat LoRA's card).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from huggingface_hub import EvalResult, ModelCardData

from tasks.custom import read_task_file

from .assemble import write_card
from .model_card import METRICS

REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")  # user/name, not a path
TRAINING = "training"
SHOWN = ("mcc", "accuracy", "macro_f1")


def training_summary(run: Path) -> dict:
    """Steps, tokens, CPU-hours, final loss and throughput from a run's `log.jsonl`, with its `train_config.json`
    and `data_summary.json` (the layout every adapter trainer writes)."""
    rows = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines() if x.strip()]
    if not rows:
        raise ValueError(f"{run / 'log.jsonl'} is empty: train first")
    last = rows[-1]
    return {"steps": last["step"], "tokens": last["tokens"], "cpu_hours": round(last["cpu_s"] / 3600, 3),
            "final_loss": round(sum(r["loss"] for r in rows[-10:]) / len(rows[-10:]), 4),
            "tokens_per_cpu_s": round(last["tokens"] / max(last["cpu_s"], 1e-9), 1),
            "config": json.loads((run / "train_config.json").read_text()),
            "data": json.loads((run / "data_summary.json").read_text())}


def _kind(meta: dict) -> str:
    if meta["mode"] == "full":
        return "full fine-tune" + (" with a classification head" if meta["objective"] == "head" else "")
    return "LoRA" + (" with a classification head" if meta["objective"] == "head" else "")


def header(task, meta: dict, results: dict, license: str) -> dict:
    lora = meta["mode"] == "lora"
    head = meta["objective"] == "head"
    data_name = " + ".join(results.get("data_files") or []) or "user data"
    evals = [EvalResult(task_type="text-classification", task_name=task.phrase, dataset_type="custom",
                        dataset_name=data_name, dataset_split="test", metric_type=METRICS[k][0],
                        metric_name=METRICS[k][1], metric_value=round(float(results["ours"][k]), 4))
             for k in SHOWN if k in results["ours"]]
    data = ModelCardData(
        base_model=meta["base_model"], library_name="peft" if lora else "transformers", license=license,
        pipeline_tag="text-classification" if head else "text-generation", model_name=task.name,
        tags=["genomics", "dna", "biology", "genomicllm", task.name] + (["lora", "peft"] if lora else ["custom_code"]),
        eval_results=evals, metrics=[METRICS[k][0] for k in SHOWN])
    out = data.to_dict()
    out["base_model_relation"] = "adapter" if lora else "finetune"
    out["genomicllm_task"] = {"name": task.name, "phrase": task.phrase, "labels": list(task.labels),
                              "objective": meta["objective"], "mode": meta["mode"]}
    return out


def _usage(task, meta: dict) -> str:
    base, labels = meta["base_model"], len(task.labels)
    example = f"ACGTTGCAAGGCTAGCTTAGCA, {task.phrase} ="
    if meta["objective"] == "head":
        load = ("AutoModelForSequenceClassification.from_pretrained(\n"
                f"    {base!r}, trust_remote_code=True, num_labels={labels})")
        ask = ("probs = model(**tok(question, return_tensors=\"pt\")).logits.softmax(-1)[0]\n"
               f"print(dict(zip({list(task.labels)!r}, probs.tolist())))")
        imports = "from transformers import AutoModelForSequenceClassification, AutoTokenizer"
    else:
        load = f"AutoModelForCausalLM.from_pretrained({base!r}, trust_remote_code=True)"
        ask = ("ids = model.generate(**tok(question, return_tensors=\"pt\"), max_new_tokens=8, do_sample=False)\n"
               "print(tok.decode(ids[0, -8:], skip_special_tokens=True))   # the label after \" =\"")
        imports = "from transformers import AutoModelForCausalLM, AutoTokenizer"
    if meta["mode"] == "lora":
        code = (f"from peft import PeftModel\n{imports}\n\nrepo = \"<this repo>\"\n"
                f"tok = AutoTokenizer.from_pretrained(repo)\nmodel = PeftModel.from_pretrained({load}, repo)\n")
    else:
        code = (f"{imports}\n\nrepo = \"<this repo>\"\n"
                "tok = AutoTokenizer.from_pretrained(repo, trust_remote_code=True)\n"
                f"model = {load.split('(')[0]}(repo, trust_remote_code=True"
                + (f", num_labels={labels})" if meta["objective"] == "head" else ")") + "\n")
    code += f"question = {example!r}\n{ask}"
    return f"```python\n{code}\n```\n\nOr, with the GenomicLLM repository installed: " \
           f"`genomicllm ask --adapter <this repo> ACGT…` and `genomicllm score --adapter <this repo> --data FILE`."


def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def results_table(results: dict) -> str:
    rows = [("this model", results["ours"]), ("k-mer (3-6) logistic regression", results["baselines"]["kmer_lr"]),
            (f"majority label ({results['baselines']['majority'].get('label')})", results["baselines"]["majority"])]
    lines = ["| model | MCC | accuracy | macro F1 | unparseable | n |", "|---|---|---|---|---|---|"]
    for name, m in rows:
        lines.append(f"| {name} | {_fmt(m.get('mcc'))} | {_fmt(m.get('accuracy'))} | {_fmt(m.get('macro_f1'))} | "
                     f"{_fmt(m.get('unparseable_rate'))} | {m.get('n', '–')} |")
    return "\n".join(lines)


def data_section(task, data: dict) -> str:
    labels = list(task.labels)
    lines = ["| split | how | rows | " + " | ".join(labels) + " |", "|---|---|---|" + "---|" * len(labels)]
    for name, s in data["splits"].items():
        lines.append(f"| {name} | {s['how']} | {s['rows']:,} | " + " | ".join(f"{s['per_label'].get(lab, 0):,}"
                                                                         for lab in labels) + " |")
    mapped = {k: v for k, v in data["label_map"].items() if k != v}
    dups = data["duplicates_across_splits_removed"]
    length = data["sequence_length"]
    notes = [f"{data['rows_read']:,} rows read from {', '.join(data['files'])} (label column `{data['label_column']}`)"
             + (", labels written as " + ", ".join(f"{k} → {v}" for k, v in mapped.items()) if mapped else "") + ".",
             f"Duplicates removed: {sum(dups.values())} across splits (kept in the highest of test > dev > train), "
             f"{sum(data['duplicates_within_split_removed'].values())} repeats within a split; "
             f"{data['sequences_with_conflicting_labels']} sequences had more than one label.",
             f"Sequence length: {length['min']}–{length['max']} nt (median {length['median']:g})."]
    if data.get("windows"):
        w = data["windows"]
        notes.append(f"Sequences longer than {w['bases']} nt were cut into windows of {w['bases']} nt that keep "
                     "their label (" + ", ".join(f"{s}: {w[s]['rows']:,} rows → {w[s]['windows']:,} windows"
                                                 for s in ("train", "dev", "test")) + "); test metrics are per window.")
    return "\n".join(lines) + "\n\n" + " ".join(notes)


def card(folder: Path, license: str = "apache-2.0") -> tuple[dict, str]:
    task, meta = read_task_file(folder)
    summary = training_summary(folder / TRAINING)
    results = json.loads((folder / TRAINING / "results.json").read_text())
    data = summary["data"]
    results["data_files"] = data["files"]
    cfg = summary["config"]["config"]
    state = results["training"]
    lora = ""
    if (folder / "adapter_config.json").is_file():
        ac = json.loads((folder / "adapter_config.json").read_text())
        lora = (f"LoRA r={ac['r']}, alpha={ac['lora_alpha']}, dropout {ac['lora_dropout']} on "
                f"{', '.join(sorted(ac['target_modules']))}"
                + (f" (+ the trained {', '.join(ac['modules_to_save'])} layer)" if ac.get("modules_to_save") else "")
                + ". ")
    weights = next((p for p in ("adapter_model.safetensors", "model.safetensors") if (folder / p).is_file()), None)
    size = f" Weights file: {(folder / weights).stat().st_size / 1e6:.2f} MB." if weights else ""
    stop = (f"stopped early at step {state['steps_done']} of {state['planned_steps']} (dev loss no better for "
            f"{cfg['patience']} evaluations)" if state["stopped_early"] else f"{state['steps_done']} steps")
    answer = ("a classification head (`AutoModelForSequenceClassification`) reads the question's last token and "
              "gives a probability per label" if meta["objective"] == "head"
              else "the model answers with the label, as text, after ` =`")
    base = meta["base_model"]
    base_link = f"[{base}](https://huggingface.co/{base})" if REPO_ID.fullmatch(base) else f"`{base}`"
    unit = "windows" if data.get("windows") else "rows"
    unparseable = " An unparseable answer counts as wrong." if meta["objective"] == "lm" else ""
    body = f"""
# {task.name}: a {_kind(meta)} of GenomicLLM

A fine-tune of {base_link} for one task of its user's own, asked in GenomicLLM's prompt grammar:

    <sequence>, {task.phrase} = <label>

Labels: {', '.join(f'`{lab}`' for lab in task.labels)}; {answer}.

## Use

{_usage(task, meta)}

## Data

{data_section(task, data)}

## Training

{lora or f"Every weight trained ({_kind(meta)}). "}{cfg['epochs']:g} epochs planned at lr {cfg['lr']:g}
(warm-up {cfg['warmup_steps']} steps, cosine to {cfg['min_lr_ratio']:g}), {cfg['tokens_per_batch']:,} tokens per step;
the dev loss measured {cfg['evals_per_epoch']} times per epoch, the best weights kept: {stop}, best dev loss
{state['best_dev_loss']:.4f} at step {state['best_step']}. {summary['tokens']:,} tokens, {summary['cpu_hours']}
CPU-hours ({summary['tokens_per_cpu_s']:,} tokens per CPU-second); final training loss (mean of the last 10 steps)
{summary['final_loss']}.{size} Loss curve: `training/loss.png`; every number here is read from `training/`.

## Test results

{results['ours']['n']:,} test {unit} never seen in training or early stopping; the baselines are fitted on the same
train split.{unparseable}

{results_table(results)}

Confusion matrix: `training/confusion.png`. With n test rows an MCC is uncertain by roughly ±2/√n.

## Limits

Trained on its user's file only: it answers this one question, and only about sequences like the training ones.
Not for clinical or diagnostic use.
"""
    return header(task, meta, results, license), body


def write_adapter_card(folder: Path, license: str = "apache-2.0") -> Path:
    path = Path(folder) / "README.md"
    write_card(path, *card(Path(folder), license))
    return path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path)
    p.add_argument("--license", default="apache-2.0")
    args = p.parse_args(argv)
    print(f"card: {write_adapter_card(args.folder, args.license)}")


if __name__ == "__main__":
    main()
