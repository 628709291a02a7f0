"""Reply latency of the assistant on this CPU: one user turn (tool round(s) and the reply), about a 250-350 nt
sequence, for each way of decoding and each thread count.

Ways of decoding (`assistant.chat.HFChatModel`): `generate` — `model.generate` afresh every round (as shipped before
issue 16's second run); `kept cache` — the KV cache kept and reused for the shared prefix; `kept cache + grammar` —
that, tool calls decoded within the calls the turn can make and the reply's bold values within what the tools
returned (`assistant.constrained`); `+ drafts` — that, with free text decoded speculatively from guesses the model
checks (`assistant.drafts`; the default). The last column counts the replies equal to the previous way's. The
questions are held-out single-turn conversations of the evaluation set (`assistant_data.build`, test records), the
same for every row; seconds are wall time per turn, the LoRA merged into the base, nothing else running (the note
says so when that was not the case).

    python -m studies.assistant_latency --adapter release/GenomicLLM-assistant --turns 40 \
        --out studies/results/assistant_latency
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

WAYS = {"generate": {"constrain": False, "keep_cache": False, "speculate": False},
        "kept cache": {"constrain": False, "speculate": False}, "kept cache + grammar": {"speculate": False},
        "kept cache + grammar + drafts": {}}


def questions(n: int, datasets: Path, seed: int = 0) -> list[str]:
    """The first user message of `n` single-turn held-out conversations about 250-350 nt sequences."""
    from finetune.chat import assistant_data
    from finetune.chat.assistant_eval import first_sequence_length

    convs = [c for c in assistant_data.build("test", 12, seed, datasets)
             if c.kind == "single" and 250 <= first_sequence_length(c) <= 350]
    rng = np.random.default_rng(seed)
    return [convs[i].extra["user"][0] for i in sorted(rng.choice(len(convs), min(n, len(convs)), replace=False))]


def measure(adapter: Path, asks: list[str], threads: int, ways: list[str]) -> list[dict]:
    import torch

    from assistant.chat import Assistant, HFChatModel, load_chat_model
    from assistant.tools import Toolbox

    torch.set_num_threads(threads)
    tok, model = load_chat_model(adapter, merge=True)
    tools = Toolbox()
    Assistant(HFChatModel(tok, model), tools).ask(asks[0])  # load GenomicLLM and warm up before timing
    rows = []
    for way in ways:
        chat = HFChatModel(tok, model, **WAYS[way])
        seconds, tokens, replies = [], [], []
        for q in asks:
            turn = Assistant(chat, tools).ask(q)
            seconds.append(turn.seconds)
            tokens.append(sum(len(tok(o)["input_ids"]) for o in turn.outputs))
            replies.append(turn.reply)
        same = sum(a == b for a, b in zip(replies, rows[-1]["replies"])) if rows else None
        rows.append({"way": way, "threads": threads, "turns": len(asks), "p50_s": float(np.percentile(seconds, 50)),
                     "p95_s": float(np.percentile(seconds, 95)), "mean_s": float(np.mean(seconds)),
                     "output_tokens_per_turn": float(np.mean(tokens)), "same_replies_as_previous": same,
                     "replies": replies})
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "replies"}), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--adapter", type=Path, default=Path("release/GenomicLLM-assistant"))
    p.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    p.add_argument("--turns", type=int, default=40)
    p.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    p.add_argument("--ways", nargs="*", default=list(WAYS), choices=list(WAYS))
    p.add_argument("--out", type=Path, default=Path("studies/results/assistant_latency"))
    args = p.parse_args(argv)
    asks = questions(args.turns, args.datasets)
    rows = [r for t in args.threads for r in measure(args.adapter, asks, t, args.ways)]
    lines = [f"Assistant reply latency, {len(asks)} held-out questions about 250-350 nt sequences, adapter "
             f"`{args.adapter}` (`python -m studies.assistant_latency`).", "",
             "| decoding | threads | p50 s | p95 s | mean s | output tokens / turn | replies as the way above |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['way']} | {r['threads']} | {r['p50_s']:.2f} | {r['p95_s']:.2f} | {r['mean_s']:.2f} | "
              f"{r['output_tokens_per_turn']:.1f} | "
              + ("–" if r["same_replies_as_previous"] is None else f"{r['same_replies_as_previous']}/{r['turns']}")
              + " |" for r in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
