"""The assistant's tools: the exact rules, GenomicLLM for the learned tasks, and a gene look-up over the NCBI table.

Each tool is a plain method with type hints and a Google-style docstring, so `transformers.utils.get_json_schema`
builds the schema the chat template shows the LLM (`Toolbox.schemas()`); the docstrings are short on purpose: they
are rendered into every prompt. A `sequence` argument is what the user pasted, named by number ("1" for
`[sequence 1: … nt]`, see `references`); `Toolbox.call` resolves it to bases before the method runs, so the methods
themselves take bases (`Toolbox().gc_content("ACGT")` works from Python).

Values come from the single sources: exact answers from the task registry's rules (`tasks.grammar.exact_answer`,
`tasks.rules`), learned answers from the shipped GenomicLLM (`genomicllm_answers`, loaded on first use), gene
records from the NCBI table the caller hands in (`genes`: `dataset_scripts.annotation.ncbi_gene_table` reads the
sources folder's; a deployed Space has none, and the look-up then says so).

    python -m assistant.tools          # prints the tool schemas
"""

from __future__ import annotations

import difflib
import json
import re
import warnings
from collections.abc import Callable
from functools import cached_property
from typing import Any, Literal

from tasks.grammar import exact_answer
from tasks.registry import TASKS
from tasks.rules import find_orfs as orf_spans
from tasks.rules import translate as translate_rule

from .constrained import OPEN
from .references import REFERENCE, References, UnknownReference, short_references

# GenomicLLM's learned classifiers (the paper's; GUE's yeast histone task is left out of a human-DNA assistant)
LEARNED = tuple(n for n, t in TASKS.items() if t.kind == "classify" and t.paper)
LearnedTask = Literal[LEARNED]  # the enum of classify's schema, read from the registry
STORED = {"reverse": "sequence", "complement": "sequence", "reverse_complement": "sequence", "translate": "protein"}
TEXT_FIELDS = ("summary", "description")  # long text results, stored and referenced
QUERY_WORDS = 6  # a free-text argument is a run of at most this many of the user's words ...
QUERY_SPANS = 400  # ... one of at most this many runs
QUOTE_ENDS = " \t?!.,;:\"'()"  # stripped from a run's ends
# what a reply may write in bold about each tool's result (as the LLM read it); others: the result itself
STATED: dict[str, Callable[[Any], list]] = {
    "classify": lambda r: [r["answer"]],
    "gene_name": lambda r: [r["full_name"]],
    "gene_summary": lambda r: [r["summary"]],
    "describe_gene": lambda r: [r["description"]],
    "base_counts": lambda r: [", ".join(f"{k} {v}" for k, v in r.items())],
    "find_orfs": lambda r: [r["count"]],
}


def _exact(task: str, sequence: str) -> str:
    with warnings.catch_warnings():  # Biopython warns on a partial codon; the rule's answer is still right
        warnings.simplefilter("ignore")
        return exact_answer(task, sequence)


