"""GenomicLLM: a small Llama-2 style decoder for prompts that mix plain language and nucleotide sequence.

One readable file in the spirit of nanoGPT / transformers' ``modeling_llama.py``:

    token ids ──► embed_tokens (+ optional DNA/text segment vector) (+ optional k-mer embedding)
              ──► num_layers x [ (x + ShortConv(RMSNorm(x))) ; x + Attn(RMSNorm(x)) ; x + SwiGLU(RMSNorm(x)) ]
              ──► RMSNorm ──► lm_head (tied to embed_tokens)

The short gated causal convolution (LFM2's operator, ``conv_kernel_size > 0``) gives every token its neighbours
before attention. Attention uses rotary position embeddings (RoPE), optionally per head on run-relative position
streams (``position_streams``: see ``positions_genomicllm.py``), optional grouped-query attention
(``num_key_value_heads``), a cache (``DynamicCache``: keys/values, and the convolution's last inputs) and runs through
the transformers attention interface, so ``"sdpa"`` (default, ``torch.nn.functional.scaled_dot_product_attention``),
``"eager"`` and, on GPUs that have them, the flash/flex kernels all work without code changes here. Heads on the
``pointer`` stream read only the field a question asks for and write only where it is asked; with ``pointer_copy``
the last layer's first one also copies the token it reads into the answer (``GenomicLLMForCausalLM._copy``). With
an ``aligned_gate`` the answer to a DNA question may also write the prompt base it lies aligned with (from the
run's start or its end), as it is or complemented, a fitted gate choosing (``GenomicLLMForCausalLM._aligned_copy``).
A classification or GC question whose head says how it is asked is answered by that head (``heads_genomicllm.py``,
``GenomicLLMForCausalLM._answer_with_heads``): the task's, or with ``generate(..., head_benchmark="GUE/tf_2")`` the
one fitted on that benchmark alone.

Heads:
- ``GenomicLLMModel`` (``AutoModel``): the backbone; hidden states, and ``pool_hidden_states`` for a masked mean.
- ``GenomicLLMForCausalLM`` (``AutoModelForCausalLM``): the main model, ``generate()`` through ``GenerationMixin``.
- ``GenomicLLMForSequenceClassification`` (``AutoModelForSequenceClassification``): classic fine-tuning head.

Remote code: this file travels with the weights. It imports only torch, transformers and the standard library; the
relative imports are its siblings ``configuration_genomicllm.py``, ``positions_genomicllm.py``,
``heads_genomicllm.py`` and ``kmers_genomicllm.py``, which ``save_pretrained`` copies along.

Shape legend used in comments: B batch, T new tokens in this call, S cached + new tokens (keys/values), D hidden_size,
H query heads, K key/value heads, Hd head_dim, V vocab_size, F intermediate_size, C num_labels, N position streams,
W conv_kernel_size, K k-mer sizes, E kmer_embedding_size, P pointer heads, R asked (or aligned) positions,
A alignments (2: from a run's start, from its end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache, DynamicCache
from transformers.masking_utils import create_causal_mask
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    CausalLMOutputWithPast,
    SequenceClassifierOutputWithPast,
)
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.utils import can_return_tuple, logging

from .configuration_genomicllm import GenomicLLMConfig
from .heads_genomicllm import (
    HeadConv,
    HeadQuestion,
    answers,
    find_questions,
    masked_mean,
    next_token_logits,
    question_features,
    reads_letters,
    reads_runs,
    reread,
    right_padded,
    run_index,
    run_letters,
    with_benchmark_heads,
)
from .kmers_genomicllm import base_table, kmer_ids, table_rows
from .positions_genomicllm import (
    ALIGNMENTS,
    STREAMS,
    aligned_writes,
    field_of,
    field_pointer,
    key_table,
    stream_positions,
    token_table,
)

logger = logging.get_logger(__name__)

if "cache" not in BaseModelOutputWithPast.__dataclass_fields__:  # pragma: no cover - depends on the installed version
    raise ImportError(
        "GenomicLLM's remote code follows the transformers 5.x cache API (`cache=` arguments and outputs, written "
        "against transformers 5.24); the installed transformers is older. "
        "Upgrade with `pip install -U 'transformers>=5,<6'`."
    )


# ---------------------------------------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------------------------------------


class GenomicLLMRMSNorm(nn.Module):
    """Root-mean-square layer norm (no mean subtraction, no bias), computed in float32."""

    def __init__(self, hidden_size: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:  # (..., D) -> (..., D)
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, eps={self.variance_epsilon}"


class GenomicLLMRotaryEmbedding(nn.Module):
    """Rotary position embedding: turns position ids into the (cos, sin) tables the attention layers rotate by.

    ``inv_freq`` is a non-persistent buffer (not in the checkpoint). Models are built on the meta device by
    ``from_pretrained``, so ``GenomicLLMPreTrainedModel._init_weights`` recomputes it with ``compute_inv_freq``.
    """

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("inv_freq", self.compute_inv_freq(config), persistent=False)  # (Hd/2,)

    @staticmethod
    def compute_inv_freq(config: GenomicLLMConfig, device: torch.device | None = None) -> torch.Tensor:
        dim = config.head_dim
        exponents = torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim
        return 1.0 / (config.rope_theta**exponents)

    @torch.no_grad()
    def forward(self, x: torch.Tensor, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # position_ids: (B or 1, [N,] T) -> cos, sin: (B or 1, [N,] T, Hd), in x's dtype. Computed in float32.
        freqs = position_ids[..., None].float() * self.inv_freq.to(device=x.device, dtype=torch.float32)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate queries (B, H, T, Hd) and keys (B, K, T, Hd) by cos/sin (B, T, Hd), or per head (B, H, T, Hd)."""
    if cos.dim() == 3:
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # broadcast over heads
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


class GenomicLLMMLP(nn.Module):
    """SwiGLU feed-forward: down(act(gate(x)) * up(x))."""

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)
        self.act_fn = ACT2FN[config.hidden_act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, F) -> (B, T, D)
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def repeat_kv(hidden_states: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, K, S, Hd) -> (B, K * n_rep, S, Hd): share each key/value head between n_rep query heads."""
    batch, num_kv_heads, seq_len, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_kv_heads, n_rep, seq_len, head_dim)
    return hidden_states.reshape(batch, num_kv_heads * n_rep, seq_len, head_dim)


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference attention in plain PyTorch (``attn_implementation="eager"``); the only one returning weights.

    query (B, H, T, Hd), key/value (B, K, S, Hd), attention_mask: additive float or boolean (B, 1, T, S), or None.
    Returns (B, T, H, Hd) and the weights (B, H, T, S).
    """
    key = repeat_kv(key, module.num_key_value_groups)
    value = repeat_kv(value, module.num_key_value_groups)
    attn_weights = torch.matmul(query, key.transpose(2, 3)) * scaling  # (B, H, T, S)
    if attention_mask is None:  # plain causal: build it here
        q_len, kv_len = query.shape[-2], key.shape[-2]
        attention_mask = torch.ones(q_len, kv_len, dtype=torch.bool, device=query.device).tril(kv_len - q_len)
    if attention_mask.dtype == torch.bool:
        attn_weights = attn_weights.masked_fill(~attention_mask, torch.finfo(attn_weights.dtype).min)
    else:
        attn_weights = attn_weights + attention_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query.dtype)
    attn_weights = nn.functional.dropout(attn_weights, p=dropout, training=module.training)
    attn_output = torch.matmul(attn_weights, value).transpose(1, 2).contiguous()  # (B, T, H, Hd)
    return attn_output, attn_weights


