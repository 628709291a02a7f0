"""GenomicLLM model configuration.

Remote code: this file travels with the weights (``trust_remote_code=True``). It imports only the standard library and
``transformers``; keep it that way.

In transformers 5.x every ``PreTrainedConfig`` subclass is turned into a keyword-only dataclass, so a config is just a
list of typed fields with defaults, plus ``__post_init__`` for derived values and checks (the same shape as
``LlamaConfig``). Unknown keys in a ``config.json`` are kept as plain attributes.
"""

from __future__ import annotations

import json

import transformers
from transformers import PreTrainedConfig

from .heads_genomicllm import READINGS
from .positions_genomicllm import ALIGNMENTS, STREAMS

if int(transformers.__version__.split(".")[0]) < 5:  # pragma: no cover - depends on the installed version
    raise ImportError(
        f"GenomicLLM needs transformers 5.x; this is {transformers.__version__} (pip install -U 'transformers>=5,<6')"
    )

STORED_DTYPES = (None, "float32", "float16", "bfloat16")  # what `save_pretrained` may store the weights as

# The remote-code entry points written into `config.json` (`auto_map`). `save_pretrained` only adds the entry of the
# class being saved (one `_auto_class` per class), so the config carries all of them: whichever head is saved, the
# folder loads through every Auto class.
AUTO_MAP = {
    "AutoConfig": "configuration_genomicllm.GenomicLLMConfig",
    "AutoModel": "modeling_genomicllm.GenomicLLMModel",
    "AutoModelForCausalLM": "modeling_genomicllm.GenomicLLMForCausalLM",
    "AutoModelForSequenceClassification": "modeling_genomicllm.GenomicLLMForSequenceClassification",
}


