"""The weights file at half precision (`config.stored_dtype`): `save_pretrained` stores float16, the tied output
layer once, a weight float16 cannot hold as computed; `from_pretrained` gives float32 weights equal to the rounded
ones, so the reloaded model answers as the rounded model does."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModelForCausalLM

from modeling.configuration_genomicllm import GenomicLLMConfig
from modeling.modeling_genomicllm import GenomicLLMForCausalLM, stored_weights


def tiny(stored_dtype: str | None) -> GenomicLLMForCausalLM:
    torch.manual_seed(0)
    config = GenomicLLMConfig(vocab_size=52, hidden_size=32, intermediate_size=64, num_layers=2, num_attention_heads=4,
                              max_position_embeddings=64, conv_kernel_size=4, stored_dtype=stored_dtype)
    return GenomicLLMForCausalLM(config).eval()


def file_dtypes(folder) -> dict[str, str]:
    with safe_open(folder / "model.safetensors", "pt") as f:
        return {k: str(f.get_slice(k).get_dtype()) for k in f.keys()}


def test_half_precision_file_loads_as_the_rounded_float32_model(tmp_path):
    model = tiny("float16")
    with torch.no_grad():
        model.model.layers[0].mlp.up_proj.weight[0, 0] = 1e5  # beyond float16: this tensor stays float32
    model.save_pretrained(tmp_path / "half")
    tiny(None).save_pretrained(tmp_path / "full")
    dtypes = file_dtypes(tmp_path / "half")
    assert "lm_head.weight" not in dtypes and "model.embed_tokens.weight" in dtypes  # tied: stored once
    assert dtypes.pop("model.layers.0.mlp.up_proj.weight") == "F32"
    assert set(dtypes.values()) == {"F16"} and set(file_dtypes(tmp_path / "full").values()) == {"F32"}
    half = (tmp_path / "half" / "model.safetensors").stat().st_size
    assert half < 0.6 * (tmp_path / "full" / "model.safetensors").stat().st_size

    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "half", trust_remote_code=True).eval()
    assert loaded.config.stored_dtype == "float16" and all(p.dtype == torch.float32 for p in loaded.parameters())
    assert loaded.lm_head.weight.data_ptr() == loaded.model.embed_tokens.weight.data_ptr()
    kept = stored_weights(model.state_dict(), "float16")
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor, kept[name].float()), name
    assert loaded.model.layers[0].mlp.up_proj.weight[0, 0] == 1e5
    ids = torch.randint(4, 52, (2, 20))
    with torch.no_grad():
        model.load_state_dict({k: v.float() for k, v in kept.items()})
        assert torch.allclose(loaded(input_ids=ids).logits, model(input_ids=ids).logits, atol=1e-6)


def test_an_unknown_stored_dtype_is_refused():
    with pytest.raises(ValueError, match="stored_dtype"):
        GenomicLLMConfig(hidden_size=32, num_attention_heads=4, stored_dtype="float8")