class GenomicLLMAttention(nn.Module):
    """Multi-head (or grouped-query) causal self-attention with RoPE and a KV cache."""

    def __init__(self, config: GenomicLLMConfig, layer_idx: int) -> None:
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.head_dim = config.head_dim
        self.num_key_value_groups = config.num_attention_heads // config.num_key_value_heads
        self.scaling = self.head_dim**-0.5
        self.attention_dropout = config.attention_dropout
        self.is_causal = True  # read by the sdpa / flash integrations

        self.q_proj = nn.Linear(config.hidden_size, config.num_attention_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(config.hidden_size, config.num_key_value_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(config.num_attention_heads * self.head_dim, config.hidden_size, bias=False)
        self.register_buffer("pointer_heads", self.compute_pointer_heads(config), persistent=False)

    @staticmethod
    def compute_pointer_heads(config: GenomicLLMConfig, device: torch.device | None = None) -> torch.Tensor:
        """(H,) bool: the heads on the ``pointer`` stream."""
        streams = config.position_streams or ["token"] * config.num_attention_heads
        return torch.tensor([s == "pointer" for s in streams], dtype=torch.bool, device=device)

    def forward(
        self,
        hidden_states: torch.Tensor,  # (B, T, D)
        position_embeddings: tuple[torch.Tensor, torch.Tensor],  # cos, sin: (B, T, Hd)
        attention_mask: torch.Tensor | None = None,  # from create_causal_mask; None = plain causal
        cache: Cache | None = None,
        pointer: tuple | None = None,  # where pointer heads write, (B, T), what they may read, (B, 1, T, S)
        # (``GenomicLLMModel._pointer_reach``), and a list their attention weights are appended to; None: no pointer
        # heads
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        input_shape = hidden_states.shape[:-1]  # (B, T)
        hidden_shape = (*input_shape, -1, self.head_dim)

        query_states = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)  # (B, H, T, Hd)
        key_states = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)  # (B, K, T, Hd)
        value_states = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)  # (B, K, T, Hd)

        cos, sin = position_embeddings
        query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)

        if cache is not None:  # append this step's keys/values; get back everything seen so far: (B, K, S, Hd)
            key_states, value_states = cache.update(key_states, value_states, self.layer_idx)

        attention_interface: Callable = ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, eager_attention_forward
        )
        attn_output, attn_weights = attention_interface(
            self,
            query_states,
            key_states,
            value_states,
            attention_mask,
            dropout=0.0 if not self.training else self.attention_dropout,
            scaling=self.scaling,
            **kwargs,
        )  # (B, T, H, Hd)
        if pointer is not None:  # pointer heads read the asked field alone and write only where it is asked
            asked, reach, reads = pointer  # reach is None where nothing is asked
            heads = self.pointer_heads
            if reach is not None:
                attn_output = attn_output.clone()
                scores = query_states[:, heads] @ key_states[:, heads].transpose(-1, -2) * self.scaling  # (B,P,T,S)
                weights = torch.softmax(scores.masked_fill(~reach, float("-inf")), dim=-1)
                reads.append(weights)  # what the copy (GenomicLLMForCausalLM) reads from the last layer's
                attn_output[:, :, heads] = (weights @ value_states[:, heads]).transpose(1, 2).to(attn_output.dtype)
            keep = (~heads | asked[..., None]).to(attn_output.dtype)  # (B, T, H)
            attn_output = attn_output * keep[..., None]
        attn_output = attn_output.reshape(*input_shape, -1).contiguous()  # (B, T, H*Hd)
        return self.o_proj(attn_output), attn_weights  # (B, T, D)


