"""Is reading comprehension blocked by the tokenizer? (issue 15)

The shipped model answers 0.20 of reading-comprehension questions (test) and on dev it copies nothing: it writes a
plausible coordinate (` 33173444`) or the commonest symbol (` RP1-141P`) whatever the record says. The shipped
tokenizer makes copying a field a *translation*, not a copy:

    prompt  ..., end=249498, strand=+, biotype=lncRNA, ...    ->  '=', '2', '4', ... ; '=+,' ; '=', 'lnc', 'RNA'
    answer  ... = 249498 / + / lncRNA                         ->  ' 2', '4', ... ; ' +' ; ' l', 'nc', 'RNA'

the answer's first token is the space-led twin of the value's first token (or a different cut of it), and `=+,`
is one token; an induction head ("write the token that followed the last copy of my current token") cannot start.

Two pre-tokenizers over the same vocabulary:
- `spaced` never lets a word take the space before it and cuts punctuation one character at a time (` =` keeps its
  space: it is the answer marker). Every answer token of a field is then the value's own token (not the strand's
  ` +`), but every text word of every prompt is cut anew (` what` -> ` `, `w`, `hat`).
- `after_equals` cuts punctuation one character at a time, and a space that follows `=` stays apart from what comes
  next (a lookbehind). Prompts keep their words (` what`, ` GC`, ` content`); only what follows ` = ` changes, and
  that is where answers are: ` = 249498` -> ` `, `2`, `4`, ... as `end=249498` -> `=`, `2`, `4`, ...; every field's
  answer is a token-for-token copy of its value, the strand's included.

Each candidate continues the shipped model for `--budget` process CPU-seconds on reading comprehension alone (its
train rows and the field crops), one thread each, two side by side, and is scored on dev.

    python -m studies.copy_tokens --budget 600     # -> studies/results/copy_tokens.{md,json}
"""

from __future__ import annotations

import argparse
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from finetune.evaluation.evaluate import main_metric
from tokenizer import rule

from .runs import SHIPPED, focus_config, shipped_model, shipped_start, train_and_read
from .tables import STREAMS_HEADER, streams_cells, with_earlier_rows, write_results

OUT = Path("build/studies/copy_tokens")
TABLE = Path("studies/results/copy_tokens")
SOURCES = ["GenomicLLM_GRCh38/reading_comprehension"]
WORD_WITH_SPACE = "| ?(?!(?:"  # pass 1's word alternative: an optional leading space, then a non-run word
PUNCT_RUN = r"| ?[^\s\p{L}\p{N}\p{M}]+"  # pass 1's punctuation alternative: a run of punctuation
SPACED = ("|(?!(?:", r"| ?[^\s\p{L}\p{N}\p{M}]")  # pass 1's (word, punctuation) alternatives in `spaced`


def variant_tokenizer(source: Path, out: Path, variant: str) -> Path:
    """A copy of the tokenizer at `source` with `variant`'s pass 1: `after_equals` is the rule's own
    (`rule.split_pattern(..., answers_apart=True)`), `spaced` edits the word and punctuation alternatives."""
    shutil.copytree(source, out, dirs_exist_ok=True)
    spec = json.loads((out / "tokenizer.json").read_text())
    split = spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]
    if split["Regex"] != rule.split_pattern("char"):
        raise ValueError(f"{source}: pass 1 is not the rule's per-base pattern; the tokenizer rule changed")
    if variant == "after_equals":
        split["Regex"] = rule.split_pattern("char", answers_apart=True)
    for old, new in zip((WORD_WITH_SPACE, PUNCT_RUN), SPACED if variant == "spaced" else ()):
        split["Regex"] = split["Regex"].replace(old, new)
    (out / "tokenizer.json").write_text(json.dumps(spec, ensure_ascii=False))
    return out


FIELD_HEADS = {1: "field", 7: "field_key"}  # heads given the field streams: a token head and a codon head
CANDIDATES = {  # name -> (tokenizer variant, or None for the shipped one; whether heads read the field streams)
    "shipped": (None, False),
    "spaced": ("spaced", False),
    # trained after the field crops got their length curriculum (short windows first: ~3x the questions per
    # CPU-second); `shipped` and `spaced` were trained before it (windows of 30 nt up to the whole record)
    "after_equals_short": ("after_equals", False),
    "after_equals_fields_short": ("after_equals", True),
}


@cache  # built once in main, before two candidates race for it
def tokenizer(variant: str | None) -> Path:
    return SHIPPED if variant is None else variant_tokenizer(SHIPPED, OUT / f"tokenizer_{variant}", variant)


def config(start: Path, variant: str | None, fields: bool, budget: float) -> dict:
    return focus_config(start, SOURCES, ["reading_comprehension"], budget, seed=3,
                        model=shipped_model(FIELD_HEADS if fields else None),
                        tokenizer=str(tokenizer(variant)), source_weights={"crops/reading_comprehension": 4.0})


def run(name: str, start: Path, budget: float, rows: int) -> dict:
    cfg = config(start, *CANDIDATES[name], budget)
    last, results = train_and_read(OUT / f"{name}-{budget:.0f}s", cfg, rows, SOURCES)
    result, = results.values()
    return {"candidate": name, "budget": budget, "tokenizer": cfg["tokenizer"],
            "position_streams": cfg["model"]["position_streams"], "cpu_s": round(last["cpu_s"], 1),
            "steps": last["step"], "tokens": last["tokens"], "dev": result["ours"][main_metric(result["task"])]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", type=float, default=600.0, help="process CPU-seconds per candidate")
    p.add_argument("--rows", type=int, default=200, help="dev rows")
    p.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    args = p.parse_args(argv)
    start = shipped_start(OUT)
    for variant in {CANDIDATES[name][0] for name in args.candidates}:
        tokenizer(variant)
    with ThreadPoolExecutor(2) as pool:
        fresh = list(pool.map(lambda name: run(name, start, args.budget, args.rows), args.candidates))
    rows = with_earlier_rows(TABLE, fresh, list(CANDIDATES))
    lines = [STREAMS_HEADER + " reading comprehension (dev exact) |", "|---|---|---|---|---|---|"]
    lines += [streams_cells(r) + f" {r['dev']:.3f} |" for r in rows]
    write_results(TABLE, rows,
                  f"Reading comprehension alone (train rows + field crops) from the shipped model, one thread each, "
                  f"two side by side; {args.rows} dev rows (`python -m studies.copy_tokens --budget B "
                  f"--candidates ...`).\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
