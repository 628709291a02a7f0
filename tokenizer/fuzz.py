"""Deterministic adversarial strings for round-trip checks: the inputs a corpus never shows but users paste.

Why a generator next to hypothesis: the benchmark needs the same fuzz set for every candidate in one run (a count
of failures per candidate); the tests use hypothesis with these same building blocks.
"""

from __future__ import annotations

import random

BASES = "ACGT"
SEGMENTS = {
    "dna": lambda r: "".join(r.choice(BASES) for _ in range(r.randint(1, 80))),
    "dna_mixed": lambda r: "".join(r.choice("ACGTNacgtnUu") for _ in range(r.randint(1, 40))),
    "iupac": lambda r: "".join(r.choice("ACGTRYKMSWBDHVN") for _ in range(r.randint(1, 40))),
    "word": lambda r: r.choice(["CAT", "ACT", "GATA1", "TATA", "GATTACA", "the", "gene", "MetPheTer", "Ala",
                                "symbol=TP53", "protein_coding", "GC content", "reverse complementary sequence",
                                "what is the symbol?", "CpG", "mRNA", "5'-UTR", "chr20"]),
    "digits": lambda r: str(r.randint(0, 10 ** r.randint(1, 9))) if r.random() < .7 else f"{r.random():.3f}",
    "space": lambda r: r.choice([" ", "  ", "   ", "\n", "\t", "\r\n", " \n ", "\u00a0", "\u2009", "\n\n"]),
    "punct": lambda r: r.choice([",", ", ", " = ", "=", ".", ";", "(", ")", "-", "'", '"', "/", "*", ">", "<", "|"]),
    "unicode": lambda r: r.choice(["é", "e\u0301", "日本語", "Ωμέγα", "🧬", "👩‍🔬", "\u200b", "ß", "İ", "ﬁ", "\x00",
                                   "\x7f", "Ａ", "½", "²", "\ufeff", "<0x41>"]),
    "special_like": lambda r: r.choice(["<s>", "</s", "<pad", "<|user|", "< /s>"]),
}


def fuzz_string(r: random.Random, max_segments: int = 12) -> str:
    return "".join(SEGMENTS[r.choice(list(SEGMENTS))](r) for _ in range(r.randint(1, max_segments)))


def fuzz_strings(n: int = 2000, seed: int = 0) -> list[str]:
    r = random.Random(seed)
    return [fuzz_string(r) for _ in range(n)]
