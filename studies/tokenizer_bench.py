"""`make bench-tokenizer`: every candidate trained on the same rows and measured on the same other rows, one run.

Columns:
- bases/tok: nucleotide letters per token over the DNA runs of the eval texts (each run encoded alone; for the
  hybrids this equals the in-context count, which the tests check).
- tok p50/p95/max: tokens per prompt + " " + answer (no special tokens).
- batch / single MB/s: UTF-8 megabytes per second through the native library, ids only for batch
  (tokenizers `encode_batch_fast` on all cores; SentencePiece `encode(list, num_threads=cores)`), one standard call
  per text for single (tokenizers `encode`, which also tracks offsets; SentencePiece `encode`);
  HF MB/s: the transformers wrapper's batch call `tok(texts)` (what training code pays).
  Best of 3 rounds, round-robin over the candidates: the machine is shared, so compare rows of one run, not runs.
- vocab: ids the model needs, special tokens included.
- rt fail: texts whose decode(encode(x)) != x, over the eval rows and over the fuzz set.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tokenizer import candidates, corpus, spm_baseline
from tokenizer.fuzz import fuzz_strings
from tokenizer.rule import RUN_PATTERN
from tokenizer.tokenization_genomicllm import find_dna_spans

CORES = os.cpu_count() or 1


@dataclass
class Row:
    name: str
    label: str
    bases_per_token: float
    tok_p50: float
    tok_p95: float
    tok_max: int
    batch_mbs: float
    single_mbs: float
    hf_mbs: float
    vocab: int
    rt_fail_corpus: int
    rt_fail_fuzz: int
    build_s: float


class Hybrid:
    def __init__(self, tok):
        self.tok, self.tk = tok, tok.backend_tokenizer

    def batch(self, texts):
        return [e.ids for e in self.tk.encode_batch_fast(texts, add_special_tokens=False)]

    def single(self, text):
        return self.tk.encode(text, add_special_tokens=False).ids

    def decode(self, ids):
        return self.tk.decode(ids, skip_special_tokens=False)

    def vocab(self):
        return len(self.tok)


class Spm:
    def __init__(self, sp):
        self.sp = sp

    def batch(self, texts):
        return self.sp.encode(texts, num_threads=CORES)

    def single(self, text):
        return self.sp.encode(text)

    def decode(self, ids):
        return self.sp.decode(ids)

    def vocab(self):
        return self.sp.get_piece_size()


def _mbs(nbytes: int, fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return nbytes / best / 1e6


def static_metrics(name: str, enc, held: list[str], fuzz: list[str], build_s: float) -> Row:
    dna = [text[a:b] for text in held for a, b in find_dna_spans(text, RUN_PATTERN)]
    n_bases = sum(map(len, dna))
    n_dna_tokens = sum(len(ids) for ids in enc.batch(dna))
    lengths = np.array([len(ids) for ids in enc.batch(held)])
    fails = [sum(enc.decode(ids) != t for ids, t in zip(enc.batch(texts), texts)) for texts in (held, fuzz)]
    return Row(name, candidates.CANDIDATES[name].label, n_bases / n_dna_tokens, float(np.percentile(lengths, 50)),
               float(np.percentile(lengths, 95)), int(lengths.max()), 0.0, 0.0, 0.0, enc.vocab(), *fails, build_s)


def throughput(encoders: dict, rows: dict[str, Row], held: list[str], rounds: int = 3) -> None:
    """Round-robin over the candidates, best of `rounds`: load from other processes hits every row alike."""
    nbytes = sum(len(t.encode("utf-8")) for t in held)
    for _ in range(rounds):
        for name, (enc, hf_tok) in encoders.items():
            row = rows[name]
            row.batch_mbs = max(row.batch_mbs, _mbs(nbytes, lambda: enc.batch(held), repeat=1))
            row.single_mbs = max(row.single_mbs, _mbs(nbytes, lambda: [enc.single(t) for t in held], repeat=1))
            row.hf_mbs = max(row.hf_mbs, _mbs(nbytes, lambda: hf_tok(held, add_special_tokens=False, verbose=False),
                                               repeat=1))


def _floor(texts):
    from tokenizers import Tokenizer, models

    tk = Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    return lambda: tk.encode_batch_fast(texts, add_special_tokens=False)


def table(rows: list[Row]) -> str:
    head = ("| candidate | bases/tok | tok p50 | tok p95 | tok max | batch MB/s | single MB/s | HF MB/s | vocab "
            "| rt fail corpus | rt fail fuzz | build s |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(f"| {r.label} | {r.bases_per_token:.2f} | {r.tok_p50:.0f} | {r.tok_p95:.0f} | {r.tok_max} "
                     f"| {r.batch_mbs:.1f} | {r.single_mbs:.1f} | {r.hf_mbs:.1f} | {r.vocab} | {r.rt_fail_corpus} "
                     f"| {r.rt_fail_fuzz} | {r.build_s:.0f} |")
    return "\n".join(lines)


def run(root: Path = corpus.DEFAULT_ROOT, n_fit: int = 20_000, n_eval: int = 20_000, n_fuzz: int = 2_000,
        names: list[str] | None = None, json_out: Path | None = None) -> list[Row]:
    fit, held = corpus.fit_and_eval(root, n_fit, n_eval)
    fuzz = fuzz_strings(n_fuzz)
    print(f"fit rows {len(fit)}, eval rows {len(held)} ({sum(len(t.encode()) for t in held) / 1e6:.1f} MB), "
          f"fuzz {len(fuzz)}, cores {CORES}", flush=True)
    t0 = time.perf_counter()
    prepared = candidates.prepare(fit)
    prep_s = time.perf_counter() - t0
    rows, notes, encoders = {}, [], {}
    for name in names or list(candidates.CANDIDATES):
        t0 = time.perf_counter()
        if candidates.CANDIDATES[name].scheme == "spm":
            model = spm_baseline.train(fit)
            enc, hf_tok = Spm(spm_baseline.processor(model)), spm_baseline.to_fast(model, name)
            build_s = time.perf_counter() - t0
            native = enc.batch(held)
            fast_ids = hf_tok(held, add_special_tokens=False, verbose=False)["input_ids"]
            same = sum(a == b for a, b in zip(native, fast_ids))
            notes.append(f"spm512 as a tokenizers Unigram (build_candidate) matches native SentencePiece ids on "
                         f"{same}/{len(held)} eval rows")
        else:
            tok = candidates.build_candidate(name, prepared=prepared)
            build_s = time.perf_counter() - t0 + prep_s
            enc, hf_tok = Hybrid(tok), tok
        encoders[name] = (enc, hf_tok)
        rows[name] = static_metrics(name, enc, held, fuzz, build_s)
        print(f"  {name}: built and measured", flush=True)
    throughput(encoders, rows, held)
    floor = _mbs(sum(len(t.encode()) for t in held), _floor(held))
    rows = list(rows.values())
    print()
    print(table(rows))
    spm = next((r for r in rows if r.name == "spm512"), None)
    if spm:
        for r in rows:
            if r is not spm:
                notes.append(f"{r.name}: batch x{r.batch_mbs / spm.batch_mbs:.1f}, "
                             f"single x{r.single_mbs / spm.single_mbs:.1f} vs spm512; "
                             f"bases/tok x{r.bases_per_token / spm.bases_per_token:.2f}")
    notes.append(f"engine ceiling: tokenizers with no pre-tokenizer (one WordLevel lookup per text) encodes "
                 f"{floor:.1f} MB/s batch on the same rows")
    print("\n" + "\n".join(f"- {n}" for n in notes))
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    return rows


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m studies.tokenizer_bench", description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", type=Path, default=corpus.DEFAULT_ROOT)
    ap.add_argument("--fit-rows", type=int, default=20_000)
    ap.add_argument("--eval-rows", type=int, default=20_000)
    ap.add_argument("--fuzz", type=int, default=2_000)
    ap.add_argument("--only", nargs="*", choices=list(candidates.CANDIDATES))
    ap.add_argument("--json", type=Path, default=Path("build/tokenizer_bench.json"))
    args = ap.parse_args(argv)
    run(args.datasets, args.fit_rows, args.eval_rows, args.fuzz, args.only, args.json)
