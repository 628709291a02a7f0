"""`make tokenizer`: train the chosen candidate on the corpus and save the folder the Hub repo ships.

Why the config is patched after `save_pretrained`: the folder must load two ways. `tokenizer_class` is set to
`PreTrainedTokenizerFast` (a class transformers has), so `AutoTokenizer.from_pretrained(folder)` works without
remote code; `auto_map` points at `tokenization_genomicllm.GenomicLLMTokenizerFast` (copied next to it), which
`trust_remote_code=True` picks instead. Both read the same `tokenizer.json`, so they tokenize identically.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from . import candidates, corpus, pipeline
from .tokenization_genomicllm import GenomicLLMTokenizerFast

DEFAULT_CANDIDATE = "char"  # one token per base: what the position streams need (tokenizer/README.md, "The pick now")
DEFAULT_OUT = Path("build/tokenizer")
AUTO_MAP = {"AutoTokenizer": [None, "tokenization_genomicllm.GenomicLLMTokenizerFast"]}


def save(tok, out: Path) -> Path:
    """Save a hybrid tokenizer (built with cls=GenomicLLMTokenizerFast) as a two-way loadable folder."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    tok.register_for_auto_class("AutoTokenizer")
    tok.save_pretrained(out)
    config_path = out / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config["auto_map"] = AUTO_MAP
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    code = out / "tokenization_genomicllm.py"
    if not code.exists():  # save_pretrained copies it for registered classes; make sure
        shutil.copy(Path(__file__).with_name(code.name), code)
    return out


def build(name: str = DEFAULT_CANDIDATE, texts: list[str] | None = None, out: Path = DEFAULT_OUT,
          root: Path = corpus.DEFAULT_ROOT, n_fit: int = 20_000, answers_apart: bool = False) -> Path:
    """`answers_apart`: the same vocabulary, answers cut as the prompt's values (`rule.split_pattern`)."""
    if texts is None:
        texts, _ = corpus.fit_and_eval(root, n_fit=n_fit, n_eval=0)
    spec = candidates.CANDIDATES[name]
    if spec.scheme == "spm":
        raise ValueError("spm512 is the baseline; it is built by the benchmark, not shipped")
    tok = candidates.build_candidate(name, texts, cls=GenomicLLMTokenizerFast)
    if answers_apart:
        tok.backend_tokenizer.pre_tokenizer = pipeline.pre_tokenizer(spec.scheme, spec.k, answers_apart=True)
    return save(tok, out)


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tokenizer build", description=__doc__.splitlines()[0])
    ap.add_argument("--candidate", default=DEFAULT_CANDIDATE,
                    choices=[c for c in candidates.CANDIDATES if c != "spm512"])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--datasets", type=Path, default=corpus.DEFAULT_ROOT, help="folder with built datasets")
    ap.add_argument("--rows", type=int, default=20_000, help="training rows (train splits, spread over configs)")
    ap.add_argument("--answers-apart", action="store_true",
                    help="cut answers as the prompt's values (for the field position streams; rule.split_pattern)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = build(args.candidate, out=args.out, root=args.datasets, n_fit=args.rows, answers_apart=args.answers_apart)
    print(f"tokenizer {args.candidate} -> {out} ({time.perf_counter() - t0:.1f} s)")
