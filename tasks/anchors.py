"""Published numbers to report beside ours (from ../shared/DESIGN.md "Anchors to beat"), keyed by benchmark name.

Each entry: {source: (metric, value)}. Split differences are noted where ours differ from the published setting.
"""

from __future__ import annotations

GENOMICLLM, DNABERT2, HYENADNA = "GenomicLLM", "DNABERT-2", "HyenaDNA"

# The original GenomicLLM's shape (~92M parameters, SentencePiece-512, 512-token context), for cost comparisons.
ORIGINAL_SHAPE = dict(hidden_size=768, num_layers=12, num_attention_heads=12, intermediate_size=2304, vocab_size=512,
                      max_position_embeddings=512)

ANCHORS: dict[str, dict[str, tuple[str, float]]] = {
    "GUE/tf_0": {DNABERT2: ("mcc", 0.720)},
    "GUE/tf_1": {DNABERT2: ("mcc", 0.761)},
    "GUE/tf_2": {DNABERT2: ("mcc", 0.665)},
    "GUE/tf_3": {DNABERT2: ("mcc", 0.585)},
    "GUE/tf_4": {DNABERT2: ("mcc", 0.774)},
    "GUE/prom_core_all": {DNABERT2: ("mcc", 0.694), GENOMICLLM: ("mcc", 0.708)},
    "GUE/prom_core_notata": {DNABERT2: ("mcc", 0.680)},
    "GUE/prom_core_tata": {DNABERT2: ("mcc", 0.742)},
    "GUE/prom_300_all": {DNABERT2: ("mcc", 0.868), GENOMICLLM: ("mcc", 0.940)},
    "GUE/prom_300_tata": {DNABERT2: ("mcc", 0.716)},
    "GUE/splice_reconstructed": {DNABERT2: ("mcc", 0.850), GENOMICLLM: ("mcc", 0.949)},
    "GenomicBenchmarks/human_enhancers_cohn": {HYENADNA: ("accuracy", 0.742), GENOMICLLM: ("accuracy", 0.712)},
    "GenomicBenchmarks/human_enhancers_ensembl": {HYENADNA: ("accuracy", 0.892)},
    "GenomicBenchmarks/human_ensembl_regulatory": {HYENADNA: ("accuracy", 0.938), GENOMICLLM: ("accuracy", 0.933)},
    "GenomicBenchmarks/human_nontata_promoters": {HYENADNA: ("accuracy", 0.966), GENOMICLLM: ("accuracy", 0.913)},
    "GenomicBenchmarks/human_ocr_ensembl": {HYENADNA: ("accuracy", 0.809)},
    "GenomicLLM_GRCh38/gene_biotype": {GENOMICLLM: ("mcc", 0.442)},
    "GenomicLLM_GRCh38/gc_content": {GENOMICLLM: ("mae", 0.002)},
    "GenomicLLM_GRCh38/nt2aa": {GENOMICLLM: ("exact_match", 0.993)},
    "GenomicLLM_GRCh38/gene_description:gene_description": {GENOMICLLM: ("exact_match", 0.51)},
}

SPLIT_NOTES = {
    "GenomicBenchmarks": "test subset rebuilt from the partial genome of the sources mirror (see the dataset card)",
    "GUE": "published GUE test split",
    "GenomicLLM_GRCh38": "our region-block split; the original used its own random split",
}
