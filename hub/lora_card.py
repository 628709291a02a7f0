"""Ship the chat adapter: copy it with its card, training summary, loss plot and evaluation into `release/`.

    python -m hub.lora_card --run build/lora --eval build/lora/eval --out release/GenomicLLM-chat-lora

The card (README.md, YAML header for the Hub: `base_model`, `base_model_relation: adapter`, `library_name: peft`) is
written from the measured files only: `eval.json` (the per-task table and verbatim conversations), `log.jsonl` and
`data_summary.json` (training cost and data). Nothing in it is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from finetune.chat import chat_templates as T
from finetune.chat.chat_data import SOURCES
from finetune.chat.lora import BASE_HUB_ID
from finetune.chat.lora_eval import markdown
from tasks.paths import LORA_DIR

from .adapter_card import training_summary
from .assemble import write_card

SHIPPED = LORA_DIR
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "chat_template.jinja")


def _conversation(example: dict) -> str:
    lines = [f"**{m['role']}**: {m['content']}" for m in example["messages"] if m["role"] != "system"]
    lines.append(f"**assistant (this adapter)**: {example.get('adapter', '–')}")
    if "base" in example:
        lines.append(f"**assistant (SmolLM2 without the adapter)**: {example['base']}")
    lines.append(f"*expected*: {example['gold']}")
    return "\n\n".join(x.replace("\n", "  \n") for x in lines)


def wins(table: dict, ours: str, other: str) -> tuple[int, int]:
    """(rows where `ours` beats `other` on the headline metric, rows where both were scored); MAE: lower is better."""
    better = total = 0
    for row in table.values():
        if ours in row and other in row:
            a, b = row[ours][row["metric"]], row[other][row["metric"]]
            total += 1
            better += (a < b) if row["metric"] == "mae" else (a > b)
    return better, total


def card(summary: dict, evaluation: dict, adapter_mb: float) -> tuple[dict, str]:
    header = {"base_model": BASE_HUB_ID, "base_model_relation": "adapter", "library_name": "peft",
              "pipeline_tag": "text-generation", "license": "apache-2.0", "language": ["en"],
              "tags": ["genomics", "dna", "biology", "lora", "peft", "conversational"],
              "datasets": sorted({ds for ds, _, _ in SOURCES.values()})}
    cfg, data = summary["config"], summary["data"]
    names = [n for n in ("adapter", "base") if n in next(iter(evaluation["table"].values()))]
    shown = [e for e in evaluation["examples"] if e["group"] in ("gc_content", "promoter", "reverse_complement",
                                                                   "follow-up: gc_content", "refusal", "nt2aa")]
    body = f"""
# GenomicLLM chat: a LoRA for SmolLM2-135M-Instruct

Ask about a DNA sequence in everyday language ("what's the GC content of this?", "could this be a promoter?",
"translate this coding sequence"); the reply is a sentence with the exact value in **bold**. A companion of the
GenomicLLM model (which answers the compact grammar `ACGT…, GC content =`).

## Use

```python
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

adapter = "<this repo>"
tok = AutoTokenizer.from_pretrained(adapter)                  # SmolLM2's tokenizer + 64 DNA 3-mer tokens
base = AutoModelForCausalLM.from_pretrained("{BASE_HUB_ID}")
base.resize_token_embeddings(len(tok), mean_resizing=False)   # room for the DNA tokens (their rows are in the adapter)
model = PeftModel.from_pretrained(base, adapter)
# optional: fold the LoRA into the weights for plain transformers inference
# model = model.merge_and_unload(); model.save_pretrained("genomicllm-chat-merged"); tok.save_pretrained(...)
```

DNA must be written as one upper-case run to be cut into the 3-mer tokens: upper-case it and remove spaces/line
breaks inside it before `apply_chat_template` (`finetune.chat.chat_data.prepare(messages)` in the GenomicLLM repository
does exactly this; FASTA headers may stay). System prompt used in training: "{T.SYSTEM}"

