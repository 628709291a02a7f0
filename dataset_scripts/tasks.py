"""The task list: one entry per task GenomicLLM answers. Every other module imports these facts from here.

`phrase` is what the prompt says before ` = ` (the original's "task name"); `labels` are the exact answer strings of a
classification task, in a fixed order (index = class id used by metrics).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Task:
    name: str
    kind: str  # "classify" | "regress" | "generate" | "extract"
    phrase: str
    labels: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    description: str = ""
    paper: bool = True  # one of the original paper's 14 tasks
    decimals: int = field(default=3)  # regress: digits written in answers


YES_NO = ("yes", "no")

TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task("splice_site", "classify", "splice site", ("donor", "acceptor", "none"), ("mcc", "accuracy"),
             "Is the centre of a 400 nt window a splice donor, a splice acceptor, or neither?"),
        Task("enhancer", "classify", "enhancer", YES_NO, ("accuracy", "mcc"), "Is this sequence an enhancer?"),
        Task("promoter", "classify", "promoter", YES_NO, ("mcc",), "Is this sequence a promoter?"),
        Task("open_chromatin", "classify", "open chromatin region", YES_NO, ("accuracy", "mcc"),
             "Is this sequence an open chromatin region?"),
        Task("regulatory", "classify", "regulatory element", ("enhancer", "promoter", "ocr"), ("accuracy", "macro_f1"),
             "Which kind of Ensembl regulatory element is this?"),
        Task("tf_binding", "classify", "transcription factor binding site", YES_NO, ("mcc",),
             "Does a transcription factor bind this sequence?"),
        Task("orf_frame", "classify", "coding frame", ("1", "2", "3", "none"), ("mcc",),
             "At which position (1, 2 or 3) does the first whole codon of the coding frame start, or is it non-coding?"),
        Task("sequence_direction", "classify", "sequence direction", ("forward", "reversed"), ("mcc",),
             "Is the sequence written 5'->3' (forward) or reversed?"),
        Task("gene_biotype", "classify", "gene biotype", ("protein_coding", "other"), ("mcc", "macro_f1"),
             "Is the gene this sequence starts protein coding?"),
        Task("gc_content", "regress", "GC content", (), ("mae", "pearson"), "Fraction of G+C among A, C, G, T."),
        Task("nt2aa", "generate", "amino acid sequence", (), ("exact_match", "identity"),
             "Translate an in-frame coding fragment (standard code), 3-letter residue codes."),
        Task("reverse", "generate", "reverse sequence", (), ("exact_match",), "The sequence read backwards."),
        Task("complement", "generate", "complementary sequence", (), ("exact_match",), "The base-wise complement."),
        Task("reverse_complement", "generate", "reverse complementary sequence", (), ("exact_match",),
             "The reverse complement."),
        Task("gene_description", "generate", "gene description", (), ("exact_match", "rouge_l"),
             "The NCBI RefSeq summary of the gene."),
        Task("gene_name", "generate", "gene full name", (), ("exact_match", "rouge_l"), "The gene's full name."),
        Task("reading_comprehension", "extract", "", (), ("exact_match",),
             "Return the value of a field present in the prompt; the phrase is the question itself."),
        Task("histone_mark", "classify", "histone mark", YES_NO, ("mcc",),
             "Is this yeast nucleosome enriched in the histone mark? (GUE EMP)", paper=False),
    ]
}


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None
