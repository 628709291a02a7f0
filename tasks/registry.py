"""The task list: one entry per task GenomicLLM answers. Every other module imports these facts from here.

`phrase` is what the prompt says before ` = ` (the original's "task name"); `labels` are the exact answer strings of a
classification task, in a fixed order (index = class id used by metrics). Behaviour that differs by task is a field
of its entry, read by the grammar, metrics, inference and the Space alike:
- `answer`: what the answer is, and so how it is written, parsed and budgeted: "label", "number", "dna" (a sequence
  as long as the question's), "protein" (one residue per codon, written in 3-letter codes), "text" or "field" (the
  value of a field of the prompt, asked by name: reading comprehension);
- `rule`: the exact rule (`tasks.rules`) that computes the answer from the sequence, for the exact-computable tasks;
- `value_range`: the valid interval of a "number" answer;
- `strand_symmetric`: the label is a property of the double-stranded region (a ChIP-seq peak, open chromatin, an
  enhancer), so a sequence and its reverse complement have the same answer; false where the strand written is part
  of the question (promoters and splice sites face their gene, ORFs and direction read one strand);
- `readings`: other ways to read the sequence (`rules.READINGS`) that decide the label, each with the answer per label
  about the sequence so read (sequence direction read backwards: forward <-> reversed; an ORF frame read from the
  second base: 1 -> 3, 2 -> 1, 3 -> 2); a head reads the question every way and averages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import rules

KINDS = ("classify", "regress", "generate", "extract")
ANSWERS = ("label", "number", "dna", "protein", "text", "field")


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
    answer: str = "label"
    rule: Callable[[str], object] | None = None
    value_range: tuple[float, float] | None = None
    strand_symmetric: bool = False
    codon_phased: bool = False  # the label is a reading frame: a label head also reads the states per codon position
    readings: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (reading, the answer per label about the sequence so read)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")
        if self.answer not in ANSWERS:
            raise ValueError(f"{self.name}: answer {self.answer!r} is not one of {ANSWERS}")
        if (self.kind == "classify") != bool(self.labels):
            raise ValueError(f"{self.name}: classification tasks and only they have labels")
        for reading, answers in self.readings:
            if reading not in rules.READINGS or sorted(answers) != sorted(self.labels):
                raise ValueError(f"{self.name}: a reading is one of {list(rules.READINGS)} with one of its labels for "
                                 f"each label, got {reading!r}: {answers}")

    @property
    def exact(self) -> bool:
        """Computable from the question alone (a rule, or a field read back from the prompt)."""
        return self.rule is not None or self.answer == "field"


YES_NO = ("yes", "no")

TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task("splice_site", "classify", "splice site", ("donor", "acceptor", "none"), ("mcc", "accuracy"),
             "Is the centre of a 400 nt window a splice donor, a splice acceptor, or neither?"),
        Task("enhancer", "classify", "enhancer", YES_NO, ("accuracy", "mcc"), "Is this sequence an enhancer?",
             strand_symmetric=True),
        Task("promoter", "classify", "promoter", YES_NO, ("mcc",), "Is this sequence a promoter?"),
        Task("open_chromatin", "classify", "open chromatin region", YES_NO, ("accuracy", "mcc"),
             "Is this sequence an open chromatin region?", strand_symmetric=True),
        Task("regulatory", "classify", "regulatory element", ("enhancer", "promoter", "ocr"), ("accuracy", "macro_f1"),
             "Which kind of Ensembl regulatory element is this?", strand_symmetric=True),
        Task("tf_binding", "classify", "transcription factor binding site", YES_NO, ("mcc",),
             "Does a transcription factor bind this sequence?", strand_symmetric=True),
        Task("orf_frame", "classify", "coding frame", ("1", "2", "3", "none"), ("mcc",),
             "At which position (1, 2 or 3) does the first whole codon of the coding frame start, or is it non-coding?",
             codon_phased=True,
             readings=(("from_base_2", ("3", "1", "2", "none")), ("from_base_3", ("2", "3", "1", "none")))),
        Task("sequence_direction", "classify", "sequence direction", ("forward", "reversed"), ("mcc",),
             "Is the sequence written 5'->3' (forward) or reversed?",
             readings=(("backwards", ("reversed", "forward")),)),
        Task("gene_biotype", "classify", "gene biotype", ("protein_coding", "other"), ("mcc", "macro_f1"),
             "Is the gene this sequence starts protein coding?"),
        Task("gc_content", "regress", "GC content", (), ("mae", "pearson"), "Fraction of G+C among A, C, G, T.",
             answer="number", rule=rules.gc_content, value_range=(0.0, 1.0)),
        Task("nt2aa", "generate", "amino acid sequence", (), ("exact_match", "identity"),
             "Translate an in-frame coding fragment (standard code), 3-letter residue codes.",
             answer="protein", rule=rules.translate),
        Task("reverse", "generate", "reverse sequence", (), ("exact_match", "identity"), "The sequence read backwards.",
             answer="dna", rule=rules.reverse),
        Task("complement", "generate", "complementary sequence", (), ("exact_match", "identity"), "The base-wise complement.",
             answer="dna", rule=rules.complement),
        Task("reverse_complement", "generate", "reverse complementary sequence", (), ("exact_match", "identity"),
             "The reverse complement.", answer="dna", rule=rules.reverse_complement),
        Task("gene_description", "generate", "gene description", (), ("exact_match", "rouge_l"),
             "The NCBI RefSeq summary of the gene.", answer="text"),
        Task("gene_name", "generate", "gene full name", (), ("exact_match", "rouge_l"), "The gene's full name.",
             answer="text"),
        Task("reading_comprehension", "extract", "", (), ("exact_match",),
             "Return the value of a field present in the prompt; the phrase is the question itself.", answer="field"),
        Task("histone_mark", "classify", "histone mark", YES_NO, ("mcc",),
             "Is this yeast nucleosome enriched in the histone mark? (GUE EMP)", paper=False, strand_symmetric=True),
    ]
}

# Tasks a user asks about a sequence by name (reading comprehension asks about a field, not a task).
SEQUENCE_TASKS = tuple(n for n, t in TASKS.items() if t.answer != "field")


def get_task(name: "str | Task") -> Task:
    """The entry of a task name (a Task passes through): resolve once at an entry point, pass the object down."""
    if isinstance(name, Task):
        return name
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None