## What it was trained on
{data["conversations"]:,} conversations ({data["tokens"]:,} tokens, {data["target_tokens"]:,} of them in assistant
turns, the only ones with loss) generated from the train splits of GenomicLLM_GRCh38, GUE and GenomicBenchmarks:
{data["by_kind"]["single"]:,} single questions ({cfg["per_task"]} records per task, {len(SOURCES)} tasks),
{data["by_kind"]["follow_up"]:,} two-turn follow-ups (GC content / reverse complement of the same sequence),
{data["by_kind"]["refuse"]:,} refusals of invalid sequences and {data["by_kind"]["clarify"]:,} requests for a
missing sequence. Questions come from several paraphrase templates per task; sequences are pasted raw, lower-case,
as FASTA, in groups of ten or wrapped. Sequences are capped per task (e.g. 120 nt for reverse/complement, 300 nt
for GC content; see `SOURCES` in `finetune/chat/chat_data.py`).

LoRA r={cfg["r"]}, alpha={cfg["alpha"]} on {", ".join(cfg["target_modules"])}; the 64 DNA token embeddings trained
through `trainable_token_indices` (the output embedding is tied). {summary["steps"]} steps of {cfg["tokens_per_batch"]}
tokens, lr {cfg["lr"]} (cosine), fp32 on CPU: **{summary["tokens"]:,} tokens, {summary["cpu_hours"]} CPU-hours**
({summary["tokens_per_cpu_s"]} tokens per CPU-second). Adapter file: **{adapter_mb:.1f} MB** (LoRA matrices and 64
embedding rows; no full embedding layer). Final training loss (mean of the last 10 steps): {summary["final_loss"]}.

## Evaluation
Test-split records never seen in training, asked with question templates never used in training
({evaluation["conversations"]} conversations, {evaluation["per_task"]} records per task). A reply counts only when
its bold value is right (*strict*); *lenient* also accepts the value written anywhere in the reply (SmolLM2 alone
never uses bold). GenomicLLM answers the same records in its simple grammar. MAE: lower is better.

{markdown(evaluation["table"], names)}
Strict scores: the adapter is better than SmolLM2 alone on {"{} of {}".format(*wins(evaluation["table"], "adapter", "base"))}
rows and better than GenomicLLM (simple grammar, same records) on
{"{} of {}".format(*wins(evaluation["table"], "adapter", "genomicllm"))}. With {evaluation["per_task"]} records per task a
row's number is uncertain by about ±0.2 (accuracy / MCC).

## Example conversations (verbatim, greedy decoding)

""" + "\n\n---\n\n".join(_conversation(e) for e in shown) + """

## Limits
- A 135M base with a CPU-budget LoRA: most numbers above are far from exact; sequence outputs (reverse complement,
  translation) are rarely exact. Check values that matter with a program (the GenomicLLM Space shows the exact
  Biopython value beside the model's).
- Not for clinical or diagnostic use.

## Citation
Liu et al., *Exploring Genomic Large Language Models*, bioRxiv 2024 (the system this release rebuilds), and
SmolLM2 (Hugging Face, 2024) for the base model.
"""
    return header, body


def ship(run: Path, eval_dir: Path, out: Path) -> Path:
    adapter = run / "adapter"
    missing = [n for n in ADAPTER_FILES if not (adapter / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{adapter}: {', '.join(missing)} missing: train first (`make lora`)")
    if not (eval_dir / "eval.json").is_file():
        raise FileNotFoundError(f"{eval_dir / 'eval.json'} missing: evaluate first (`python -m finetune.chat.lora_eval`)")
    out.mkdir(parents=True, exist_ok=True)
    for name in ADAPTER_FILES:
        shutil.copy2(adapter / name, out / name)
    for name in ("eval.json", "eval.md"):
        shutil.copy2(eval_dir / name, out / name)
    shutil.copy2(run / "loss.png", out / "loss.png")
    summary = training_summary(run)
    (out / "training_summary.json").write_text(json.dumps(summary, indent=1))
    mb = (out / "adapter_model.safetensors").stat().st_size / 1e6
    write_card(out / "README.md", *card(summary, json.loads((eval_dir / "eval.json").read_text()), mb))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, default=Path("build/lora"))
    p.add_argument("--eval", type=Path, default=Path("build/lora/eval"))
    p.add_argument("--out", type=Path, default=SHIPPED)
    args = p.parse_args(argv)
    print(f"shipped: {ship(args.run, args.eval, args.out)}")


if __name__ == "__main__":
    main()
