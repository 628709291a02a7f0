"""The conversational GenomicLLM: a peft LoRA over SmolLM2-135M-Instruct, trained on `chat_data` conversations.

    python -m finetune.chat.lora --config finetune/chat/configs/lora.json --out build/lora   # resumable: rerun to continue
    python -m finetune.chat.lora --config finetune/chat/configs/assistant.json --out build/assistant  # the assistant
    python -m finetune.chat.lora --config finetune/chat/configs/assistant-more.json --out build/assistant-more
    python -m finetune.chat.lora --summary --out build/assistant-more   # cost of both runs (training_summary.json)

Conversations are rendered with the base model's own chat template (`data: "chat"`, issue 6's adapter) or, for the
tool-calling assistant (`data: "assistant"`, `assistant_data`), with the assistant's template and tool list; the loss
is on the assistant turns only (their text or tool calls, and the closing `<|im_end|>`). DNA gets 3-mer tokens (`lora_tokens`), trained through `trainable_token_indices`,
so the adapter folder stays small (LoRA matrices + 64 embedding rows; no full embedding layer). Every
`checkpoint_every` steps the adapter, optimizer and log are saved under `<out>/checkpoints/step-N`; a rerun resumes
from the newest. Runs on CPU (fp32) and on a GPU unchanged (accelerate picks the device).

Output: `<out>/adapter/` — load it with `PeftModel.from_pretrained(base, "<out>/adapter")` after growing the base's
embeddings to the adapter tokenizer's size (`load_chat_model` does both); `<out>/loss.png`, `<out>/log.jsonl`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm

from assistant.chat import attach_adapter
from tasks.paths import CHAT_BASE_HUB_ID

from ..loop import (
    JsonConfig,
    answer_weight,
    checkpoints,
    collate_weighted,
    latest_checkpoint,
    length_groups,
    log_row,
    lr_at,
    optimizer_step,
    parse_sets,
    plot_losses,
    resume_log,
)
from . import chat_data
from .lora_tokens import add_dna_tokens, dna_token_ids
from .smollm_base import DEFAULT_DIR, load_base

BASE_HUB_ID = CHAT_BASE_HUB_ID


@dataclass
class LoraTrainConfig(JsonConfig):
    base: str = str(DEFAULT_DIR)  # converted SmolLM2 folder (converted from the GGUF on first use)
    datasets: str = "build/datasets"
    data: str = "chat"  # "chat": chat_data's conversations (DNA in the text); "assistant": assistant_data's tool use
    init_from: str | None = None  # a finished adapter to start from (its LoRA; this run's optimizer and schedule)
    per_task: int = 300  # training records per task (plus follow-ups, refusals, clarifications)
    tasks: list[str] | None = None  # default: every task of chat_data.SOURCES
    dna_tokens: bool = True
    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                               "up_proj", "down_proj"])
    max_len: int = 512  # longer conversations are left out (counted in the data summary), never truncated
    tokens_per_batch: int = 2048  # real tokens per step
    microbatch_tokens: int = 1024  # padded tokens per forward pass
    steps: int = 220
    lr: float = 4e-4
    min_lr_ratio: float = 0.1
    warmup_steps: int = 20
    weight_decay: float = 0.0
    checkpoint_every: int = 20
    keep_checkpoints: int = 2
    threads: int = 0  # torch CPU threads (0 = torch's default)
    seed: int = 0


# ---------------------------------------------------------------------------------------------------- encoding
def encode(tok, messages: list[dict], tools: list[dict] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ids, loss weights) of a conversation rendered by the chat template: weight 1 on every assistant turn's
    tokens and its closing `<|im_end|>`, 0 elsewhere. An assistant turn is what rendering it adds after the
    generation prompt (so tool calls count, whatever the template writes for them). Without `tools` DNA is
    normalised first (`chat_data.prepare`); the assistant's messages hold references instead of DNA."""
    if tools is None:
        messages = chat_data.prepare(messages)

    def render(msgs: list[dict], prompt: bool = False) -> str:
        return tok.apply_chat_template(msgs, tools=tools, tokenize=False, add_generation_prompt=prompt)

    text = render(messages)
    spans = []
    for k, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prompt, full = render(messages[:k], prompt=True), render(messages[: k + 1])
        if not full.startswith(prompt) or not text.startswith(full):
            raise ValueError("the chat template does not render conversations prefix by prefix")
        eos = tok.eos_token or ""
        end = full.rfind(eos) + len(eos) if eos and eos in full[len(prompt) :] else len(full)
        spans.append((len(prompt), end))
    if not spans:
        raise ValueError("a training conversation needs at least one assistant turn")
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    weights = np.array([any(s <= a < e for s, e in spans) for a, _ in enc["offset_mapping"]], dtype=np.float32)
    return np.asarray(enc["input_ids"], dtype=np.int64), weights


