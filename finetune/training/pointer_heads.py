"""Pointer heads: attention heads on the ``pointer`` position stream, added to a trained GenomicLLM and trained alone.

Why: reading comprehension ("symbol=PSMF1, chromosome=20, start=1093906, ..., what is the start? =") asks the model
to copy a field's value out of the prompt. Five CPU-hours of the whole mixture left the model writing values that
look right and copy nothing (test exact match 0.20): with ordinary positions, "the value of the field the question
names" lies at no fixed distance, the same problem the run-relative streams solved for bases. The ``pointer`` stream
(``modeling/positions_genomicllm.py``) puts each token of the asked field's value at a constant offset from the answer
token that copies it, so one head per layer can learn the copy as a fixed-offset read. The last layer's first pointer
head also copies directly (``pointer_copy``, a pointer-generator): where a field is asked, the next-token distribution
mixes the LM's with the ids that head reads, so a copy needs only the right attention, not a value-to-logit map learnt
through the frozen layers above.

The heads write only where a question asks for a field, and everything the model had is frozen, so every other prompt
gets exactly the logits it got before (tested; the copy too acts only where a field is asked): no replay of the other
tasks, and the label and value heads fitted on the old states stay valid. The new heads' query/key/value rows start
random and their output columns at zero, the copy gate at one half (the grown model starts as the old one everywhere
but where a field is asked); only those rows and columns and the gate learn (the others' gradients are masked to zero,
and weight decay must be 0 so that masked weights stay as they are).
"""

from __future__ import annotations

import torch

from modeling.configuration_genomicllm import GenomicLLMConfig
from modeling.modeling_genomicllm import GenomicLLMAttention

POINTER = "pointer"
ATTENTION_IN = ("q_proj", "k_proj", "v_proj")  # their rows are heads
ATTENTION_OUT = "o_proj"  # its columns are heads


def grown_config(config: GenomicLLMConfig, heads: int, token_ids: dict[str, list]) -> GenomicLLMConfig:
    """`config` with `heads` more query heads per layer on the pointer stream; `token_ids`: the field openers,
    closers and key aliases the stream reads (``train.stream_token_ids``)."""
    if heads < 1:
        raise ValueError(f"pointer heads: add at least one per layer, got {heads}")
    if config.position_streams is None:
        raise ValueError("pointer heads go on a model whose heads read position streams (position_streams is None)")
    values = config.to_dict()
    for key in ("architectures", "transformers_version", "model_type"):
        values.pop(key, None)
    total = config.num_attention_heads + heads
    values.update(num_attention_heads=total, num_key_value_heads=total, pointer_copy=True,
                  position_streams=list(config.position_streams) + [POINTER] * heads, **token_ids)
    return GenomicLLMConfig(**values)


@torch.no_grad()
def grow(model, heads: int, token_ids: dict[str, list], seed: int = 0):
    """A copy of `model` with `heads` pointer heads more per layer: the same function until they learn (their output
    columns start at zero), its config (label and value heads included) carried over."""
    cls, old = type(model), model.config
    torch.manual_seed(seed)
    grown = cls(grown_config(old, heads, token_ids))
    kept = old.num_attention_heads * old.head_dim
    state = grown.state_dict()
    for name, value in model.state_dict().items():
        if name not in state:
            raise KeyError(f"{name}: not in the grown model")
        if state[name].shape == value.shape:
            state[name] = value
        elif name.endswith(tuple(f"{p}.weight" for p in ATTENTION_IN)):
            state[name][:kept] = value  # the new rows keep their random start
        elif name.endswith(f"{ATTENTION_OUT}.weight"):
            state[name].zero_()
            state[name][:, :kept] = value
        else:
            raise ValueError(f"{name}: {tuple(value.shape)} -> {tuple(state[name].shape)} is not a head's weight")
    for name in ("copy_gate.weight", "copy_gate.bias"):  # the gate starts at 1/2: half LM, half copy
        state[name].zero_()
    grown.load_state_dict(state)
    return grown


def train_only_pointer_heads(model) -> list[torch.nn.Parameter]:
    """Freeze everything but the pointer heads' rows and columns and the copy gate; returns the parameters that still
    learn (the attention weights' other rows and columns get zero gradients)."""
    pointer = GenomicLLMAttention.compute_pointer_heads(model.config)
    if not pointer.any():
        raise ValueError("the model has no pointer heads to train")
    rows = pointer.repeat_interleave(model.config.head_dim)  # (H * Hd,) the pointer heads' rows
    trainable = []
    for name, param in model.named_parameters():
        part = name.rsplit(".", 2)[-2] if name.endswith(".weight") else ""
        if name.startswith("copy_gate."):
            trainable.append(param)
            continue
        if part in ATTENTION_IN:
            mask = rows[:, None].to(param.dtype).expand_as(param).clone()
        elif part == ATTENTION_OUT:
            mask = rows[None, :].to(param.dtype).expand_as(param).clone()
        else:
            param.requires_grad_(False)
            continue
        param.register_hook(lambda grad, mask=mask: grad * mask.to(grad.device))
        trainable.append(param)
    return trainable
