"""config.json's text: the model's own writing (`GenomicLLMConfig.to_json_string`) and every fitting step's
(`finetune.training.folder_config.edited_config`) put a list of numbers on one line, keep every value, and a printed
config shows a head's weights by their shape."""

from __future__ import annotations

import json
import random

import pytest

from finetune.training.folder_config import edited_config
from modeling.configuration_genomicllm import GenomicLLMConfig, config_text
from modeling.modeling_genomicllm import GenomicLLMForCausalLM


def heads_config() -> GenomicLLMConfig:
    rng = random.Random(0)
    weight = [[round(rng.uniform(-50, 50), 6) for _ in range(40)] for _ in range(2)]
    return GenomicLLMConfig(vocab_size=52, hidden_size=32, intermediate_size=64, num_layers=2, num_attention_heads=4,
                            max_position_embeddings=64, label_heads={"promoter": {
                                "weight": weight, "bias": [0.0, 1.25], "features": ["last"], "rows": 40}})


def test_text_is_transformers_json_but_for_lists_of_plain_values():
    plain = {"b": {"z": 1, "a": "x", "e": {}}, "a": [{"k": None}], "c": [], "d": 1.5e-07,
             "id2label": {10: "c", 2: "b", 0: "a"}}
    assert config_text(plain) == json.dumps(plain, indent=2, sort_keys=True) + "\n"
    nested = {"w": [[1, -2.5], [3e-07, 4]], "f": ["last", "kmers:3-6"], "t": [True, None]}
    text = config_text(nested)
    assert json.loads(text) == nested
    assert '  "w": [\n    [1, -2.5],\n    [3e-07, 4]\n  ]' in text
    assert '"f": ["last", "kmers:3-6"]' in text and '"t": [true, null]' in text


def test_saved_config_keeps_every_weight_one_row_a_line(tmp_path):
    config = heads_config()
    GenomicLLMForCausalLM(config).save_pretrained(tmp_path)
    text = (tmp_path / "config.json").read_text()
    assert len(text.splitlines()) < 200  # the 80 weights would take 80 lines as transformers writes them
    assert json.loads(text)["label_heads"] == config.label_heads
    again = GenomicLLMConfig.from_pretrained(tmp_path)
    assert again.label_heads == config.label_heads and again.to_json_string() == config.to_json_string()


def test_printed_config_shows_weights_by_shape():
    shown = repr(heads_config())
    assert '"weight": "<2 x 40 numbers>"' in shown and '"bias": [0.0, 1.25]' in shown
    assert str(heads_config().label_heads["promoter"]["weight"][0][0]) not in shown


def test_edited_config_writes_as_the_model_and_keeps_the_file_on_error(tmp_path):
    heads_config().save_pretrained(tmp_path)
    before = (tmp_path / "config.json").read_text()
    with edited_config(tmp_path) as config:
        config["label_heads"]["promoter"]["rows"] = 41
    after = (tmp_path / "config.json").read_text()
    assert json.loads(after)["label_heads"]["promoter"]["rows"] == 41
    assert after == config_text(json.loads(after)) and after != before
    with pytest.raises(RuntimeError, match="stop"):
        with edited_config(tmp_path) as config:
            config["label_heads"] = None
            raise RuntimeError("stop")
    assert (tmp_path / "config.json").read_text() == after
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
