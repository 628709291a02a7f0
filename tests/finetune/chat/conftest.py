"""A SmolLM2-shaped stand-in for the chat tests: byte-level BPE with the ChatML specials (pad = eos) and a 2-layer
tied-embedding Llama, saved as a converted base folder (the conversion marker included)."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
import torch

from assistant.chat import TEMPLATE
from assistant.tools import Toolbox
from finetune.chat import chat_templates as T
from tasks.paths import CHAT_BASE_MARKER


def write_tiny_smollm(out: Path, texts: list[str], vocab_size: int, chat_template: str, extra_rows: int = 0) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator([*texts, string.printable],
                            trainers.BpeTrainer(vocab_size=vocab_size,
                                                special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                  pad_token="<|im_end|>", unk_token="<|endoftext|>")
    tok.chat_template = chat_template
    tok.save_pretrained(out)
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=len(tok) + extra_rows, hidden_size=32, intermediate_size=64,
                                 num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                                 tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                 pad_token_id=tok.pad_token_id)).save_pretrained(out)
    (out / CHAT_BASE_MARKER).write_text(json.dumps({"source": "tiny random test model"}))
    return out


@pytest.fixture(scope="session")
def tiny_smollm(tmp_path_factory):
    """`tiny_smollm(name, texts, vocab_size, chat_template, extra_rows=0)` -> a base folder."""
    return lambda name, *args, **kw: write_tiny_smollm(tmp_path_factory.mktemp(name), *args, **kw)


@pytest.fixture(scope="session")
def tiny_chat(tiny_smollm):
    """A SmolLM2-shaped stand-in with the assistant's template."""
    texts = [TEMPLATE, *T.SYSTEM.split(), *Toolbox.NAMES, '<tool_call>{"name": "'] * 3
    return tiny_smollm("tiny_chat", texts, 400, TEMPLATE)


@pytest.fixture(scope="module")
def corpus_root(small_corpus):
    return small_corpus.parent
