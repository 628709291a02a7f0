"""Where a study's results land: `<table>.json` (the rows, for the next study to read) and `<table>.md` (what a reader
sees, committed under studies/results/), the markdown also printed."""

from __future__ import annotations

import json
from pathlib import Path


def write_results(table: Path, data, markdown: str) -> None:
    table.parent.mkdir(parents=True, exist_ok=True)
    table.with_suffix(".json").write_text(json.dumps(data, indent=1))
    table.with_suffix(".md").write_text(markdown)
    print(markdown)