class GenomicLLMConfig(PreTrainedConfig):
    r"""
    Configuration of a GenomicLLM decoder: Llama-2 style (pre-norm RMSNorm, RoPE, SwiGLU, tied embeddings,
    optional grouped-query attention), sized for CPU training.

    The defaults describe a small model (~3.5M parameters with a 512-token vocabulary). The original GenomicLLM
    shape is ``hidden_size=768, num_layers=12, num_attention_heads=12, intermediate_size=2304, vocab_size=512,
    max_position_embeddings=512``.

    Args:
        vocab_size: Number of token ids (rows of the embedding matrix).
        hidden_size: Width of the residual stream.
        intermediate_size: Inner width of the SwiGLU MLP (each of gate/up projections).
        num_layers: Number of decoder blocks (also readable/writable as ``num_hidden_layers``).
        num_attention_heads: Query heads per layer.
        num_key_value_heads: Key/value heads (grouped-query attention). ``None`` means ``num_attention_heads``
            (plain multi-head attention); must divide ``num_attention_heads``.
        head_dim: Per-head width; derived as ``hidden_size // num_attention_heads`` when ``None``.
        max_position_embeddings: Longest sequence (prompt + generated, cache included) the model accepts. Longer
            inputs raise a ``ValueError``; nothing is silently truncated.
        rope_theta: Base of the rotary position embedding frequencies.
        rms_norm_eps: Epsilon of the RMSNorm layers.
        initializer_range: Standard deviation of the normal initialisation of linear and embedding weights.
        attention_dropout: Dropout on attention probabilities (training only).
        hidden_act: Activation of the gated MLP (``"silu"`` gives SwiGLU).
        use_cache: Whether forward returns a KV cache by default.
        tie_word_embeddings: Share the input embedding matrix with the LM head.
        pad_token_id / bos_token_id / eos_token_id: Special token ids (the project tokenizer: 0 / 1 / 2).
        dna_token_ids: Token ids that encode nucleotides. Only used when ``use_segment_embedding`` is on.
        use_segment_embedding: Add a learned DNA-vs-text segment vector to each input embedding, the segment being
            read from the token id (``dna_token_ids``). Off by default: it did not measurably help (see
            ``modeling/README.md``).
        classifier_pooling: How ``GenomicLLMForSequenceClassification`` summarises a sequence: ``"last"`` (hidden
            state of the last non-pad token, the natural summary for a causal model) or ``"mean"`` (masked mean).
        classifier_dropout: Dropout before the classification head.
        position_streams: The rotary position stream of each query head, one of ``"token"`` (ordinary positions),
            ``"run_start"``, ``"run_end"``, ``"codon"`` (run-relative positions that align answer tokens with the
            prompt's bases), ``"field"``, ``"field_key"`` (align them with a field's value and its key),
            ``"content"`` (no position: attention by content alone), ``"pointer"`` (align the answer with the value
            of the field the question asks for; such heads write only there; ``positions_genomicllm.py``). ``None``:
            ordinary positions in every head (plain RoPE).
            Run-relative streams need ``dna_token_ids`` and ``answer_marker_token_ids``.
        answer_marker_token_ids: Token ids of the separator between question and answer (the grammar's ``" ="``).
        field_open_token_ids / field_close_token_ids: Token ids that open (``"="``) and close (``","``) a field's
            value in the prompt, for the ``"field"``, ``"field_key"`` and ``"pointer"`` streams (an opener merged with
            its value and closer, ``"=+,"``, is both).
        pointer_copy: Where a field is asked, mix the LM's next-token distribution with a copy of the tokens the last
            layer's pointer heads read (a pointer-generator, ``copy_gate`` weighing the two). Needs pointer heads.
        field_copy_ids: ``[id, id]`` pairs: how the copy writes a field token it reads (a closer ``","`` as the end
            of the answer; ``"=+,"``, a value merged with its opener and closer, as ``"+"``); others as themselves.
        aligned_gate: The aligned copy's gate, ``{"weight": [[...]], "bias": [...]}`` (1 + 2A rows over
            ``hidden_size``, fitted on the model's states like a label head: ``finetune/training/aligned_gate.py``):
            where the answer's bases so far follow one alignment with the prompt's last DNA run alone (its start or
            end, as it is or complemented: ``positions_genomicllm.aligned_writes``), the next-token distribution
            mixes the LM's with the base that alignment writes next, weighed by ``softmax(weight @ h + bias)``.
            ``None``: no aligned copy. Needs run-relative position streams.
        dna_complement_ids: ``[id, complement id]`` pairs for the aligned copy; ids not listed are their own.
        field_key_aliases: ``[id, same-key id]`` pairs: token ids that name the same key (``"symbol"`` and
            ``" symbol"``), for the ``"pointer"`` stream; ids not listed name themselves.
        dna_run_min_tokens: Shortest DNA-id stretch that counts as a sequence for the run-relative streams.
        far_offset: Where the run-relative streams put every token that is neither prompt DNA nor answer.
        conv_kernel_size: Width of the short gated causal depthwise convolution that opens every block (LFM2's
            short-conv operator: ``in_proj`` -> B * x -> causal depthwise conv -> C * . -> ``out_proj``), which hands
            each token its neighbours for little compute; ``0`` leaves it out. Generation caches its last inputs.
        kmer_sizes: Add to each base token's embedding the embedding of every k-mer of these sizes that ends at it
            (``kmers_genomicllm.py``): k-mer identities, what k-mer logistic regression reads, for the cost of a
            lookup. ``None`` leaves it out. Needs ``kmer_base_token_ids``.
        phased_kmer_sizes: k-mer sizes embedded once per phase: where the k-mer ends in its run of bases, modulo
            ``kmer_phase_period`` (3, the codon phase: a stop codon of one reading frame). Also needs
            ``kmer_base_token_ids``; ``None`` leaves them out.
        kmer_phase_period: The period of the phased k-mers.
        kmer_base_token_ids: The token ids of the bases A, C, G, T, in that order (the k-mers' letters, of the k-mer
            embedding and of a head's ``"kmers:"`` feature).
        kmer_embedding_size: Width of the k-mer table; a linear map (zero at initialisation, so adding k-mers to a
            trained model starts from the same function) takes it to ``hidden_size``.
        label_heads: Per classification task, a linear map from the question's hidden states to the task's
            classes: ``{task: {"weight": labels x (hidden_size x features), "bias": [labels], "rows": n,
            "features": [...]}}``, the features naming the states read, concatenated (``"last"``: the final layer
            at the question's last token, the default; ``"mean"``: the final layer averaged over the question;
            ``"mean@k"``: layer k averaged; ``"phase@k"``: layer k averaged over the DNA run's bases at each codon
            position, 3 x hidden_size; ``"conv:<name>"``: what the motif reader ``head_convs[name]`` finds;
            ``"kmers:<lo>-<hi>"``: the DNA run's k-mer counts, L2-normalised, sum 4**k wide, with
            ``kmer_base_token_ids``; ``"phased:<lo>-<hi>"``: the same per codon phase, 3 x sum 4**k). Written
            by ``finetune.training.label_heads`` (and ``conv_heads``), read by ``modeling/scores.py``; ``None``:
            answers are read from the label tokens' scores. An entry that also says how its task is asked
            (``"question_ids"``: the ", <task phrase> =" tokens ending the question, ``"answer_ids"``: each
            label's tokens + </s>, ``"strand_symmetric"``, ``"readings"``; written by
            ``finetune/training/head_questions.py``) is what ``generate`` answers that question with
            (``heads_genomicllm.py``).
        value_heads: Per regression task (GC content), the same kind of map to one value: ``{task: {"weight": [[...]],
            "bias": [b], "rows": n, "alpha": ridge penalty, "features": [...]}}``; ``None``: the value is generated.
            An entry that says how it is asked (``"question_ids"``, ``"number_pieces"``: the tokenizer's number
            tokens, ``"decimals"``, ``"value_range"``, ``"strand_symmetric"``) writes ``generate``'s number.
        head_convs: The heads' motif readers, ``{name: {"layers": [k, ...], "proj": P, "channels": C, "kernel": K,
            "phased": bool}}``: a small CNN over the DNA run's per-base states of those layers (``HeadConv`` in
            ``heads_genomicllm.py``; weights in the weights file as ``head_convs.<name>.*``), read by a head that names
            ``"conv:<name>"`` among its features. Written by ``finetune.training.conv_heads``.
        answer_with_heads: Whether ``generate`` (every forward without ``labels``, in eval mode) answers a question
            that a head says how it is asked with the head; ``False``: the LM's own text.
        stored_dtype: The floating type ``save_pretrained`` stores the weights in (``"float16"`` halves the file;
            ``from_pretrained`` casts them back to ``dtype``, float32, and the model computes in that); ``None``:
            as computed (training checkpoints, which resume exactly). A weight float16 cannot hold (beyond +-65504)
            is stored as computed. The shipped model keeps float32: float16 changes a few label heads' answers
            (``studies/results/weight_precision.md``).
        num_labels: (inherited, keyword only) number of classes of the classification head.

    Example:

    ```python
    >>> from modeling.configuration_genomicllm import GenomicLLMConfig
    >>> config = GenomicLLMConfig(hidden_size=128, num_layers=2, num_attention_heads=4, intermediate_size=384)
    >>> config.num_hidden_layers
    2
    ```
    """

    model_type = "genomicllm"
    # `GenerationMixin`, `DynamicCache` and the masking utilities read `num_hidden_layers`.
    attribute_map = {"num_hidden_layers": "num_layers"}
    base_model_tp_plan = {
        "layers.*.self_attn.q_proj": "colwise",
        "layers.*.self_attn.k_proj": "colwise",
        "layers.*.self_attn.v_proj": "colwise",
        "layers.*.self_attn.o_proj": "rowwise",
        "layers.*.mlp.gate_proj": "colwise",
        "layers.*.mlp.up_proj": "colwise",
        "layers.*.mlp.down_proj": "rowwise",
    }
    base_model_pp_plan = {
        "embed_tokens": (["input_ids"], ["inputs_embeds"]),
        "layers": (["hidden_states", "attention_mask"], ["hidden_states"]),
        "norm": (["hidden_states"], ["hidden_states"]),
    }

    vocab_size: int = 512
    hidden_size: int = 256
    intermediate_size: int = 768
    num_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int | None = None
    head_dim: int | None = None
    max_position_embeddings: int = 1024
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    initializer_range: float = 0.02
    attention_dropout: float = 0.0
    hidden_act: str = "silu"
    use_cache: bool = True
    tie_word_embeddings: bool = True
    pad_token_id: int | None = 0
    bos_token_id: int | None = 1
    eos_token_id: int | list[int] | None = 2
    dna_token_ids: list[int] | None = None
    use_segment_embedding: bool = False
    classifier_pooling: str = "last"
    classifier_dropout: float = 0.0
    position_streams: list[str] | None = None
    answer_marker_token_ids: list[int] | None = None
    field_open_token_ids: list[int] | None = None
    field_close_token_ids: list[int] | None = None
    field_key_aliases: list[list[int]] | None = None
    pointer_copy: bool = False
    field_copy_ids: list[list[int]] | None = None
    aligned_gate: dict | None = None
    dna_complement_ids: list[list[int]] | None = None
    dna_run_min_tokens: int = 8
    far_offset: int = 4096
    conv_kernel_size: int = 0
    kmer_sizes: list[int] | None = None
    phased_kmer_sizes: list[int] | None = None
    kmer_phase_period: int = 3
    kmer_base_token_ids: list[int] | None = None
    kmer_embedding_size: int = 64
    label_heads: dict | None = None
    value_heads: dict | None = None
    head_convs: dict | None = None
    answer_with_heads: bool = True
    stored_dtype: str | None = None

    def __post_init__(self, **kwargs):
        # `num_hidden_layers=` is accepted as an alias (attribute_map); apply it before the checks below.
        if "num_hidden_layers" in kwargs:
            self.num_layers = kwargs.pop("num_hidden_layers")
        for name in ("vocab_size", "hidden_size", "intermediate_size", "num_layers", "num_attention_heads",
                     "max_position_embeddings"):
            _check_positive_int(name, getattr(self, name))
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.head_dim is None:
            if self.hidden_size % self.num_attention_heads:
                raise ValueError(
                    f"hidden_size ({self.hidden_size}) must be a multiple of num_attention_heads "
                    f"({self.num_attention_heads}), or set head_dim explicitly"
                )
            self.head_dim = self.hidden_size // self.num_attention_heads
        _check_positive_int("num_key_value_heads", self.num_key_value_heads)
        _check_positive_int("head_dim", self.head_dim)
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(
                f"num_attention_heads ({self.num_attention_heads}) must be a multiple of "
                f"num_key_value_heads ({self.num_key_value_heads})"
            )
        if self.head_dim % 2:
            raise ValueError(f"head_dim must be even for rotary embeddings, got {self.head_dim}")
        if self.classifier_pooling not in ("last", "mean"):
            raise ValueError(f"classifier_pooling must be 'last' or 'mean', got {self.classifier_pooling!r}")
        if self.dna_token_ids is not None:
            self.dna_token_ids = sorted({int(i) for i in self.dna_token_ids})
            for i in self.dna_token_ids:
                if not 0 <= i < self.vocab_size:
                    raise ValueError(f"dna_token_ids contains {i}, outside the vocabulary [0, {self.vocab_size})")
        if self.use_segment_embedding and not self.dna_token_ids:
            raise ValueError("use_segment_embedding=True needs dna_token_ids (the ids of nucleotide tokens)")
        self._check_streams()
        if not isinstance(self.conv_kernel_size, int) or self.conv_kernel_size < 0:
            raise ValueError(f"conv_kernel_size must be an int >= 0 (0 = no convolution), got {self.conv_kernel_size!r}")
        self._check_kmers()
        self._check_head_questions()
        self._check_head_convs()
        if self.stored_dtype not in STORED_DTYPES:
            raise ValueError(f"stored_dtype is one of {STORED_DTYPES}, got {self.stored_dtype!r}")
        # The cache layout transformers' DynamicCache builds: key/value + a conv state per layer when convolving.
        self.layer_types = ["hybrid" if self.conv_kernel_size else "full_attention"] * self.num_layers
        # Every Auto class points at this code, whichever head is saved (entries already in config.json win).
        self.auto_map = {**AUTO_MAP, **(kwargs.pop("auto_map", None) or {})}
        super().__post_init__(**kwargs)

    @property
    def aligned_copy(self) -> bool:
        """Whether answers may copy the prompt bases they lie aligned with (an ``aligned_gate`` is fitted)."""
        return self.aligned_gate is not None

    @property
    def uses_streams(self) -> bool:
        """Whether any head reads run-relative positions (else plain RoPE)."""
        return any(stream != "token" for stream in self.position_streams or ())

    @property
    def reads_history(self) -> bool:
        """Whether a cached step needs every id so far (``history_ids``): positions, k-mers or the question a head
        answers come from the ids."""
        return self.uses_streams or self.uses_kmers or self.answers_with_heads

    @property
    def answers_with_heads(self) -> bool:
        """Whether ``generate`` answers some questions with a label or value head (``heads_genomicllm.py``)."""
        entries = [e for heads in (self.label_heads, self.value_heads) for e in (heads or {}).values()]
        return bool(self.answer_with_heads) and any(e.get("question_ids") for e in entries)

    @property
    def uses_kmers(self) -> bool:
        """Whether the input carries the k-mer embedding (plain or phased k-mers)."""
        return bool(self.kmer_sizes or self.phased_kmer_sizes)

    def _check_kmers(self) -> None:
        for name in ("kmer_sizes", "phased_kmer_sizes"):
            sizes = sorted({int(k) for k in getattr(self, name) or ()})
            if sizes and (sizes[0] < 1 or sizes[-1] > 8):
                raise ValueError(f"{name} must lie in 1..8 (a table of 4**k rows each), got {getattr(self, name)}")
            setattr(self, name, sizes or None)
        if not self.uses_kmers:
            return
        if not self._base_ids_ok():
            raise ValueError("k-mers need kmer_base_token_ids: the 4 distinct token ids of A, C, G, T, got "
                             f"{self.kmer_base_token_ids!r}")
        self.kmer_base_token_ids = [int(i) for i in self.kmer_base_token_ids]
        _check_positive_int("kmer_embedding_size", self.kmer_embedding_size)
        _check_positive_int("kmer_phase_period", self.kmer_phase_period)

    def _check_head_questions(self) -> None:
        """A head that says how its task is asked must say how to answer it, in this vocabulary."""
        for kind, heads in (("label_heads", self.label_heads), ("value_heads", self.value_heads)):
            for task, entry in (heads or {}).items():
                if not entry.get("question_ids"):
                    continue
                where = f"{kind}[{task!r}]"
                ids = list(entry["question_ids"])
                if kind == "label_heads":
                    answers = entry.get("answer_ids") or []
                    if len(answers) != len(entry.get("bias") or ()) or not all(answers):
                        raise ValueError(f"{where}: answer_ids needs one non-empty id list per label")
                    for name, order in (entry.get("readings") or {}).items():
                        if name not in READINGS or sorted(order) != list(range(len(answers))):
                            raise ValueError(f"{where}: a reading is one of {list(READINGS)} with a label index for "
                                             f"each label, got {name!r}: {order}")
                    ids += [i for a in answers for i in a]
                else:
                    if not entry.get("number_pieces") or not isinstance(entry.get("decimals"), int):
                        raise ValueError(f"{where}: a value head's question needs number_pieces and decimals")
                    ids += list(entry["number_pieces"].values())
                if any(not (isinstance(i, int) and 0 <= i < self.vocab_size) for i in ids):
                    raise ValueError(f"{where}: question or answer ids outside the vocabulary [0, {self.vocab_size})")
                if not self.dna_token_ids or not self.answer_marker_token_ids:
                    raise ValueError(f"{where}: answering a question needs dna_token_ids and answer_marker_token_ids")
                if entry.get("strand_symmetric") and not self.dna_complement_ids:
                    raise ValueError(f"{where}: a strand-symmetric head reads the reverse complement too: it needs "
                                     "dna_complement_ids")

    def _base_ids_ok(self) -> bool:
        ids = list(self.kmer_base_token_ids or ())
        return len(ids) == 4 and len(set(ids)) == 4 and all(0 <= int(i) < self.vocab_size for i in ids)

    def _check_head_convs(self) -> None:
        """Each motif reader reads existing layers with positive sizes and an odd kernel (same padding), and every
        ``conv:<name>`` a head reads is one of them."""
        convs = self.head_convs or {}
        for name, spec in convs.items():
            if not name.isidentifier():
                raise ValueError(f"head_convs[{name!r}]: a name is a Python identifier (it names weights)")
            layers = spec.get("layers") or []
            if not layers or any(not isinstance(k, int) or not 0 <= k <= self.num_layers for k in layers):
                raise ValueError(f"head_convs[{name!r}]: layers are among 0..{self.num_layers}, got {layers}")
            for key in ("proj", "channels", "kernel"):
                _check_positive_int(f"head_convs[{name!r}][{key!r}]", spec.get(key))
            if spec["kernel"] % 2 == 0:
                raise ValueError(f"head_convs[{name!r}]: the kernel must be odd (same padding), got {spec['kernel']}")
        for kind, heads in (("label_heads", self.label_heads), ("value_heads", self.value_heads)):
            for task, entry in (heads or {}).items():
                for where, e in [(task, entry)] + [(f"{task}/{b}", h) for b, h in (entry.get("benchmarks") or {}
                                                                                   ).items()]:
                    missing = [f for f in e.get("features") or () if f.startswith("conv:") and f[5:] not in convs]
                    if missing:
                        raise ValueError(f"{kind}[{where!r}] reads {missing}, not among head_convs")
                    letters = ("kmers:", "phased:", "free:")  # heads_genomicllm.LETTERS: no torch code imported
                    if any(f.startswith(letters) for f in e.get("features") or ()) and not self._base_ids_ok():
                        raise ValueError(f"{kind}[{where!r}] reads a k-mer profile: it needs kmer_base_token_ids, "
                                         f"the 4 distinct token ids of A, C, G, T, got {self.kmer_base_token_ids!r}")

    def _check_streams(self) -> None:
        if self.pointer_copy and "pointer" not in (self.position_streams or ()):
            raise ValueError("pointer_copy copies what pointer heads read: name at least one 'pointer' stream")
        if self.aligned_copy:
            if not self.uses_streams:
                raise ValueError("the aligned copy reads the answer's alignment with the prompt's DNA runs: it needs "
                                 "run-relative position_streams")
            rows = 1 + 2 * ALIGNMENTS
            weight, bias = self.aligned_gate.get("weight"), self.aligned_gate.get("bias")
            if (not weight or len(weight) != rows or any(len(r) != self.hidden_size for r in weight)
                    or not bias or len(bias) != rows):
                raise ValueError(f"aligned_gate needs a {rows} x {self.hidden_size} 'weight' and {rows} 'bias' values")
        if self.position_streams is None:
            return
        self.position_streams = list(self.position_streams)
        if len(self.position_streams) != self.num_attention_heads:
            raise ValueError(f"position_streams names {len(self.position_streams)} streams, one per query head is "
                             f"needed ({self.num_attention_heads})")
        unknown = sorted(set(self.position_streams) - set(STREAMS))
        if unknown:
            raise ValueError(f"position_streams: unknown {unknown}; known: {list(STREAMS)}")
        if self.uses_streams:
            if not self.dna_token_ids or not self.answer_marker_token_ids:
                raise ValueError("run-relative position streams need dna_token_ids and answer_marker_token_ids")
            if self.num_key_value_heads != self.num_attention_heads:
                raise ValueError("run-relative position streams rotate keys per head: num_key_value_heads must "
                                 "equal num_attention_heads")
            self.answer_marker_token_ids = sorted({int(i) for i in self.answer_marker_token_ids})
        if {"field", "field_key", "pointer"} & set(self.position_streams):
            if not self.field_open_token_ids or not self.field_close_token_ids:
                raise ValueError("the field streams need field_open_token_ids and field_close_token_ids")
            self.field_open_token_ids = sorted({int(i) for i in self.field_open_token_ids})
            self.field_close_token_ids = sorted({int(i) for i in self.field_close_token_ids})
        for name in ("field_key_aliases", "field_copy_ids", "dna_complement_ids"):
            pairs = [[int(a), int(b)] for a, b in getattr(self, name) or ()]
            if any(not (0 <= i < self.vocab_size) for pair in pairs for i in pair):
                raise ValueError(f"{name}: ids outside the vocabulary [0, {self.vocab_size})")
            setattr(self, name, pairs or None)
        _check_positive_int("dna_run_min_tokens", self.dna_run_min_tokens)
        _check_positive_int("far_offset", self.far_offset)


    def to_json_string(self, use_diff: bool = True) -> str:
        """``config.json``'s text, as transformers writes it except that a list of numbers (or of other plain values)
        takes one line (``config_text``): the heads' half a million weights one line per row, not per number."""
        config = self.to_diff_dict() if use_diff else self.to_dict()
        return config_text(self._encode_special_floats(config))

    def __repr__(self) -> str:
        """The settings, each list of more than ``SHOWN`` numbers as its length: printing a config (or leaving
        ``model.config`` last in a notebook cell) shows what the model is, not every weight of its heads."""
        shown = _elided(self._encode_special_floats(self.to_diff_dict()))  # elided before it is written: half the time
        return f"{type(self).__name__} {config_text(shown)}"