def encode_all(tok, convs: list[chat_data.Conversation], max_len: int, tools: list[dict] | None = None
               ) -> tuple[list, dict]:
    rows, dropped = [], 0
    for c in convs:
        ids, w = encode(tok, c.messages, tools)
        if len(ids) > max_len:
            dropped += 1
            continue
        rows.append((ids, w))
    lengths = [len(ids) for ids, _ in rows]
    summary = {"conversations": len(rows), "left_out_longer_than_max_len": dropped, "tokens": int(sum(lengths)),
               "target_tokens": int(sum(float(w.sum()) for _, w in rows)), "tokens_p50": int(np.median(lengths)),
               "by_kind": {k: sum(c.kind == k for c in convs) for k in dict.fromkeys(c.kind for c in convs)}}
    return rows, summary


def batches(rows: list, cfg: LoraTrainConfig) -> list[list[int]]:
    """Every step's row indices, fixed by the seed (so a resumed run sees exactly the batches it would have):
    shuffled epochs, each step filled up to `tokens_per_batch` real tokens."""
    rng = np.random.default_rng(cfg.seed)
    out, cur, n = [], [], 0
    while len(out) < cfg.steps:
        for i in rng.permutation(len(rows)):
            cur.append(int(i))
            n += len(rows[i][0])
            if n >= cfg.tokens_per_batch:
                out.append(cur)
                cur, n = [], 0
                if len(out) == cfg.steps:
                    break
    return out


# ------------------------------------------------------------------------------------------------------- model
def peft_config(cfg: LoraTrainConfig, dna_ids: list[int] | None):
    from peft import LoraConfig

    return LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=cfg.target_modules,
                      trainable_token_indices={"embed_tokens": dna_ids} if dna_ids else None, task_type="CAUSAL_LM")


def build(cfg: LoraTrainConfig, resume_from: Path | None = None):
    """(tokenizer, peft model): the base (with DNA tokens if asked), and the LoRA saved at `resume_from` (a
    checkpoint of this run), else the config's `init_from` adapter, else a fresh one; the assistant's chat template
    for `data: "assistant"`."""
    from peft import PeftModel, get_peft_model

    tok, base = load_base(cfg.base)
    if cfg.data == "assistant":
        from assistant.chat import TEMPLATE

        tok.chat_template = TEMPLATE
    dna_ids = add_dna_tokens(tok, base) if cfg.dna_tokens else None
    start = resume_from if resume_from is not None else cfg.init_from
    if start is not None:
        return tok, PeftModel.from_pretrained(base, start, is_trainable=True)
    torch.manual_seed(cfg.seed)
    return tok, get_peft_model(base, peft_config(cfg, dna_ids))


