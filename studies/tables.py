"""Where a study's results land: `<table>.json` (the rows, for the next study to read) and `<table>.md` (what a reader
sees, committed under studies/results/), the markdown also printed."""

from __future__ import annotations

import json
from pathlib import Path


def mean_mcc_line(means: dict[str, list[float]]) -> str:
    """The sentence under a readings table: each reading's mean over the MCC benchmarks (`means`: reading -> MCCs)."""
    n = len(next(iter(means.values()), []))
    return (f"Mean MCC over the {n} MCC benchmarks: "
            + ", ".join(f"{k} **{sum(v) / max(len(v), 1):.3f}**" for k, v in means.items()) + ".")


def write_results(table: Path, data, markdown: str) -> None:
    table.parent.mkdir(parents=True, exist_ok=True)
    table.with_suffix(".json").write_text(json.dumps(data, indent=1))
    table.with_suffix(".md").write_text(markdown)
    print(markdown)


def with_earlier_rows(table: Path, fresh: list[dict], candidates: list[str]) -> list[dict]:
    """`fresh` plus the rows of `table`.json from earlier invocations (other candidates, other budgets: a learning
    curve, one invocation per point), a fresh row replacing an earlier one of the same candidate and budget; sorted
    by budget, then by the order of `candidates`."""
    kept = json.loads(table.with_suffix(".json").read_text()) if table.with_suffix(".json").is_file() else []
    done = {(r["candidate"], r["budget"]) for r in fresh}
    rows = [r for r in kept if (r["candidate"], r["budget"]) not in done] + fresh
    return sorted(rows, key=lambda r: (r["budget"], candidates.index(r["candidate"])))


STREAMS_HEADER = "| candidate | heads' streams | CPU-s | steps | tokens |"


def streams_cells(row: dict) -> str:
    """The cells of `STREAMS_HEADER` for a candidate's row (a run of studies.runs.train_and_read)."""
    return (f"| {row['candidate']} | {' '.join(row['position_streams'])} | {row['cpu_s']:.0f} | {row['steps']} | "
            f"{row['tokens']:,} |")