SHOWN = 8  # a longer list of numbers is shown by its length in ``repr``


def config_text(config: dict) -> str:
    """A config's JSON text: keys sorted, two spaces an indent, as ``json.dumps(indent=2, sort_keys=True)``, except
    that a list holding no list or dict is written on one line (config.json 11.4 -> 4.7 MB, the same values)."""
    return _json(config, "") + "\n"


def _json(value, pad: str) -> str:
    inner = pad + "  "
    if isinstance(value, dict) and value:
        # keys as json writes them: an int key (id2label's) becomes its digits
        items = (f"{inner}{json.dumps(k if isinstance(k, str) else json.dumps(k))}: {_json(v, inner)}"
                 for k, v in sorted(value.items()))
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + _json(v, inner) for v in value) + f"\n{pad}]"
    return json.dumps(value)


def _elided(value):
    """``value`` with each list of more than ``SHOWN`` numbers replaced by ``"<n numbers>"`` (a matrix of them by
    ``"<rows x n numbers>"``)."""
    if isinstance(value, dict):
        return {k: _elided(v) for k, v in value.items()}
    if not isinstance(value, list):
        return value
    if len(value) > SHOWN and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return f"<{len(value)} numbers>"
    rows = [_elided(v) for v in value]
    if rows and all(isinstance(r, str) and r.endswith(" numbers>") and r == rows[0] for r in rows):
        return f"<{len(rows)} x {rows[0][1:]}"
    return rows


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"GenomicLLMConfig.{name} must be a positive int, got {value!r}")


# `save_pretrained` writes `auto_map` and copies this file next to the weights.
GenomicLLMConfig.register_for_auto_class("AutoConfig")

__all__ = ["GenomicLLMConfig", "config_text"]