class Toolbox:
    """The tools of one assistant. `genomicllm`: a callable returning (tokenizer, model) of GenomicLLM (default: the
    shipped model, loaded on first use); `genes`: a callable returning the NCBI gene table indexed by symbol
    (columns full_name, summary, synonyms), read on first look-up; None: no gene look-up here."""

    NAMES = ("gc_content", "length", "base_counts", "reverse", "complement", "reverse_complement", "translate",
             "find_orfs", "classify", "describe_gene", "gene_name", "gene_summary")
    # optional arguments a call may write (others keep their defaults): value -> the words that name it; once the
    # user's words are known, a call may only write a value the user named ("frame 2", "the third base")
    CHOICES = {"frame": {1: ("1", "one", "first", "1st"), 2: ("2", "two", "second", "2nd"),
                         3: ("3", "three", "third", "3rd")}}
    # ... and where the newest message states one right after a word that says what it is ("frame 2", "from position
    # 3") or as an ordinal right before it ("the second base"), the call must write one of the stated values: the
    # user's number is read, not left to the LLM to retype or drop (as a sequence is referenced, never retyped).
    # A count is no position: "two bases", "three-letter codes" state nothing.
    STATES = {"frame": ("frame", "position", "base", "nucleotide", "nt", "offset")}
    ORDINALS = ("first", "1st", "second", "2nd", "third", "3rd")

    def __init__(self, genomicllm: Callable[[], tuple] | None = None, genes: Callable[[], Any] | None = None):
        self._genomicllm = genomicllm
        self._genes = genes

    # ------------------------------------------------------------------------------------------- exact rules
    def gc_content(self, sequence: str) -> float:
        """GC fraction.

        Args:
            sequence: Sequence number, e.g. "1".
        """
        return float(_exact("gc_content", sequence))

    def length(self, sequence: str) -> int:
        """Length in nt.

        Args:
            sequence: Sequence number, e.g. "1".
        """
        return len(sequence)

    def base_counts(self, sequence: str) -> dict:
        """Counts of A, C, G, T.

        Args:
            sequence: Sequence number, e.g. "1".
        """
        counts = {b: sequence.count(b) for b in "ACGT"}
        other = len(sequence) - sum(counts.values())
        return {**counts, **({"other": other} if other else {})}

    def reverse(self, sequence: str) -> str:
        """Read backwards, not complemented.

        Args:
            sequence: Sequence number, e.g. "1".
        """
        return _exact("reverse", sequence)

    def complement(self, sequence: str) -> str:
        """Complement, same order.

        Args:
            sequence: Sequence number, e.g. "1".
        """
        return _exact("complement", sequence)

    def reverse_complement(self, sequence: str) -> str:
        """Other strand, 5'->3'.

        Args:
            sequence: Sequence number, e.g. "1".
        """
        return _exact("reverse_complement", sequence)

    def translate(self, sequence: str, frame: int = 1) -> str:
        """Protein, standard code.

        Args:
            sequence: Sequence number, e.g. "1".
            frame: Start position 1, 2 or 3.
        """
        if frame not in (1, 2, 3):
            raise ValueError(f"frame must be 1, 2 or 3, not {frame!r}")
        coding = sequence[frame - 1 :]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return translate_rule(coding[: len(coding) // 3 * 3])

    def find_orfs(self, sequence: str, min_codons: int = 30) -> dict:
        """ATG..stop ORFs, forward strand.

        Args:
            sequence: Sequence number, e.g. "1".
            min_codons: Shortest ORF, in codons.
        """
        spans = sorted(orf_spans(sequence, min_codons), key=lambda s: s[1] - s[2])
        orfs = [{"frame": f, "start": s + 1, "end": e, "codons": (e - s) // 3} for f, s, e in spans[:5]]
        return {"count": len(spans), "longest": orfs}

    # ----------------------------------------------------------------------------------------- learned tasks
    def classify(self, task: LearnedTask, sequence: str) -> dict:
        """GenomicLLM's label and probabilities.

        Args:
            task: Question.
            sequence: Sequence number, e.g. "1".
        """
        from .genomicllm_answers import classify

        if task not in LEARNED:
            raise ValueError(f"unknown task {task!r}; one of {', '.join(LEARNED)}")
        return {"task": task, **classify(*self.genomicllm, task, sequence)}

    def describe_gene(self, sequence: str) -> dict:
        """GenomicLLM's description of the gene it starts.

        Args:
            sequence: Sequence number, e.g. "1".
        """
        from .genomicllm_answers import describe

        return describe(*self.genomicllm, sequence)

    def gene_name(self, query: str) -> dict:
        """NCBI full name of a gene.

        Args:
            query: Gene symbol or name.
        """
        symbol, row = self._gene(query)
        return {"symbol": symbol, "full_name": row["full_name"]}

    def gene_summary(self, query: str) -> dict:
        """NCBI summary of what a gene does.

        Args:
            query: Gene symbol or name.
        """
        symbol, row = self._gene(query)
        summary = str(row["summary"] or "").strip()  # NCBI summaries can end in a space: the value is the text
        return {"symbol": symbol, "full_name": row["full_name"], "summary": summary or "(no NCBI summary)"}

    def _gene(self, query: str) -> tuple:
        """(symbol, NCBI row) of a symbol, synonym or full name (case-blind); LookupError naming close symbols."""
        table, index = self.genes
        key = query.strip().upper()
        symbol = index.get(key)
        if symbol is None:
            close = difflib.get_close_matches(key, list(table.index), n=3)
            raise LookupError(f"no gene {query!r} in the NCBI table" + (f"; close: {', '.join(close)}" if close else ""))
        return symbol, table.loc[symbol]

    # ------------------------------------------------------------------------------------------- backends
    @cached_property
    def genomicllm(self) -> tuple:
        if self._genomicllm is not None:
            return self._genomicllm()
        from modeling.inference import load_model

        return load_model(None)

    @cached_property
    def genes(self):
        """(table indexed by symbol, upper-cased symbol / synonym / full name -> symbol)."""
        if self._genes is None:
            raise LookupError("no gene table here (a deployed Space has none): look the gene up with "
                              "`genomicllm chat` beside the sources folder")
        table = self._genes()
        index = {}
        for symbol, row in table.iterrows():  # symbols win over synonyms and names of other genes
            for name in [row.get("full_name", ""), *str(row.get("synonyms", "")).split("|")]:
                if name and name != "-":
                    index.setdefault(name.upper(), symbol)
        index.update({s.upper(): s for s in table.index})
        return table, index

    # --------------------------------------------------------------------------------------- for the model
    def schemas(self) -> list[dict]:
        from transformers.utils import get_json_schema

        return [get_json_schema(getattr(self, name)) for name in self.NAMES]

    def calls(self, refs: References, said: list[str] | None = None) -> tuple[list[dict], list[dict]]:
        """Every call the model may write now, for constrained decoding (`constrained`): (whole calls, calls whose
        free-text argument is left `OPEN`). Arguments in the schema's order, as training writes them; a sequence is
        one the conversation holds (or "1" when it holds none, so the tool's own error explains that); an enum takes
        its values, an optional argument of `CHOICES` is absent or one of its values (with `said`, one the user
        named; one the newest message states, and then never absent: `stated`); a free-text argument (a gene
        look-up's query) is a run of words the user `said` (`quoted_spans`), so a symbol is copied, never misspelt,
        or free text where the user said nothing."""
        numbers = [str(e.number) for e in refs.entries if e.kind == "sequence"] or ["1"]
        spans = quoted_spans(said or [])
        words = None if said is None else set(user_words(" ".join(said)))
        whole, opened = [], []
        for schema in self.schemas():
            f = schema["function"]
            required = f["parameters"].get("required", [])
            arguments = [{}]
            for key, p in f["parameters"]["properties"].items():
                if key == "sequence":
                    values = numbers
                elif "enum" in p:
                    values = p["enum"]
                elif key in self.CHOICES:
                    values = self.stated(key, said[-1]) if said else []
                    if values:  # written, and only as stated
                        arguments = [{**a, key: v} for a in arguments for v in values]
                        continue
                    values = [v for v, names in self.CHOICES[key].items() if words is None or words & set(names)]
                elif key in required:
                    values = spans or [OPEN]
                else:
                    continue
                values = values if key in required else [None, *values]
                arguments = [{**a, **({} if v is None else {key: v})} for a in arguments for v in values]
            for a in arguments:
                (opened if OPEN in a.values() else whole).append({"name": f["name"], "arguments": a})
        return whole, opened

    @classmethod
    def stated(cls, key: str, text: str) -> list:
        """The values of `CHOICES[key]` that `text` states beside one of `STATES[key]`'s words, in that order."""
        words, out = user_words(text), []
        for i, w in enumerate(words):
            if w in cls.STATES[key]:
                before = [words[i - 1]] if i and words[i - 1] in cls.ORDINALS else []
                for near in before + words[i + 1 : i + 2]:
                    out += [v for v, names in cls.CHOICES[key].items() if near in names and v not in out]
        return out

    def run(self, name: str, arguments: dict):
        """The tool's plain value (bases already resolved); subclasses may answer differently (training data)."""
        return getattr(self, name)(**arguments)

    def call(self, name: str, arguments: dict, refs: References) -> dict:
        """What the LLM reads back: {"result": …} with long values stored in `refs` as placeholders, or {"error": …}
        naming what was wrong (unknown tool, a bad argument, a sequence that is not valid DNA)."""
        if name not in self.NAMES:
            return {"error": f"unknown tool {name!r}"}
        args = dict(arguments or {})
        try:
            if "sequence" in self.signature(name):
                args["sequence"] = refs.resolve(args.get("sequence"))
            value = self.run(name, args)
        except (UnknownReference, ValueError, LookupError, TypeError) as e:
            return {"error": str(e)}
        return {"result": present(name, value, refs)}

    @staticmethod
    def signature(name: str) -> list[str]:
        import inspect

        return list(inspect.signature(getattr(Toolbox, name)).parameters)[1:]

    @staticmethod
    def defaults(name: str) -> dict:
        """The tool's optional arguments with their defaults (`translate`: {"frame": 1})."""
        import inspect

        return {p.name: p.default for p in inspect.signature(getattr(Toolbox, name)).parameters.values()
                if p.default is not p.empty}


def user_words(text: str) -> list[str]:
    """The user's words, lower case, placeholders left out (the "2" of "[sequence 2: 93 nt]" is no word of theirs)."""
    return re.findall(r"[a-z0-9]+", REFERENCE.sub(" ", text).lower())


def quoted_spans(texts: list[str]) -> list[str]:
    """The runs of up to `QUERY_WORDS` words of `texts` (oldest first), punctuation at their ends stripped and no
    placeholder or piece of one inside: what a free-text argument may be. At most `QUERY_SPANS`, the newest text's
    first."""
    out: dict[str, None] = {}
    for text in reversed(texts):
        words = REFERENCE.sub(" [] ", text).split()  # no piece of a placeholder ("1:" of "[sequence 1: 93 nt]")
        for i in range(len(words)):
            for j in range(i + 1, min(i + QUERY_WORDS, len(words)) + 1):
                run = " ".join(words[i:j]).strip(QUOTE_ENDS)
                if run and "[" not in run and "]" not in run:
                    out.setdefault(run)
                if len(out) >= QUERY_SPANS:
                    return list(out)
    return list(out)


def present(name: str, value, refs: References):
    """A tool's value as the LLM reads it: long sequences, proteins and texts become references."""
    if name in STORED:
        return refs.store(STORED[name], value, name)
    if isinstance(value, dict):
        return {k: refs.store("text", v, name) if k in TEXT_FIELDS and v else v for k, v in value.items()}
    return value


def stated(name: str, result) -> list[str]:
    """The values a reply may state in bold about `result` (tool `name`'s, as the LLM read it), as the reply writes
    them: numbers as JSON writes them, stored values by their short reference (`[text 1]`)."""
    values = STATED.get(name, lambda r: [r])(result)
    return [short_references(json.dumps(v) if isinstance(v, (int, float)) else str(v)) for v in values]


def main() -> None:
    print(json.dumps(Toolbox().schemas(), indent=1))


if __name__ == "__main__":
    main()
