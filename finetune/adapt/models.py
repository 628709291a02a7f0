"""What a user's task trains, and how it is saved: a peft LoRA over GenomicLLM (default) or every weight (`full`),
on the causal LM (`lm`: the label is answered as text, in the grammar) or on the sequence-classification head
(`head`: `AutoModelForSequenceClassification`, class probabilities from a linear layer on the last token).

LoRA targets every attention and MLP projection the model has (q/k/v/o, gate/up/down, and the short convolution's
in/out projections in configs that have one), found from the model's own Linear layers, not from a fixed list.
With the head, peft also trains and saves the new `score` layer (`modules_to_save`).

Checkpoints hold the trainable weights only (safetensors): the LoRA matrices (+ head), or the whole model (`full`).
The final folder is what users load: `adapter_config.json` + `adapter_model.safetensors` (LoRA), or a model folder
with the remote code (`full`); the tokenizer beside it either way.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from modeling.inference import load_model, without_heads
from modeling.release import keep_tokenizer_class, sha256
from tasks.paths import SHIPPED_MODEL

MODES = ("lora", "full")
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "in_proj", "out_proj")
SHAPE_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_attention_heads",
              "num_key_value_heads", "max_position_embeddings")


def target_modules(model) -> list[str]:
    """The projection names of the model's Linear layers that LoRA adapts (the LM head and the score are not)."""
    found = sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                    if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in PROJECTIONS})
    if not found:
        raise ValueError(f"no Linear layers named {', '.join(PROJECTIONS)} in {type(model).__name__}")
    return found


def load_base(base: str | Path, objective: str, labels: tuple[str, ...], revision: str | None = None):
    """(tokenizer, model) of the base release folder or Hub id: the causal LM (without the base's label and value
    heads: they read the base's states, and `generate` would answer a task of the same phrase with them), or the
    classification head with one output per label (freshly initialised)."""
    tok, model = load_model(base, revision)
    without_heads(model)
    if objective == "head":
        from transformers import AutoModelForSequenceClassification

        where = model.name_or_path
        del model
        model = AutoModelForSequenceClassification.from_pretrained(
            where, revision=revision, trust_remote_code=True, num_labels=len(labels),
            id2label=dict(enumerate(labels)), label2id={lab: i for i, lab in enumerate(labels)})
    return tok, model


def wrap(model, mode: str, objective: str, r: int, alpha: int, dropout: float, seed: int):
    """The model to train: a fresh LoRA (peft) over the base, or the base itself with every weight trainable."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}")
    torch.manual_seed(seed)
    if mode == "full":
        model.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules(model),
                        task_type="SEQ_CLS" if objective == "head" else "CAUSAL_LM")
    with warnings.catch_warnings():  # peft asks transformers a deprecated question (is_gradient_checkpointing)
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, config)


def trainable_state(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().contiguous().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_weights(model, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(trainable_state(model), str(path))


def load_weights(model, path: Path) -> None:
    """Put saved trainable weights back (the rest of the model is the base, unchanged)."""
    result = model.load_state_dict(load_file(str(path)), strict=False)
    if result.unexpected_keys:
        raise ValueError(f"{path}: weights this model does not have, e.g. {result.unexpected_keys[:3]}")


def base_facts(base: str | Path, model) -> dict:
    """What an adapter records of its base: the shape (a LoRA loads only onto the same shape) and, for a local
    folder, the weights' sha256 (another base of the same shape gives different answers)."""
    config = model.config
    facts = {"location": str(base), "shape": {k: getattr(config, k, None) for k in SHAPE_KEYS}}
    weights = Path(base) / "model.safetensors"
    if weights.is_file():
        facts["weights_sha256"] = sha256(weights)
    return facts


def base_hub_id(base: str | Path, explicit: str | None = None) -> str:
    """The base as the card and adapter_config.json name it: `explicit`, a Hub id as given, the shipped model as
    `<$HF_NAMESPACE or genomicllm>/GenomicLLM`, else the folder path (say --base-id to name its Hub repo)."""
    if explicit:
        return explicit
    if Path(base).expanduser().is_dir():
        if Path(base).expanduser().resolve() == SHIPPED_MODEL.resolve():
            return f"{os.environ.get('HF_NAMESPACE') or 'genomicllm'}/GenomicLLM"
        return str(base)
    return str(base)


def export(model, tok, folder: Path, mode: str, base_id: str) -> list[str]:
    """Write the final model into `folder`; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    (folder / "README.md").unlink(missing_ok=True)  # peft's empty template: the card is hub.adapter_card's
    if mode == "lora":
        path = folder / "adapter_config.json"
        config = json.loads(path.read_text())
        config["base_model_name_or_path"] = base_id  # a Hub id, not this machine's path
        path.write_text(json.dumps(config, indent=2) + "\n")
    tok.save_pretrained(folder)
    keep_tokenizer_class(folder, Path(tok.name_or_path))  # loads with and without remote code, as the base does
    return sorted(p.name for p in folder.iterdir() if p.is_file())


__all__ = ["MODES", "PROJECTIONS", "base_facts", "base_hub_id", "export", "load_base", "load_weights",
           "save_weights", "target_modules", "trainable_state", "wrap"]
