"""GenomicLLM's hybrid tokenizer: nucleotide runs found inside any text by a documented rule and cut by a DNA
scheme, everything else by a byte-level text BPE, all inside one serialisable `tokenizer.json`.

The package exports the run-time half (the tokenizer class, the run rule's normaliser and windowing), which the
Space and the assistant import; `tokenizer.candidates.build_candidate(name, corpus_texts)` trains one of the
benchmarked candidates, `python -m tokenizer build` saves the shipped folder, `python -m studies.tokenizer_bench`
compares the candidates. See README.md in this folder.
"""

from .tokenization_genomicllm import (
                                      GenomicLLMTokenizerFast,
                                      SequenceFormatError,
                                      SequenceTooLongError,
                                      normalize_sequence,
                                      window_sequence,
)

__all__ = ["GenomicLLMTokenizerFast", "SequenceFormatError",
           "SequenceTooLongError", "normalize_sequence", "window_sequence"]