class GenomicLLMShortConv(nn.Module):
    """LFM2's gated short convolution: in_proj -> (b, c, x); y = c * causal_depthwise_conv(b * x); out_proj(y).

    Causal with a window of ``conv_kernel_size`` tokens (the current one included); padding tokens (0 in the 2D
    mask) enter as zeros, so a left-padded row gives the same outputs as the unpadded one. With a cache, the last
    inputs are kept per layer (``cache.update_conv_state``), so one-token decoding equals the full forward.
    """

    def __init__(self, config: GenomicLLMConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.kernel_size = config.conv_kernel_size
        self.in_proj = nn.Linear(config.hidden_size, 3 * config.hidden_size, bias=False)
        self.conv = nn.Conv1d(config.hidden_size, config.hidden_size, self.kernel_size, groups=config.hidden_size,
                              bias=False)  # weight (D, 1, W)
        self.out_proj = nn.Linear(config.hidden_size, config.hidden_size, bias=False)

    def forward(
        self,
        hidden_states: torch.Tensor,  # (B, T, D)
        padding_mask: torch.Tensor | None = None,  # (B, S) 1 = token, 0 = padding
        cache: Cache | None = None,
    ) -> torch.Tensor:
        seq_len = hidden_states.shape[1]
        if padding_mask is not None:
            hidden_states = hidden_states * padding_mask[:, -seq_len:, None].to(hidden_states.dtype)
        b, c, x = self.in_proj(hidden_states).transpose(1, 2).chunk(3, dim=1)  # (B, D, T) each
        bx = b * x
        if cache is not None:  # prepend the cached last inputs (prefill: zeros), keep the newest ones
            bx = cache.update_conv_state(bx, self.layer_idx, conv_kernel_size=self.kernel_size)  # (B, D, >= T)
        bx = nn.functional.pad(bx, (self.kernel_size - 1, 0))
        conv = nn.functional.conv1d(bx, self.conv.weight, groups=bx.shape[1])[..., -seq_len:]  # (B, D, T)
        return self.out_proj((c * conv).transpose(1, 2))  # (B, T, D)


class GenomicLLMDecoderLayer(GradientCheckpointingLayer):
    """Pre-norm block: (x + ShortConv(RMSNorm(x))), x + Attn(RMSNorm(x)), then x + MLP(RMSNorm(x)).

    ``GradientCheckpointingLayer`` recomputes the block in the backward pass once
    ``model.gradient_checkpointing_enable()`` is called; ``hidden_states`` must stay the first positional argument.
    """

    def __init__(self, config: GenomicLLMConfig, layer_idx: int) -> None:
        super().__init__()
        self.self_attn = GenomicLLMAttention(config, layer_idx)
        self.mlp = GenomicLLMMLP(config)
        self.input_layernorm = GenomicLLMRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.post_attention_layernorm = GenomicLLMRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        if config.conv_kernel_size:
            self.conv = GenomicLLMShortConv(config, layer_idx)
            self.conv_layernorm = GenomicLLMRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        else:
            self.conv = None

    def forward(
        self,
        hidden_states: torch.Tensor,  # (B, T, D)
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        attention_mask: torch.Tensor | None = None,
        cache: Cache | None = None,
        padding_mask: torch.Tensor | None = None,  # (B, S), for the convolution
        pointer: tuple | None = None,  # for the pointer heads (GenomicLLMAttention)
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.conv is not None:
            hidden_states = hidden_states + self.conv(self.conv_layernorm(hidden_states), padding_mask, cache)
        residual = hidden_states
        hidden_states, attn_weights = self.self_attn(
            self.input_layernorm(hidden_states),
            position_embeddings=position_embeddings,
            attention_mask=attention_mask,
            cache=cache,
            pointer=pointer,
            **kwargs,
        )
        hidden_states = residual + hidden_states
        hidden_states = hidden_states + self.mlp(self.post_attention_layernorm(hidden_states))
        return hidden_states, attn_weights  # (B, T, D)


class GenomicLLMSegmentEmbedding(nn.Module):
    """Optional DNA-vs-text segment vector, read from the token id (``config.dna_token_ids``).

    Returns ``embedding[is_dna[input_ids]]``: (B, T) -> (B, T, D). ``is_dna`` is a non-persistent (V,) buffer
    recomputed in ``_init_weights``. Since the segment is a function of the id, this is a re-parameterisation of the
    token embedding (one vector shared by all nucleotide tokens), not new information; it only changes how fast the
    model can learn a "this is sequence" direction. Off by default: it did not help in the measurements recorded in
    the GenomicLLM repository (modeling/README.md).
    """

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(2, config.hidden_size)
        self.register_buffer("is_dna", self.compute_is_dna(config), persistent=False)

    @staticmethod
    def compute_is_dna(config: GenomicLLMConfig, device: torch.device | None = None) -> torch.Tensor:
        return token_table(config.vocab_size, config.dna_token_ids, device).long()  # (V,) 0/1: the segment index

    def forward(self, input_ids: torch.LongTensor) -> torch.Tensor:
        return self.embedding(self.is_dna[input_ids])


class GenomicLLMKmerEmbedding(nn.Module):
    """The embedding of every k-mer (``config.kmer_sizes``, and per codon phase ``config.phased_kmer_sizes``) ending
    at each base token: (B, S) ids -> (B, T, D).

    One table of ``table_rows`` x E (row 0, "no k-mer", is masked out) summed over the sizes, then ``proj`` (D, E) to
    the residual width. ``proj`` starts at zero, so adding k-mers to a trained model starts from that model's
    function. ``bases`` is a non-persistent (V,) table recomputed in ``_init_weights``.
    """

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__()
        self.sizes = (list(config.kmer_sizes or ()), list(config.phased_kmer_sizes or ()), config.kmer_phase_period)
        self.table = nn.Parameter(torch.empty(table_rows(*self.sizes), config.kmer_embedding_size))  # (rows, E)
        self.proj = nn.Parameter(torch.zeros(config.hidden_size, config.kmer_embedding_size))  # (D, E)
        self.register_buffer("bases", base_table(config.vocab_size, config.kmer_base_token_ids), persistent=False)

    def forward(self, history_ids: torch.LongTensor, seq_len: int) -> torch.Tensor:
        rows = kmer_ids(history_ids, self.bases, *self.sizes)[..., -seq_len:]  # (B, K, T)
        found = (rows > 0).unsqueeze(-1).to(self.table.dtype)  # (B, K, T, 1)
        summed = (nn.functional.embedding(rows, self.table) * found).sum(dim=1)  # (B, T, E)
        return nn.functional.linear(summed, self.proj)  # (B, T, D)


class GenomicLLMPositionStreams(nn.Module):
    """Per-head positions from the token ids (``positions_genomicllm.stream_positions``): (B, S) -> (B, N, S).

    ``is_dna`` / ``is_marker`` / ``is_open`` / ``is_close`` are non-persistent (V,) tables recomputed in ``_init_weights``; ``head_stream`` (H,)
    says which stream each head reads.
    """

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("is_dna", token_table(config.vocab_size, config.dna_token_ids), persistent=False)
        self.register_buffer("is_marker", token_table(config.vocab_size, config.answer_marker_token_ids),
                             persistent=False)
        self.register_buffer("is_open", token_table(config.vocab_size, config.field_open_token_ids), persistent=False)
        self.register_buffer("is_close", token_table(config.vocab_size, config.field_close_token_ids),
                             persistent=False)
        self.register_buffer("key_canon", key_table(config.vocab_size, config.field_key_aliases), persistent=False)
        self.register_buffer("complement_of", key_table(config.vocab_size, config.dna_complement_ids),
                             persistent=False)
        self.register_buffer("head_stream", self.compute_head_stream(config), persistent=False)
        self.pointer = "pointer" in config.position_streams

    @staticmethod
    def compute_head_stream(config: GenomicLLMConfig, device: torch.device | None = None) -> torch.Tensor:
        return torch.tensor([STREAMS.index(s) for s in config.position_streams], dtype=torch.long, device=device)

    def forward(self, input_ids: torch.LongTensor, real: torch.Tensor) -> tuple[torch.LongTensor, torch.Tensor | None]:
        """(B, N, S) positions, and (B, S) where a field is asked (what pointer heads may write) or None."""
        c = self.config
        positions = stream_positions(input_ids, real, self.is_dna, self.is_marker, c.eos_token_id,
                                     c.dna_run_min_tokens, c.far_offset, self.is_open, self.is_close)
        if not self.pointer:  # the pointer stream sits far, as text does
            return torch.cat([positions, c.far_offset + positions[:, :1]], dim=1), None
        pointer, asked = field_pointer(input_ids, real, self.is_marker, c.eos_token_id, c.far_offset, self.is_open,
                                       self.is_close, self.key_canon)
        return torch.cat([positions, pointer[:, None]], dim=1), asked

    def aligned_writes(self, input_ids: torch.LongTensor, real: torch.Tensor) -> torch.LongTensor:
        """(B, 2A, S): the ids the aligned copy may write next (``positions_genomicllm.aligned_writes``), -1: none."""
        c = self.config
        return aligned_writes(input_ids, real, self.is_dna, self.is_marker, c.eos_token_id, c.dna_run_min_tokens,
                              self.complement_of)

    def per_head(self, cos: torch.Tensor, sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, T, Hd) tables -> (B, H, T, Hd): each head gets its stream's."""
        return cos.index_select(1, self.head_stream), sin.index_select(1, self.head_stream)


# ---------------------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------------------


def stored_weights(tensors: dict[str, torch.Tensor], dtype: str | None) -> dict[str, torch.Tensor]:
    """``tensors`` as a weights file stores them: floating ones in ``dtype`` (``config.stored_dtype``), except those
    whose values that type cannot hold (beyond its largest finite value), kept as they are."""
    if not dtype:
        return tensors
    to, cast = getattr(torch, dtype), {}  # tied weights stay one tensor, so the file holds them once
    same = lambda t: (t.data_ptr(), t.shape, t.stride())  # noqa: E731
    for t in tensors.values():
        if t.is_floating_point() and same(t) not in cast and (t.numel() == 0 or t.abs().max() <= torch.finfo(to).max):
            cast[same(t)] = t.detach().to(to)
    return {k: cast.get(same(t), t) if t.is_floating_point() else t for k, t in tensors.items()}


class GenomicLLMPreTrainedModel(PreTrainedModel):
    config_class = GenomicLLMConfig
    config: GenomicLLMConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    _no_split_modules = ["GenomicLLMDecoderLayer"]
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True

    def save_pretrained(self, save_directory, *args, state_dict: dict | None = None, **kwargs):
        """As transformers saves, with the floating weights stored as ``config.stored_dtype`` (float16 halves the
        file); ``from_pretrained`` casts them back to ``config.dtype``. A ``state_dict`` passed in is saved as given."""
        if state_dict is None and self.config.stored_dtype:
            state_dict = stored_weights(self.state_dict(), self.config.stored_dtype)
        return super().save_pretrained(save_directory, *args, state_dict=state_dict, **kwargs)

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """Normal(0, initializer_range) for linear/embedding weights, ones for norms, and the non-persistent buffers
        (rotary ``inv_freq``, segment ``is_dna``) recomputed from the config: models are built on the meta device, so
        a buffer set in ``__init__`` does not survive ``from_pretrained``.

        The ``transformers.initialization`` functions skip tensors already loaded from a checkpoint.
        """
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, (GenomicLLMRMSNorm, nn.RMSNorm)):
            init.ones_(module.weight)
        elif isinstance(module, GenomicLLMRotaryEmbedding):
            init.copy_(module.inv_freq, module.compute_inv_freq(module.config, device=module.inv_freq.device))
        elif isinstance(module, GenomicLLMSegmentEmbedding):
            init.copy_(module.is_dna, module.compute_is_dna(self.config, device=module.is_dna.device))
        elif isinstance(module, GenomicLLMPositionStreams):
            c, device = self.config, module.is_dna.device
            init.copy_(module.is_dna, token_table(c.vocab_size, c.dna_token_ids, device))
            init.copy_(module.is_marker, token_table(c.vocab_size, c.answer_marker_token_ids, device))
            init.copy_(module.is_open, token_table(c.vocab_size, c.field_open_token_ids, device))
            init.copy_(module.is_close, token_table(c.vocab_size, c.field_close_token_ids, device))
            init.copy_(module.key_canon, key_table(c.vocab_size, c.field_key_aliases, device))
            init.copy_(module.complement_of, key_table(c.vocab_size, c.dna_complement_ids, device))
            init.copy_(module.head_stream, module.compute_head_stream(c, device))
        elif isinstance(module, GenomicLLMForCausalLM):
            init.copy_(module.copy_as, module.compute_copy_as(self.config, module.copy_as.device))
            weight, bias = module.compute_aligned_gate(self.config, module.aligned_gate_weight.device)
            init.copy_(module.aligned_gate_weight, weight)
            init.copy_(module.aligned_gate_bias, bias)
        elif isinstance(module, GenomicLLMAttention):
            init.copy_(module.pointer_heads, module.compute_pointer_heads(self.config, module.pointer_heads.device))
        elif isinstance(module, nn.Conv1d):
            init.normal_(module.weight, mean=0.0, std=std)
        elif isinstance(module, GenomicLLMKmerEmbedding):
            init.normal_(module.table, mean=0.0, std=std)
            init.zeros_(module.proj)
            init.copy_(module.bases, base_table(self.config.vocab_size, self.config.kmer_base_token_ids,
                                                module.bases.device))


@dataclass
class GenomicLLMModelOutput(BaseModelOutputWithPast):
    """``BaseModelOutputWithPast`` plus, with pointer heads, what the copy reads: where a field is asked (B, T), the
    last layer's pointer heads' attention (B, P, T, S; None where nothing is asked) and every id so far (B, S); and,
    with the aligned copy, the ids it may write next (B, 2A, T; -1: none; ``aligned_writes``)."""

    pointer: tuple | None = None
    aligned: torch.LongTensor | None = None


class GenomicLLMModel(GenomicLLMPreTrainedModel):
    """The decoder stack without a head: returns the final (normed) hidden states, (B, T, D)."""

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.segment_embed = GenomicLLMSegmentEmbedding(config) if config.use_segment_embedding else None
        self.kmer_embed = GenomicLLMKmerEmbedding(config) if config.uses_kmers else None
        self.layers = nn.ModuleList(
            [GenomicLLMDecoderLayer(config, layer_idx) for layer_idx in range(config.num_layers)]
        )
        self.norm = GenomicLLMRMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = GenomicLLMRotaryEmbedding(config)
        self.position_streams = GenomicLLMPositionStreams(config) if config.uses_streams else None
        self.gradient_checkpointing = False
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    @staticmethod
    def pool_hidden_states(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Masked mean over the sequence: one vector per sequence, (B, T, D) -> (B, D).

        ``attention_mask`` (B, T) has 1 on real tokens and 0 on padding (left or right); padding contributes nothing,
        so a padded row pools to the same vector as the unpadded sequence. Without a mask every position counts.
        A row with no real token pools to zeros. The mean is taken in float32 and cast back.

        Example::

            out = model(**batch)                                   # AutoModel -> GenomicLLMModel
            emb = model.pool_hidden_states(out.last_hidden_state, batch["attention_mask"])   # (B, D)
        """
        if attention_mask is None:
            return hidden_states.float().mean(dim=1).to(hidden_states.dtype)
        return masked_mean(hidden_states, attention_mask[:, -hidden_states.shape[1] :])

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,  # (B, T)
        attention_mask: torch.Tensor | None = None,  # (B, S): 1 = token, 0 = padding (cache positions included)
        position_ids: torch.LongTensor | None = None,  # (B, T)
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,  # (B, T, D)
        use_cache: bool | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        token_type_ids: torch.LongTensor | None = None,  # accepted (the tokenizer returns it) and ignored
        history_ids: torch.LongTensor | None = None,  # (B, S): cached + new ids, for the position streams
        **kwargs,
    ) -> BaseModelOutputWithPast:
        if cache is None:  # the pre-5.x name of the argument
            cache = kwargs.pop("past_key_values", None)
        kwargs.pop("past_key_values", None)
        kwargs.pop("cache_position", None)  # older generate() loops still send it; positions come from the cache
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds")
        output_attentions = output_attentions if output_attentions is not None else self.config.output_attentions
        output_hidden_states = (
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            if use_cache or cache is not None:
                logger.warning_once("Gradient checkpointing: no KV cache (the backward replay would write it twice).")
            use_cache, cache = False, None

        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)  # (B, T, D)
            if self.segment_embed is not None:
                inputs_embeds = inputs_embeds + self.segment_embed(input_ids)
        elif self.segment_embed is not None:
            logger.warning_once("inputs_embeds given: the DNA/text segment embedding is not added (it needs input_ids)")
        if self.kmer_embed is not None:
            if input_ids is None:
                raise ValueError("the k-mer embedding is read from the token ids: pass input_ids, not inputs_embeds")

        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)

        # Refuse what does not fit: never truncate silently, never run RoPE past the trained context.
        past_seen_tokens = cache.get_seq_length() if cache is not None else 0
        seq_len = inputs_embeds.shape[1]
        if past_seen_tokens + seq_len > self.config.max_position_embeddings:
            raise ValueError(
                f"Input too long for GenomicLLM: {past_seen_tokens} cached + {seq_len} new tokens exceed "
                f"max_position_embeddings={self.config.max_position_embeddings}. Shorten the prompt (or "
                f"max_new_tokens); nothing is truncated automatically."
            )

        if self.kmer_embed is not None:
            inputs_embeds = inputs_embeds + self.kmer_embed(self._history(input_ids, history_ids, past_seen_tokens),
                                                            seq_len)

        stream_ids = pointer = aligned = None  # (B, N, T) when heads read position streams; what the copies need
        if self.position_streams is not None:
            stream_ids, pointer, aligned = self._stream_ids(input_ids, history_ids, position_ids, attention_mask,
                                                            past_seen_tokens)
            position_ids = stream_ids[:, 0]  # the ordinary stream
        elif position_ids is None:
            position_ids = self._position_ids(attention_mask, past_seen_tokens, seq_len, inputs_embeds.device)

        causal_mask = create_causal_mask(
            config=self.config,
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            cache=cache,
            position_ids=position_ids,
        )  # None (plain causal, sdpa's is_causal), or a (B, 1, T, S) mask

        hidden_states = inputs_embeds
        if stream_ids is None:
            position_embeddings = self.rotary_emb(hidden_states, position_ids)  # cos, sin: (B, T, Hd)
        else:  # cos, sin: (B, N, T, Hd) -> (B, H, T, Hd)
            position_embeddings = self.position_streams.per_head(*self.rotary_emb(hidden_states, stream_ids))
        padding_mask = attention_mask if attention_mask is not None and attention_mask.dim() == 2 else None
        all_hidden_states = () if output_hidden_states else None
        all_attentions = () if output_attentions else None
        for decoder_layer in self.layers:
            if output_hidden_states:
                all_hidden_states += (hidden_states,)
            hidden_states, attn_weights = decoder_layer(
                hidden_states,
                position_embeddings=position_embeddings,
                attention_mask=causal_mask,
                cache=cache,
                padding_mask=padding_mask,
                pointer=pointer,
                **kwargs,
            )
            if output_attentions:
                all_attentions += (attn_weights,)
        hidden_states = self.norm(hidden_states)  # (B, T, D)
        if output_hidden_states:
            all_hidden_states += (hidden_states,)

        return GenomicLLMModelOutput(
            last_hidden_state=hidden_states,
            cache=cache,
            hidden_states=all_hidden_states,
            attentions=all_attentions,
            pointer=None if pointer is None else (pointer[0], pointer[2][-1] if pointer[2] else None,
                                                  self._history(input_ids, history_ids, past_seen_tokens)),
            aligned=aligned,
        )

    def _stream_ids(self, input_ids, history_ids, position_ids, attention_mask, past_seen_tokens: int):
        """(B, N, T) stream positions of the new tokens, computed over the whole history (cache included), what
        the pointer heads need (``_pointer_reach``; None without them) and the aligned copy's ids (B, 2A, T; None
        without it)."""
        if position_ids is not None:
            if position_ids.dim() != 3 or position_ids.shape[1] != len(STREAMS):
                raise ValueError(f"this model's heads read {len(STREAMS)} position streams: pass position_ids as "
                                 f"(batch, {len(STREAMS)}, tokens), or leave them to the model")
            if self.position_streams.pointer or self.config.aligned_copy:
                raise ValueError("this model reads where a field is asked and what an answer is aligned with from the "
                                 "token ids: leave position_ids to the model")
            return position_ids, None, None
        if input_ids is None:
            raise ValueError("position streams are read from the token ids: pass input_ids, not inputs_embeds")
        seq_len = input_ids.shape[1]
        history_ids = self._history(input_ids, history_ids, past_seen_tokens)
        real = self._real(attention_mask, history_ids)
        positions, asked = self.position_streams(history_ids, real)
        pointer = None  # for the pointer heads: where they write, what they read (None: nothing asked), their reads
        if asked is not None:
            new = asked[:, -seq_len:]
            reach = self._pointer_reach(positions[:, STREAMS.index("pointer")], asked, seq_len) if new.any() else None
            pointer = (new, reach, [])
        aligned = self.position_streams.aligned_writes(history_ids, real)[..., -seq_len:] if self.config.aligned_copy \
            else None
        return positions[..., -seq_len:], pointer, aligned

    def _pointer_reach(self, pointer: torch.LongTensor, asked: torch.Tensor, seq_len: int) -> torch.Tensor:
        """Which keys the new tokens' pointer heads may read, (B, 1, T, S), from the history's pointer stream and
        where a field is asked (B, S): the prompt tokens of their own field (for " =" and the answer: of the asked
        field; never " =" or the answer itself), or, for a query that has none, itself, so that every query has a key
        (what it reads there is never written).
        Within the field, rotary positions on the pointer stream tell the value's tokens apart; without the fence,
        hundreds of keys at other offsets would compete with the one the copy needs."""
        field = field_of(pointer, self.config.far_offset)  # (B, S)
        seq = pointer.shape[1]
        keys = torch.arange(seq, device=pointer.device)
        queries = keys[-seq_len:]
        mine = field[:, -seq_len:, None]  # (B, T, 1)
        causal = keys[None, None, :] <= queries[None, :, None]
        reach = (mine == torch.where(asked, -1, field)[:, None, :]) & (mine >= 0) & causal
        reach |= (keys[None, None, :] == queries[None, :, None]) & ~reach.any(-1, keepdim=True)
        return reach[:, None]

    @staticmethod
    def _history(input_ids: torch.LongTensor, history_ids: torch.LongTensor | None,
                 past_seen_tokens: int) -> torch.LongTensor:
        """Every id so far, (B, S): what the position streams and the k-mers are read from."""
        if history_ids is None:
            if past_seen_tokens:
                raise ValueError("a cached step of a model that reads position streams or k-mers from the ids needs "
                                 "history_ids (all ids so far); generate() passes them")
            return input_ids
        if history_ids.shape[1] != past_seen_tokens + input_ids.shape[1]:
            raise ValueError(f"history_ids holds {history_ids.shape[1]} tokens, the cache {past_seen_tokens} + "
                             f"{input_ids.shape[1]} new")
        return history_ids

    @staticmethod
    def _real(attention_mask: torch.Tensor | None, history_ids: torch.LongTensor) -> torch.Tensor:
        """(B, S) bool: the real tokens of every id so far, from a 2D padding mask that covers them, else all."""
        if attention_mask is not None and attention_mask.dim() == 2 and attention_mask.shape[1] == history_ids.shape[1]:
            return attention_mask.bool()
        return torch.ones_like(history_ids, dtype=torch.bool)

    @staticmethod
    def _position_ids(
        attention_mask: torch.Tensor | None, past_seen_tokens: int, seq_len: int, device: torch.device
    ) -> torch.LongTensor:
        """Positions count real tokens only: with a 2D padding mask a left-padded row gets the same positions (and so
        the same outputs) as the unpadded sequence. Without a mask: past_seen_tokens, ..., past_seen_tokens+T-1."""
        mask_is_2d = attention_mask is not None and attention_mask.dim() == 2
        if mask_is_2d and attention_mask.shape[1] == past_seen_tokens + seq_len:
            position_ids = attention_mask.long().cumsum(-1) - 1  # (B, S)
            return position_ids.clamp(min=0)[:, -seq_len:]  # (B, T); padding gets 0 (it is masked anyway)
        return torch.arange(past_seen_tokens, past_seen_tokens + seq_len, device=device).unsqueeze(0)  # (1, T)


class GenomicLLMForCausalLM(GenomicLLMPreTrainedModel, GenerationMixin):
    """Backbone + tied LM head. ``generate()`` (greedy, sampling, beam, batched left-padded prompts) comes from
    ``GenerationMixin``; the KV cache is a ``DynamicCache``."""

    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}
    _pp_plan = {"lm_head": (["hidden_states"], ["logits"])}

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__(config)
        self.model = GenomicLLMModel(config)
        self.vocab_size = config.vocab_size
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        # the share of the LM's own distribution where a field is asked; the rest copies what pointer heads read
        self.copy_gate = nn.Linear(config.hidden_size, 1) if config.pointer_copy else None
        self.register_buffer("copy_as", self.compute_copy_as(config), persistent=False)
        # where an answer lies aligned with prompt bases: the share of the LM and of each aligned base, as it is or
        # complemented (``_aligned_copy``), a map fitted on the states and kept in the config, like a label head
        gate_weight, gate_bias = self.compute_aligned_gate(config)
        self.register_buffer("aligned_gate_weight", gate_weight, persistent=False)  # (1 + 2A, D)
        self.register_buffer("aligned_gate_bias", gate_bias, persistent=False)  # (1 + 2A,)
        # the heads' motif readers (``config.head_convs``), read by heads that name "conv:<name>" among their features
        self.head_convs = nn.ModuleDict({name: HeadConv.from_spec(config.hidden_size, spec)
                                         for name, spec in (config.head_convs or {}).items()})
        # what a head answered each question, by its ids, for the cached steps that follow (``_answer_with_heads``)
        self._head_answers: dict = {}
        self.post_init()

    @staticmethod
    def compute_aligned_gate(config: GenomicLLMConfig, device: torch.device | None = None) -> tuple:
        """The aligned copy's gate from the config, ((1 + 2A, D), (1 + 2A,)); zeros without one (never read)."""
        gate = config.aligned_gate or {}
        rows = 1 + 2 * ALIGNMENTS
        weight = torch.tensor(gate.get("weight") or [[0.0] * config.hidden_size] * rows, device=device)
        return weight, torch.tensor(gate.get("bias") or [0.0] * rows, device=device)

    @staticmethod
    def compute_copy_as(config: GenomicLLMConfig, device: torch.device | None = None) -> torch.Tensor:
        """(V,) long: the id a copied token is written as (``field_copy_ids``; itself unless listed)."""
        return key_table(config.vocab_size, config.field_copy_ids, device)

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def prepare_inputs_for_generation(self, input_ids: torch.LongTensor, **kwargs):
        """As GenerationMixin's, plus ``history_ids`` (every id so far) for the position streams, which replace
        the plain ``position_ids`` generate() derives from the attention mask, and for the k-mers."""
        model_inputs = super().prepare_inputs_for_generation(input_ids, **kwargs)
        if self.config.reads_history:
            model_inputs["history_ids"] = input_ids
        if self.config.uses_streams:  # the model reads its positions from the ids (generate's are plain ones)
            model_inputs.pop("position_ids", None)
        return model_inputs

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.lm_head = new_embeddings

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,  # (B, T)
        attention_mask: torch.Tensor | None = None,  # (B, S)
        position_ids: torch.LongTensor | None = None,  # (B, T)
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,  # (B, T, D)
        labels: torch.LongTensor | None = None,  # (B, T), -100 = ignored; shifted inside the loss
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,  # 0 = all positions; k = the last k; or explicit indices
        token_type_ids: torch.LongTensor | None = None,  # the tokenizer's prompt/answer marks: accepted, ignored
        history_ids: torch.LongTensor | None = None,  # (B, S) every id so far: position streams in cached steps
        answer_with_heads: bool | None = None,  # False: the LM's logits where a head would answer (None: the config)
        head_benchmark: str | None = None,  # a benchmark whose own head answers its task's questions (GUE/tf_2)
        **kwargs,
    ) -> CausalLMOutputWithPast:
        # `model.generate(**tokenizer(...))` forwards `token_type_ids`; the model does not read them (the answer mask
        # is for building `labels`), but generate() refuses arguments missing from this signature.
        cached = kwargs.get("past_key_values") if cache is None else cache
        heads = self._head_questions(input_ids, attention_mask, cached, history_ids,
                                     labels is None and answer_with_heads is not False, head_benchmark)
        want_states = kwargs.pop("output_hidden_states", None)
        want_states = want_states if want_states is not None else self.config.output_hidden_states
        outputs: BaseModelOutputWithPast = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            history_ids=history_ids,
            return_dict=True,
            output_hidden_states=want_states or (heads is not None and heads[2] == 0),  # a prefill's: features
            **kwargs,
        )
        hidden_states = outputs.last_hidden_state  # (B, T, D)
        slice_indices = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, slice_indices, :])  # (B, T', V)
        if self.copy_gate is not None and outputs.pointer is not None:
            logits = self._copy(logits, hidden_states[:, slice_indices], outputs.pointer, slice_indices)
        if self.config.aligned_copy and outputs.aligned is not None:
            logits = self._aligned_copy(logits, hidden_states[:, slice_indices], outputs.aligned[..., slice_indices])
        if heads is not None:
            logits = self._answer_with_heads(logits, *heads, outputs.hidden_states, slice_indices)
        if not want_states:
            outputs.hidden_states = None

        loss = None
        if labels is not None:
            loss = self.loss_function(logits=logits, labels=labels, vocab_size=self.config.vocab_size, **kwargs)

        return CausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )

    def _copy(self, logits: torch.Tensor, hidden: torch.Tensor, pointer: tuple, kept) -> torch.Tensor:
        """A pointer-generator (See et al., 2017) where a field is asked: log(g p_lm + (1 - g) p_copy), p_copy the
        attention of the last layer's first pointer head summed per id of the keys it reads (written as ``copy_as``
        says: a field's closer as the end of the answer, "=+," as "+"), g = sigmoid(copy_gate(h)). One head copies:
        the others are free to read other offsets for the residual stream without splitting the copy. Log-probabilities
        are logits: greedy decoding and the loss read them as such. Every other position keeps the LM's logits."""
        asked, weights, source_ids = pointer  # (B, T), (B, P, T, S) or None, (B, S)
        if weights is None:
            return logits
        asked, weights = asked[:, kept], weights[:, 0][:, kept]  # (B, T'), (B, T', S)
        rows = asked.nonzero(as_tuple=True)  # (batch, position) of every asked token
        copy = torch.zeros(len(rows[0]), logits.shape[-1], dtype=weights.dtype, device=weights.device)
        copy = copy.scatter_add(1, self.copy_as[source_ids[rows[0]]], weights[rows])  # (R, V)
        gate = torch.sigmoid(self.copy_gate(hidden[rows]))  # (R, 1)
        mixed = torch.log(gate * torch.softmax(logits[rows], dim=-1) + (1 - gate) * copy)
        return logits.index_put(rows, mixed.to(logits.dtype))

    def _aligned_copy(self, logits: torch.Tensor, hidden: torch.Tensor, writes: torch.LongTensor) -> torch.Tensor:
        """Where the aligned copy offers a base (``writes``, (B, 2A, T'): at most one of the four ways, the one the
        answer's bases so far follow alone, ``aligned_writes``; -1 elsewhere): log(g_0 p_lm + g_k [k's base]),
        g = softmax(W h + b) over the LM and the offered way, the gate of ``config.aligned_gate``. A complement, a
        reverse or a reverse complement then needs no attention to find its base, at any length; an answer with no
        bases is offered nothing. Log-probabilities are logits; every other position keeps the LM's."""
        rows = (writes >= 0).any(1).nonzero(as_tuple=True)  # (batch, position)
        if not len(rows[0]):
            return logits
        written = writes.transpose(1, 2)[rows]  # (R, 2A)
        gate = nn.functional.linear(hidden[rows].float(), self.aligned_gate_weight, self.aligned_gate_bias)
        log_gate = torch.log_softmax(offered_only(gate, written), dim=-1)  # (R, 1 + 2A)
        probs = log_gate[:, :1].exp() * torch.softmax(logits[rows].float(), dim=-1)
        probs = probs.scatter_add(1, written.clamp(min=0), log_gate[:, 1:].exp())  # not offered: a share of 0
        return logits.index_put(rows, torch.log(probs).to(logits.dtype))

    def _head_questions(self, input_ids, attention_mask, cache, history_ids, wanted: bool,
                        benchmark: str | None = None) -> tuple | None:
        """(questions, ids so far, cached tokens, real tokens) where this forward writes to a question a head answers
        (``heads_genomicllm.find_questions``; eval mode, no ``labels``, not turned off; a question whose task has a
        head fitted on ``benchmark`` by that one, ``with_benchmark_heads``), else None. A new sequence (nothing
        cached) starts a new generation: what earlier ones answered is forgotten."""
        past = cache.get_seq_length() if cache is not None else 0
        if not past:
            self._head_answers.clear()
        if self.training or not wanted or input_ids is None or not self.config.answers_with_heads:
            return None
        c = self.config
        ids = self.model._history(input_ids, history_ids, past)
        real = self.model._real(attention_mask, ids)
        is_marker = token_table(c.vocab_size, c.answer_marker_token_ids, ids.device)
        questions = with_benchmark_heads(find_questions(c, ids, real, set(c.dna_token_ids), is_marker), benchmark)
        return (questions, ids, past, real) if questions else None

    def _answer_with_heads(self, logits: torch.Tensor, questions: list[HeadQuestion], ids: torch.LongTensor,
                           past: int, real: torch.Tensor, hidden_states: tuple | None, kept) -> torch.Tensor:
        """At every kept position from a head question's " =" on, the head's answer (``heads_genomicllm``: each
        label's tokens at its probability, or the value's digits) as log-probabilities, -inf off it; the LM's logits
        where the answer so far follows none. The head reads the question's states: this forward's own where it
        holds the whole question (a prefill), else the question's alone; and its reverse complement's too where the
        label does not depend on the strand."""
        positions = torch.arange(past, ids.shape[1], device=ids.device)[kept].tolist()  # each kept logit's index
        due = [(q, j, p) for q in questions for j, p in enumerate(positions) if p >= q.marker]
        plans = self._head_plans(list({q.row: q for q, _, _ in due}.values()), ids, real,
                                 hidden_states if past == 0 else None)
        where, rows = [], []
        for q, j, p in due:
            row = next_token_logits(*plans[q.row], ids[q.row, q.marker + 1 : p + 1].tolist(), logits.shape[-1])
            if row is not None:
                where.append((q.row, j))
                rows.append(row)
        if not rows:
            return logits
        index = torch.tensor(where, device=logits.device).T
        return logits.index_put((index[0], index[1]), torch.stack(rows).to(logits.device, logits.dtype))

    @torch.no_grad()
    def _head_plans(self, questions: list[HeadQuestion], ids: torch.LongTensor, real: torch.Tensor,
                    hidden_states: tuple | None) -> dict[int, tuple[list[list[int]], torch.Tensor]]:
        """Each question's answers and their log-probabilities (``heads_genomicllm.answers``), by row, read once per
        generation (kept by the question's ids): the features of those not read yet from the prefill's states, or
        from one batch of the questions alone, and of their reverse complements in one more where the label does
        not depend on the strand, and of their sequences read each other way that decides the label."""
        c = self.config
        asked = {q.row: ids[q.row, : q.marker + 1][real[q.row, : q.marker + 1]] for q in questions}  # no padding
        keys = {q.row: (q.task, q.benchmark, tuple(asked[q.row].tolist())) for q in questions}
        todo = [q for q in questions if keys[q.row] not in self._head_answers]
        if todo:
            if hidden_states is not None:  # a prefill: its own states, up to each question's " ="
                rows = torch.tensor([q.row for q in todo], device=ids.device)
                upto = torch.tensor([q.marker for q in todo], device=ids.device)[:, None]
                mask = real[rows] & (torch.arange(ids.shape[1], device=ids.device) <= upto)
                features = self._features(todo, ids[rows], mask, [h[rows] for h in hidden_states])
            else:
                features = self._features(todo, *right_padded([asked[q.row] for q in todo], c.pad_token_id))
            flip = [i for i, q in enumerate(todo) if q.entry.get("strand_symmetric")]
            for i, f in zip(flip, self._reread_features([todo[i] for i in flip], asked, "reverse_complement")):
                features[i] = (features[i] + f) / 2  # both strands
            readings: dict[int, dict] = {}  # question -> reading -> features
            for name in sorted({r for q in todo for r in q.entry.get("readings") or ()}):
                some = [i for i, q in enumerate(todo) if name in (q.entry.get("readings") or ())]
                for i, f in zip(some, self._reread_features([todo[i] for i in some], asked, name)):
                    readings.setdefault(i, {})[name] = f
            for i, (q, f) in enumerate(zip(todo, features)):
                self._head_answers[keys[q.row]] = answers(q, f, c.eos_token_id, readings.get(i))
        return {q.row: self._head_answers[keys[q.row]] for q in questions}

    def _reread_features(self, questions: list[HeadQuestion], asked: dict, reading: str) -> list[torch.Tensor]:
        """The head features of the same questions (``asked``: each row's own tokens) about their runs read another
        way (``heads_genomicllm.reread``: the reverse complement, backwards, from the second or third base), in one
        batch."""
        if not questions:
            return []
        c = self.config
        device = asked[questions[0].row].device
        complement = key_table(c.vocab_size, c.dna_complement_ids, device) if reading == "reverse_complement" else None
        rows = [reread(asked[q.row], q.run, reading, complement) for q in questions]
        return self._features(questions, *right_padded(rows, c.pad_token_id))

    def _features(self, questions: list[HeadQuestion], ids: torch.LongTensor, mask: torch.Tensor,
                  hidden_states: list | None = None) -> list[torch.Tensor]:
        """Each question's head features (its entry's ``features``, ``question_features``) from a batch's states
        (B, S, D per layer), or from a forward of the batch."""
        if hidden_states is None:
            hidden_states = self.model(input_ids=ids, attention_mask=mask.long(), use_cache=False,
                                       output_hidden_states=True).hidden_states
        base = letters = None
        if any(reads_runs(q.entry.get("features") or ()) for q in questions):
            base = run_index(self.config, ids, mask)
        if any(reads_letters(q.entry.get("features") or ()) for q in questions):
            letters = run_letters(self.config, ids, base)
        return [question_features([h[i : i + 1] for h in hidden_states], mask[i : i + 1],
                                  q.entry.get("features") or ("last",), None if base is None else base[i : i + 1],
                                  self.head_convs, None if letters is None else letters[i : i + 1])[0]
                for i, q in enumerate(questions)]


