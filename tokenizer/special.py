"""Special tokens, the post-processor and the chat template: what the model needs besides text and DNA.

Why these:
- `<pad>` (id 0): batching; never attended (attention_mask 0) and never a label.
- `<s>` (bos): added in front of every encoded text, so the first real token has something to attend to.
- `</s>` (eos): end of answer. Training text is `<s> prompt answer</s>`; generation stops at `</s>`.
  The question/answer separator stays the grammar's plain " = " (no special token: the prompt grammar is text).
- `<|system|>`, `<|user|>`, `<|assistant|>`: role markers of the chat template, for conversational use.
No `<unk>`: the text side is byte-level, so every string has an encoding.

Encoding a (prompt, answer) pair - `tok(prompt, " " + answer)` - gives `<s> prompt answer </s>` with token_type_ids
0 on the prompt and 1 on the answer + `</s>` (a ready loss mask); the ids equal those of the full training text
`prompt + " " + answer + "</s>"` because the grammar puts a pre-token boundary at " = ".
"""

from __future__ import annotations

from tokenizers import AddedToken, processors

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
ROLES = ("system", "user", "assistant")
ROLE_TOKENS = tuple(f"<|{role}|>" for role in ROLES)
SPECIAL_TOKENS = (PAD, BOS, EOS, *ROLE_TOKENS)  # ids 0.. in this order

# One message = role marker, newline, content, newline; assistant content ends with eos (inside the generation
# block, so `return_assistant_tokens_mask=True` marks exactly what the model must produce).
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] -%}"
    "{{ raise_exception('GenomicLLM chat roles are system, user and assistant, not ' + message['role']) }}"
    "{%- endif -%}"
    "{{ '<|' + message['role'] + '|>\\n' }}"
    "{%- if message['role'] == 'assistant' -%}"
    "{% generation %}{{ message['content'] + eos_token }}{% endgeneration %}"
    "{%- else -%}"
    "{{ message['content'] }}"
    "{%- endif -%}"
    "{{ '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>\\n' }}{%- endif -%}"
)


def added_tokens() -> list[AddedToken]:
    return [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]


def post_processor(bos_id: int, eos_id: int) -> processors.TemplateProcessing:
    return processors.TemplateProcessing(
        single=f"{BOS}:0 $A:0",
        pair=f"{BOS}:0 $A:0 $B:1 {EOS}:1",
        special_tokens=[(BOS, bos_id), (EOS, eos_id)],
    )


def special_kwargs() -> dict:
    """Keyword arguments for the transformers wrapper."""
    return dict(pad_token=PAD, bos_token=BOS, eos_token=EOS, extra_special_tokens=list(ROLE_TOKENS))
