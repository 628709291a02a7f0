"""GenomicLLM's hybrid tokenizer: nucleotide runs found inside any text by a documented rule and cut by a DNA
scheme, everything else by a byte-level text BPE, all inside one serialisable `tokenizer.json`.

`build_candidate(name, corpus_texts)` trains one of the benchmarked candidates; `python -m tokenizer build` saves
the shipped folder, `python -m studies.tokenizer_bench` compares the candidates. See README.md in this folder.
"""

from .candidates import CANDIDATES, build_candidate, prepare
from .tokenization_genomicllm import (
                                      GenomicLLMTokenizerFast,
                                      SequenceFormatError,
                                      SequenceTooLongError,
                                      normalize_sequence,
                                      window_sequence,
)

__all__ = ["CANDIDATES", "build_candidate", "prepare", "GenomicLLMTokenizerFast", "SequenceFormatError",
           "SequenceTooLongError", "normalize_sequence", "window_sequence"]
