"""A model folder's `config.json`, edited in place by the steps that fit something into it (heads, readers, the
aligned copy's gate, how each head's task is asked), and written as the model itself writes it
(`GenomicLLMConfig.to_json_string`: `config_text`, a list of numbers on one line) so that the file reads the same
whichever step wrote it last.

    with edited_config(folder) as config:
        config["aligned_gate"] = gate
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modeling.configuration_genomicllm import config_text


@contextmanager
def edited_config(folder: Path) -> Iterator[dict]:
    """The folder's config.json as a dict, written back when the block ends without an error (through a temporary
    file, so that an interrupted write leaves the old file whole)."""
    path = Path(folder) / "config.json"
    config = json.loads(path.read_text())
    yield config
    staged = path.with_name(path.name + ".tmp")
    staged.write_text(config_text(config))
    staged.replace(path)
