"""Candidate (d), the original GenomicLLM's scheme: one SentencePiece model (vocab 512) over the mixed corpus.

Why keep it: it is the baseline every measured axis must beat. Trained with the `sentencepiece` library and its
defaults (unigram, nmt_nfkc normalisation, whitespace collapsing); the benchmark times that native library.
`to_fast` rebuilds the same model as a `tokenizers` Unigram pipeline (no protobuf needed) so the downstream check can
train a model on it like on the other candidates; `bench` reports how often the two disagree.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

from . import special

VOCAB_SIZE = 512


def train(texts: Sequence[str], vocab_size: int = VOCAB_SIZE, model_type: str = "unigram") -> bytes:
    import sentencepiece as spm

    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=proto, vocab_size=vocab_size, model_type=model_type,
        max_sentence_length=1 << 16, minloglevel=2, num_threads=2)
    return proto.getvalue()


def processor(model: bytes):
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_proto=model)


def to_fast(model: bytes, name: str = "spm512"):
    """A PreTrainedTokenizerFast equivalent of the SentencePiece model (its pieces, scores and default normaliser)."""
    from transformers import PreTrainedTokenizerFast

    sp = processor(model)
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    tk = Tokenizer(models.Unigram(vocab, unk_id=sp.unk_id(), byte_fallback=False))
    tk.normalizer = normalizers.Sequence([
        normalizers.NFKC(), normalizers.Strip(), normalizers.Replace(Regex(r"\s+"), " ")])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    tk.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    # SentencePiece's own <s> </s> <unk> sit at ids 0-2; pad and the chat role markers are added after the pieces.
    return PreTrainedTokenizerFast(
        tokenizer_object=tk, unk_token=sp.id_to_piece(sp.unk_id()), bos_token=sp.id_to_piece(sp.bos_id()),
        eos_token=sp.id_to_piece(sp.eos_id()), pad_token=special.PAD, extra_special_tokens=list(special.ROLE_TOKENS),
        add_bos_token=True, model_max_length=1024, clean_up_tokenization_spaces=False,
        chat_template=special.CHAT_TEMPLATE, candidate=name)