def offered_only(gate: torch.Tensor, written: torch.Tensor) -> torch.Tensor:
    """The aligned gate's logits (R, 1 + 2A) with the alignments that write nothing (-1 in ``written``, (R, 2A))
    ruled out; the LM's share is always offered."""
    return torch.cat([gate[:, :1], gate[:, 1:].masked_fill(written < 0, float("-inf"))], dim=1)


class GenomicLLMForSequenceClassification(GenomicLLMPreTrainedModel):
    """Backbone + linear head on one summary vector per sequence, logits (B, C).

    The summary (``config.classifier_pooling``) is the hidden state of the last real token (``"last"``, default: in
    a causal model it is the only position that has read the whole input) or the masked mean (``"mean"``). Real tokens
    come from ``attention_mask`` when given, else from ``input_ids != pad_token_id``; left and right padding both work.
    Loss: cross-entropy, MSE when ``num_labels == 1`` (regression), BCE for multi-label (``config.problem_type``).
    """

    def __init__(self, config: GenomicLLMConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = GenomicLLMModel(config)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.score = nn.Linear(config.hidden_size, config.num_labels, bias=False)
        self.post_init()

    @can_return_tuple
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,  # (B, T)
        attention_mask: torch.Tensor | None = None,  # (B, T)
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,  # (B,) class ids, or (B, C) floats for regression / multi-label
        use_cache: bool | None = None,
        token_type_ids: torch.LongTensor | None = None,  # accepted (the tokenizer returns it) and ignored
        **kwargs,
    ) -> SequenceClassifierOutputWithPast:
        outputs: BaseModelOutputWithPast = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            return_dict=True,
            **kwargs,
        )
        hidden_states = outputs.last_hidden_state  # (B, T, D)
        batch_size, seq_len = hidden_states.shape[:2]

        if attention_mask is not None:
            real = attention_mask[:, -seq_len:].to(hidden_states.device, torch.long)  # (B, T)
        elif input_ids is not None and self.config.pad_token_id is not None:
            real = (input_ids != self.config.pad_token_id).to(hidden_states.device, torch.long)
        else:
            real = torch.ones(batch_size, seq_len, dtype=torch.long, device=hidden_states.device)

        if self.config.classifier_pooling == "mean":
            pooled = GenomicLLMModel.pool_hidden_states(hidden_states, real)  # (B, D)
        else:
            positions = torch.arange(seq_len, device=hidden_states.device)
            last_real = (positions * real).argmax(-1)  # (B,): rightmost real token (0 if none)
            pooled = hidden_states[torch.arange(batch_size, device=hidden_states.device), last_real]  # (B, D)
        logits = self.score(self.dropout(pooled))  # (B, C)

        loss = None
        if labels is not None:
            loss = self.loss_function(logits=logits, labels=labels, pooled_logits=logits, config=self.config)

        return SequenceClassifierOutputWithPast(
            loss=loss,
            logits=logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


# `save_pretrained` writes `auto_map` and copies this file (and configuration_genomicllm.py) next to the weights. One
# auto class per model class; the config's `auto_map` lists all four, so any saved head loads through any of them.
GenomicLLMModel.register_for_auto_class("AutoModel")
GenomicLLMForCausalLM.register_for_auto_class("AutoModelForCausalLM")
GenomicLLMForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")

pool_hidden_states = GenomicLLMModel.pool_hidden_states  # also importable as a function

__all__ = [
    "pool_hidden_states",
    "GenomicLLMPreTrainedModel",
    "GenomicLLMModel",
    "GenomicLLMForCausalLM",
    "GenomicLLMForSequenceClassification",
]
