"""Design-room experiments: what makes GenomicLLM learn the tasks fastest per CPU-hour (results: modeling/README.md).

    python -m studies.model_experiments segment   # DNA/text segment embedding on vs off: same data, steps, seeds
    python -m studies.model_experiments shape     # width vs depth at ~1M parameters: same data and steps

Small, self-contained and deterministic: a multitask mix of the GenomicLLM_GRCh38 corpus (``make dataset-grch38``;
splice site, sequence direction, GC content, reverse/complement, NT->AA, ORF frame), a stand-in tokenizer with the
project tokenizer's shape (bytes for text; nucleotide runs of >= 8 letters as non-overlapping 3-mers with
single-letter fallback, so DNA ids are disjoint from text ids), the original's grammar ``<s> prompt answer</s>`` with
the loss on the answer. Evaluation on fixed validation rows: answer-token cross-entropy and exact match of the
teacher-forced argmax over the whole answer + ``</s>`` (identical to greedy-decoding exact match). Time is reported
as process CPU seconds (the machine is shared; wall time is noisy).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import time
from pathlib import Path

import torch

from modeling.configuration_genomicllm import GenomicLLMConfig
from modeling.modeling_genomicllm import GenomicLLMForCausalLM

DATA = Path("build/datasets/GenomicLLM_GRCh38/data")
TASKS = ("splice_site", "sequence_direction", "gc_content", "reverse_complement", "nt2aa", "orf_frame")
PAD, BOS, EOS = 0, 1, 2
BYTE0 = 3  # text byte b -> BYTE0 + b
KMERS = ["".join(p) for p in itertools.product("ACGT", repeat=3)]
DNA0 = BYTE0 + 256
DNA_IDS = {s: DNA0 + i for i, s in enumerate(KMERS + list("ACGTN"))}
VOCAB = DNA0 + len(DNA_IDS)  # 328
RUN = re.compile(r"[ACGTN]{8,}")


def encode(text: str) -> list[int]:
    ids, pos = [], 0
    for m in RUN.finditer(text):
        ids += [BYTE0 + b for b in text[pos:m.start()].encode()]
        run = m.group()
        for i in range(0, len(run), 3):
            chunk = run[i:i + 3]
            ids += [DNA_IDS[chunk]] if chunk in DNA_IDS and len(chunk) == 3 else [DNA_IDS[c] for c in chunk]
        pos = m.end()
    return ids + [BYTE0 + b for b in text[pos:].encode()]


def load_examples(split: str, per_task: int, max_len: int, seed: int) -> list[tuple[list[int], int, str]]:
    """(ids, answer_start, task) rows: <s> prompt ' ' answer </s>, at most per_task rows per task."""
    import pyarrow.parquet as pq

    g = torch.Generator().manual_seed(seed)
    rows = []
    for task in TASKS:
        table = pq.read_table(DATA / task / f"{split}.parquet", columns=["prompt", "answer"]).to_pylist()
        kept = []
        for i in torch.randperm(len(table), generator=g).tolist():
            prompt, answer = encode(table[i]["prompt"]), encode(" " + table[i]["answer"])
            ids = [BOS] + prompt + answer + [EOS]
            if len(ids) <= max_len:
                kept.append((ids, 1 + len(prompt), task))
            if len(kept) == per_task:
                break
        rows += kept
    return rows


def collate(rows) -> dict[str, torch.Tensor]:
    width = max(len(ids) for ids, _, _ in rows)
    input_ids = torch.full((len(rows), width), PAD)
    labels = torch.full((len(rows), width), -100)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, start, _) in enumerate(rows):
        input_ids[i, :len(ids)] = torch.tensor(ids)
        labels[i, start:len(ids)] = torch.tensor(ids[start:])
        mask[i, :len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": mask}


@torch.no_grad()
def evaluate(model, rows, batch: int = 64) -> dict:
    model.eval()
    loss_sum, tokens, exact = 0.0, 0, {}
    for k in range(0, len(rows), batch):
        chunk = rows[k:k + batch]
        enc = collate(chunk)
        logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[:, :-1]
        target = enc["labels"][:, 1:]
        valid = target != -100
        loss_sum += torch.nn.functional.cross_entropy(logits[valid], target[valid], reduction="sum").item()
        tokens += int(valid.sum())
        right = ((logits.argmax(-1) == target) | ~valid).all(-1)
        for (_, _, task), ok in zip(chunk, right.tolist()):
            exact.setdefault(task, []).append(ok)
    model.train()
    per_task = {t: sum(v) / len(v) for t, v in exact.items()}
    return {"answer_loss": loss_sum / tokens, "exact": sum(per_task.values()) / len(per_task), "per_task": per_task}


def train(config: GenomicLLMConfig, train_rows, val_rows, steps: int, batch: int, lr: float, seed: int,
          eval_every: int) -> list[dict]:
    torch.manual_seed(seed)
    model = GenomicLLMForCausalLM(config).train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=lr, betas=(0.9, 0.95))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(train_rows), generator=g).tolist()
    history, cpu, wall, seen = [], 0.0, 0.0, 0
    for step in range(1, steps + 1):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if len(order) < batch:
            order += torch.randperm(len(train_rows), generator=g).tolist()
        enc = collate([train_rows[i] for i in order[:batch]])
        del order[:batch]
        loss = model(**enc).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        seen += int(enc["attention_mask"].sum())
        cpu += time.process_time() - cpu0  # the training clock excludes evaluation
        wall += time.perf_counter() - wall0
        if step % eval_every == 0 or step == steps:
            row = {"step": step, "tokens": seen, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
                   "train_loss": round(loss.item(), 4), **evaluate(model, val_rows)}
            history.append(row)
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                              if k != "per_task"}), flush=True)
    history[-1]["params"] = sum(p.numel() for p in model.parameters())
    return history


def config_for(hidden: int, layers: int, heads: int, ffn: int, **extra) -> GenomicLLMConfig:
    return GenomicLLMConfig(vocab_size=VOCAB, hidden_size=hidden, num_layers=layers, num_attention_heads=heads,
                            intermediate_size=ffn, max_position_embeddings=256, **extra)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m studies.model_experiments", description=__doc__.splitlines()[0])
    ap.add_argument("experiment", choices=["segment", "shape"])
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--max-len", type=int, default=192)
    ap.add_argument("--train-per-task", type=int, default=3000)
    ap.add_argument("--val-per-task", type=int, default=100)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--only", nargs="+", help="run only these variants (names as printed, e.g. '2 x 192')")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: robust on a shared machine, where 2 spinning threads slow down 10x)")
    ap.add_argument("--out", type=Path, default=Path("build/model_experiments"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    train_rows = load_examples("train", args.train_per_task, args.max_len, seed=0)
    val_rows = load_examples("validation", args.val_per_task, args.max_len, seed=1)
    print(f"{len(train_rows)} train rows, {len(val_rows)} validation rows, vocab {VOCAB}, "
          f"{torch.get_num_threads()} threads", flush=True)
    dna_ids = sorted(DNA_IDS.values())
    if args.experiment == "segment":
        variants = {"segment off": config_for(128, 4, 4, 384),
                    "segment on": config_for(128, 4, 4, 384, use_segment_embedding=True, dna_token_ids=dna_ids)}
    else:
        # ~1M parameters each (the segment experiment's size), depth traded for width.
        variants = {"4 x 128": config_for(128, 4, 4, 384), "8 x 96": config_for(96, 8, 4, 288),
                    "2 x 192": config_for(192, 2, 6, 576)}
    if args.only:
        variants = {name: variants[name] for name in args.only}
    results = {}
    for (name, config), seed in itertools.product(variants.items(), args.seeds):
        print(f"--- {name}, seed {seed}", flush=True)
        results[f"{name} / seed {seed}"] = train(config, train_rows, val_rows, args.steps, args.batch, args.lr, seed,
                                                 args.eval_every)
    args.out.mkdir(parents=True, exist_ok=True)
    tag = "-".join(str(seed) for seed in args.seeds) + ("-" + "-".join(args.only).replace(" ", "") if args.only else "")
    (args.out / f"{args.experiment}_seeds{tag}.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"\n{'variant':<22} {'params':>8} {'cpu s':>7} {'answer CE':>10} {'exact':>6}  per task exact")
    for name, history in results.items():
        last = history[-1]
        tasks = " ".join(f"{t[:8]}={v:.2f}" for t, v in last["per_task"].items())
        print(f"{name:<22} {last['params'] / 1e6:>7.2f}M {last['cpu_s']:>7.0f} {last['answer_loss']:>10.4f} "
              f"{last['exact']:>6.3f}  {tasks}")


if __name__ == "__main__":
    main()