def load_chat_model(adapter_dir: Path | str, base: Path | str | None = None, merge: bool = False,
                    dna_tokens: bool = True):
    """(tokenizer, model) the way a user loads the adapter: the adapter's tokenizer, the base (converted first if
    needed) grown to its size, `PeftModel.from_pretrained`; `merge=True` folds the LoRA into the base weights.
    `dna_tokens=False` for an adapter without DNA tokens (the assistant's)."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(adapter_dir)
    if dna_tokens:
        dna_token_ids(tok)  # a clear error, before the base is loaded, when this is not the adapter's tokenizer
    _, model = load_base(base)
    return tok, attach_adapter(model, adapter_dir, len(tok), merge)


# ------------------------------------------------------------------------------------------------------ training
def train(cfg: LoraTrainConfig, out: Path, progress: bool = True) -> Path:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out.mkdir(parents=True, exist_ok=True)
    acc = Accelerator()
    ckpt, start = latest_checkpoint(out)
    tok, model = build(cfg, ckpt / "adapter" if ckpt else None)
    convs, tools = training_conversations(cfg)
    rows, summary = encode_all(tok, convs, cfg.max_len, tools)
    plan = batches(rows, cfg)
    (out / "train_config.json").write_text(json.dumps(asdict(cfg), indent=1))
    (out / "data_summary.json").write_text(json.dumps(summary, indent=1))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    model, opt = acc.prepare(model, opt)
    if ckpt:
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location=acc.device))
    model.train()
    log = out / "log.jsonl"
    done = resume_log(log, start)
    tokens0, cpu0, cpu_start, t0, seen = done.get("tokens", 0), done.get("cpu_s", 0.0), time.process_time(), time.time(), 0
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress, desc="lora")
    for step in bar:
        groups = [collate_weighted(g, tok.pad_token_id)
                  for g in length_groups([rows[i] for i in plan[step]], cfg.microbatch_tokens)]
        total = sum(answer_weight(b) for b in groups)
        lr = lr_at(cfg, step)
        loss, tokens = optimizer_step(acc, model, opt, groups, total, lr, params)
        seen += tokens
        rate = seen / (time.time() - t0)
        bar.set_postfix(loss=f"{loss:.3f}", tok_s=f"{rate:,.0f}")
        log_row(log, step + 1, loss, lr, rate, tokens0 + seen, cpu0 + time.process_time() - cpu_start)
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            save_checkpoint(acc.unwrap_model(model), opt, out, step + 1, cfg.keep_checkpoints)
            plot_losses(log, out / "loss.png", label="training loss (assistant tokens)")
    adapter = out / "adapter"
    save_adapter(acc.unwrap_model(model), tok, adapter)
    return adapter


def training_conversations(cfg: LoraTrainConfig) -> tuple[list, list[dict] | None]:
    """(conversations, tool schemas or None) of the config's data."""
    if cfg.data == "assistant":
        from . import assistant_data

        return assistant_data.build("train", cfg.per_task, cfg.seed, Path(cfg.datasets), tasks=cfg.tasks), \
            assistant_data.TOOLS.schemas()
    if cfg.data != "chat":
        raise ValueError(f"data={cfg.data!r}: choose 'chat' or 'assistant'")
    return chat_data.build("train", cfg.per_task, cfg.seed, Path(cfg.datasets), tasks=cfg.tasks), None


def save_checkpoint(model, opt, out: Path, step: int, keep: int) -> None:
    path = out / "checkpoints" / f"step-{step}"
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp / "adapter", save_embedding_layers=False)
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)  # complete or absent: an interrupted save is never resumed from
    for old in checkpoints(out)[:-keep]:
        shutil.rmtree(old)


def save_adapter(model, tok, folder: Path) -> Path:
    """The adapter as users get it: LoRA + DNA token rows (no full embedding layer), and the tokenizer with them."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, save_embedding_layers=False)
    tok.save_pretrained(folder)
    cfg = json.loads((folder / "adapter_config.json").read_text())
    if cfg.get("base_model_name_or_path") != BASE_HUB_ID:  # point at the Hub base, not this machine's cache path
        cfg["base_model_name_or_path"] = BASE_HUB_ID
        (folder / "adapter_config.json").write_text(json.dumps(cfg, indent=2))
    return folder


def training_summary(run: Path) -> dict:
    """A run's cost and loss (`ship.log_summary`); for a run started from another adapter (`init_from`), that
    adapter's own summary (its run's log beside it, or the `training_summary.json` a released adapter carries) and
    the totals of both."""
    from ..training.ship import log_summary

    this = log_summary(run)
    init = json.loads((run / "train_config.json").read_text()).get("init_from")
    if not init:
        return this
    init = Path(init)
    if (init.parent / "log.jsonl").is_file():
        first = training_summary(init.parent)
    elif (init / "training_summary.json").is_file():
        first = json.loads((init / "training_summary.json").read_text())
    else:
        raise FileNotFoundError(f"{init}: no training log beside it and no training_summary.json in it")
    totals = {k: first.get(f"total_{k}", first[k]) + this[k] for k in ("steps", "tokens", "cpu_s")}
    return {**this, "init_from": {"adapter": str(init), **first}, **{f"total_{k}": v for k, v in totals.items()}}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path)
    p.add_argument("--out", type=Path, default=Path("build/lora"))
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=JSON", help="override config values")
    p.add_argument("--summary", action="store_true", help="print the finished run's training summary (JSON)")
    args = p.parse_args(argv)
    if args.summary:
        print(json.dumps(training_summary(args.out), indent=1))
        return
    cfg = LoraTrainConfig.load(args.config, parse_sets(args.set))
    print(f"adapter: {train(cfg, args.out)}")


if __name__ == "__main__":
    main()
