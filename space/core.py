"""What the Space computes for one question, independent of the UI: input parsing, windowing, verification, plots.

- `read_records(text, file)`: pasted text or an uploaded FASTA -> [(name, cleaned sequence)], with friendly errors
  (`InputError`) for empty input, bad letters (line/column named), or input over `MAX_BASES`.
- `answer(tok, model, task, seq)`: a `Result`. A sequence longer than the task's window (what fits the 512-token
  context together with its answer) is cut explicitly into windows (`window_sequence(..., align=6)`, no overlap, so
  k-mers keep their frame), each window is answered, and the answers are aggregated (length-weighted mean number,
  joined sequences / proteins, mean class probabilities). Nothing is truncated silently.
- Tasks with an exact rule carry the rule's answer (`tasks.grammar.exact_answer`) and whether the model agrees;
  classifiers carry class probabilities from their label head, else the answer-token scores (`modeling.scores`).

What differs by task is read from its registry entry (`tasks.registry.Task`: kind, answer, rule), never its name.
"""

from __future__ import annotations

import functools
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from modeling.inference import (  # noqa: F401 - window_align / window_size are part of this module's API
    TEXT_ANSWER_TOKENS, QuestionTooLongError, ask, dna_kmer, window_align, window_size)
from modeling.scores import head, head_note, own_heads
from tasks.grammar import Unparseable, exact_answer, parse_answer
from tasks.metrics import NUMBER_TOLERANCE, agrees, identity
from tasks.registry import SEQUENCE_TASKS, Task, get_task
from tasks.rules import STOPS, find_orfs  # noqa: F401 - find_orfs is part of this module's API


MAX_BASES = 100_000  # documented input limit of the Space (per sequence)
MAX_RECORDS = 200  # Batch tab: records per file
TASK_CHOICES = list(SEQUENCE_TASKS)  # reading comprehension asks about fields, not a sequence
LOCK = threading.Lock()  # one model call at a time: the tokenizer's padding state is shared


class InputError(ValueError):
    """A friendly, specific message about the user's input."""


@functools.cache
def reads_backwards(task: Task) -> bool:
    """Whether the task's rule answers the last part of a sequence first (reverse, reverse complement), so window
    answers are joined last window first: probed on two codons, as the rule itself joins pieces."""
    if task.rule is None:
        return False
    first, second = task.rule("ATG"), task.rule("GCT")
    return task.rule("ATGGCT") == second + first and second + first != first + second


def _read_file(file) -> str:
    path = Path(file if isinstance(file, (str, Path)) else getattr(file, "name", file))
    if path.stat().st_size > 4 * MAX_BASES * MAX_RECORDS:
        raise InputError(f"the file is {path.stat().st_size:,} bytes; the Space reads files up to "
                         f"{4 * MAX_BASES * MAX_RECORDS:,} bytes")
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not a text (FASTA) file") from None


def split_fasta(text: str) -> list[tuple[str, str]]:
    """[(name, raw record text)]; text without '>' headers is one record named 'sequence'. Each record's text is
    preceded by as many empty lines as came before it, so error messages name lines of the whole input."""
    records, name, lines, first = [], None, [], 0
    for i, line in enumerate(text.splitlines()):
        if line.lstrip().startswith(">"):
            if name is not None or any(s.strip() for s in lines):
                records.append((name or "sequence", "\n" * first + "\n".join(lines)))
            name, lines, first = line.lstrip()[1:].strip() or f"record_{len(records) + 1}", [], i + 1
        else:
            lines.append(line)
    if name is not None or any(s.strip() for s in lines):
        records.append((name or "sequence", "\n" * first + "\n".join(lines)))
    return records


def read_records(tok, text: str | None, file=None, many: bool = False) -> list[tuple[str, str]]:
    """Cleaned (name, sequence) records from pasted text and/or an uploaded file; InputError when unusable."""
    raw = (text or "").strip()
    if file:
        raw = (raw + "\n" if raw else "") + _read_file(file)
    if not raw.strip():
        raise InputError("No sequence given: paste DNA (raw or FASTA) or upload a FASTA file.")
    records = split_fasta(raw)
    if not records:
        raise InputError("No sequence given: the text holds only FASTA headers.")
    if not many and len(records) > 1:
        raise InputError(f"{len(records)} FASTA records were given; ask about one at a time here, or use the Batch "
                         "tab for many.")
    if len(records) > MAX_RECORDS:
        raise InputError(f"{len(records)} records; the Batch tab takes up to {MAX_RECORDS} per file.")
    out = []
    for name, body in records:
        where = f"record {name!r}: " if len(records) > 1 or name != "sequence" else ""
        letters = sum(1 for ch in body if not ch.isspace())
        if letters > MAX_BASES:
            raise InputError(f"{where}the sequence is {letters:,} letters; this Space accepts up to {MAX_BASES:,} "
                             "bases per sequence. Split it, or run the model locally with window_sequence.")
        try:
            seq = tok.normalize_sequence(body)
        except ValueError as e:
            msg = str(e)
            if msg == "no sequence letters found":
                msg = "no sequence letters found (empty record)"
            raise InputError(f"Invalid sequence: {where}{msg}") from None
        out.append((name, seq))
    return out


@dataclass
class Window:
    start: int
    end: int
    text: str  # the model's raw answer ("" for classification scored without generation)
    value: object  # parsed answer or Unparseable
    probs: dict | None = None


@dataclass
class Result:
    task: Task
    sequence: str
    windows: list[Window]
    value: object  # aggregated answer (label, float, sequence, protein, text) or Unparseable
    probs: dict | None = None  # classifiers: mean class probabilities over windows
    probs_from: str = "the answer-token scores"  # what read them: a label head where the task has one
    exact: object = None  # exact-computable tasks: the rule's value (parsed), else None
    agree: bool | None = None
    identity: float | None = None  # generate tasks: fraction of positions equal to the exact answer
    notes: list[str] = field(default_factory=list)

    @property
    def windowed(self) -> bool:
        return len(self.windows) > 1

    @property
    def answer_text(self) -> str:
        v = self.value
        if isinstance(v, Unparseable):
            return f"(unparseable: {v.reason}) {v.text.strip()!r}"
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)


def _windows(tok, task: Task, seq: str, size: int):
    """Windows of up to `size` bases; a last one too short for the tokenizer to read as bases (`ask` refuses it:
    `modeling.inference.shortest_dna`) shares the last two windows' bases with the one before it instead."""
    if len(seq) <= size:
        return [(0, len(seq), seq)]
    align = window_align(tok)
    wins = tok.window_sequence(seq, size, 0, align=align)
    (start, _, _), (tail, end, _) = wins[-2], wins[-1]
    if tok.find_dna_spans(seq[tail:end]) != [(0, end - tail)]:
        mid = start + (end - start) // 2 // align * align
        wins[-2:] = [(start, mid, seq[start:mid]), (mid, end, seq[mid:end])]
    return wins


def _ask_window(tok, model, task: Task, seq: str, start: int, depth: int = 0) -> list[Window]:
    try:
        with LOCK:
            a = ask(tok, model, task, seq)
        return [Window(start, start + len(seq), a.text, a.value)]
    except (QuestionTooLongError, ValueError) as e:  # unusual letters tokenized long: halve and retry
        if depth > 4 or len(seq) <= 60 or "nucleotide" in str(e):
            raise
        align = window_align(tok)
        half = max(align, (len(seq) // 2) // align * align)
        return (_ask_window(tok, model, task, seq[:half], start, depth + 1)
                + _ask_window(tok, model, task, seq[half:], start + half, depth + 1))


def answer(tok, model, task: str | Task, seq: str, progress=None, benchmark: str | None = None) -> Result:
    """Answer `task` about a cleaned sequence, windowed when it is longer than the task's window; a classification
    by the head fitted on `benchmark` where given (`modeling.inference.ask`)."""
    t = get_task(task)
    if t.answer == "field":
        raise InputError(f"{t.name} needs fields and a question; it is not offered here")
    if benchmark and t.kind != "classify":
        raise ValueError(f"{t.name} is not a classification: only a classification is asked of one benchmark's head")
    size = window_size(tok, model, t)
    wins = _windows(tok, t, seq, size)
    notes = [head_note(model, t, benchmark)] if t.kind == "classify" and (benchmark or own_heads(model, t)) else []
    if len(wins) > 1:
        notes.append(f"The sequence ({len(seq):,} nt) is longer than one question can hold for this task "
                     f"({size:,} nt), so it was cut into {len(wins)} windows of up to {size:,} nt (no overlap, "
                     f"starting at multiples of {window_align(tok)}) and each was asked separately.")
    results: list[Window] = []
    for i, (start, end, wseq) in enumerate(wins):
        if progress is not None:
            progress((i, len(wins)), desc=f"window {i + 1}/{len(wins)}")
        if t.kind == "classify":  # one reading gives the label and every label's probability
            with LOCK:
                a = ask(tok, model, t, wseq, benchmark=benchmark)
            results.append(Window(start, end, a.text if len(wins) == 1 else "", a.value, a.probabilities))
        else:
            results.extend(_ask_window(tok, model, t, wseq, start))
    res = Result(t, seq, results, None, notes=notes)
    if t.kind == "classify" and head(model, t, benchmark) is not None:
        res.probs_from = "the label head"
    _aggregate(res)
    _verify(res)
    return res


def _aggregate(res: Result) -> None:
    t, ws = res.task, res.windows
    bad = [w for w in ws if isinstance(w.value, Unparseable)]
    if t.kind == "classify":
        labels = t.labels
        res.probs = {lab: sum(w.probs[lab] * (w.end - w.start) for w in ws) / len(res.sequence) for lab in labels}
        best = max(res.probs, key=res.probs.get)
        if len(ws) == 1:
            res.value = ws[0].value
            if isinstance(res.value, Unparseable) or res.value != best:
                res.notes.append(f"Highest-probability label: {best} ({res.probs[best]:.0%}).")
        else:
            votes = {lab: sum(max(w.probs, key=w.probs.get) == lab for w in ws) for lab in labels}
            res.value = best
            res.notes.append("Aggregate = label with the highest length-weighted mean probability; window votes: "
                             + ", ".join(f"{k} {v}" for k, v in votes.items() if v) + ".")
        return
    if bad and len(ws) > 1:
        res.value = Unparseable(" | ".join(w.text for w in bad), f"{len(bad)} of {len(ws)} window answers unparseable")
        return
    if len(ws) == 1:
        res.value = ws[0].value
        return
    if t.answer == "number":
        res.value = sum(w.value * (w.end - w.start) for w in ws) / len(res.sequence)
        res.notes.append("Aggregate = length-weighted mean of the window answers.")
    elif t.answer in ("dna", "protein") and reads_backwards(t):
        res.value = "".join(w.value for w in reversed(ws))
        res.notes.append("Aggregate = window answers joined (last window first).")
    elif t.answer in ("dna", "protein"):
        res.value = "".join(w.value for w in ws)
        res.notes.append("Aggregate = window answers joined in order.")
    else:
        res.value = ws[0].value
        res.notes.append("Aggregate = the first window's answer (a gene is described from its start); every "
                         "window's answer is listed below.")


def _verify(res: Result) -> None:
    t, seq = res.task, res.sequence
    if t.rule is None:
        return
    if t.answer == "protein" and len(seq) % 3:
        res.notes.append(f"{len(seq) % 3} trailing base(s) do not make a whole codon and are not translated.")
        seq = seq[: len(seq) // 3 * 3]
    if t.answer == "number" and not any(c in "ACGT" for c in seq):
        res.notes.append(f"No A/C/G/T letters: the {t.phrase} is undefined.")
        return
    with warnings.catch_warnings():  # Biopython warns on a partial codon; the rule's answer is still right
        warnings.simplefilter("ignore")
        res.exact = parse_answer(t, exact_answer(t, seq))
    v = res.value
    res.agree = agrees(t, v, res.exact)
    if t.answer != "number" and not isinstance(v, Unparseable):
        res.identity = identity(str(res.exact), str(v))


def shorten(text: str, width: int = 400) -> str:
    text = str(text)
    return text if len(text) <= width else f"{text[: width - 60]} … {text[-40:]} ({len(text):,} characters)"


def markdown(res: Result, routed: str | None = None) -> str:
    """The answer as the UI shows it."""
    t = res.task
    lines = []
    if routed:
        lines.append(routed)
    lines.append(f"**Task:** {t.name} ({t.description}) · **sequence:** {len(res.sequence):,} nt"
                 + (f" in {len(res.windows)} windows" if res.windowed else ""))
    answer = res.answer_text
    if t.answer in ("dna", "protein") and not isinstance(res.value, Unparseable):
        answer = f"`{shorten(answer)}`"
    lines.append(f"**Model's answer:** {answer}")
    if res.probs:
        lines.append(f"**Class probabilities** (from {res.probs_from}): "
                     + ", ".join(f"{k} {v:.1%}" for k, v in sorted(res.probs.items(), key=lambda kv: -kv[1])))
    if res.exact is not None:
        exact = f"{res.exact:.3f}" if isinstance(res.exact, float) else f"`{shorten(res.exact)}`"
        mark = "✓ **AGREES**" if res.agree else "✗ **DISAGREES**"
        extra = ""
        if t.answer == "number" and not isinstance(res.value, Unparseable):
            extra = f" (difference {abs(float(res.value) - res.exact):.3f}; tolerance {NUMBER_TOLERANCE})"
        elif res.identity is not None:
            extra = f" ({res.identity:.1%} of positions match)"
        lines.append(f"**Exact answer** (computed with Biopython): {exact}")
        lines.append(f"**Check:** {mark} with the exact answer{extra}")
    for note in res.notes:
        lines.append(f"_{note}_")
    if res.windowed:
        rows = ["| window | start–end | answer |", "|---|---|---|"]
        for i, w in enumerate(res.windows[:50], 1):
            ans = (", ".join(f"{k} {v:.0%}" for k, v in w.probs.items()) if w.probs
                   else shorten(w.text, 60) if not isinstance(w.value, float) else f"{w.value:.3f}")
            rows.append(f"| {i} | {w.start + 1}–{w.end} | {ans} |")
        if len(res.windows) > 50:
            rows.append(f"| … | | {len(res.windows) - 50} more windows |")
        lines.append("\n".join(rows))
    return "\n\n".join(lines)


def csv_row(name: str, res: Result) -> dict:
    row = {"name": name, "length": len(res.sequence), "task": res.task.name, "windows": len(res.windows),
           "answer": res.answer_text, "parseable": not isinstance(res.value, Unparseable)}
    if res.probs:
        row.update({f"p_{k}": round(v, 4) for k, v in res.probs.items()})
    if res.task.rule is not None:
        row["exact"] = f"{res.exact:.3f}" if isinstance(res.exact, float) else res.exact
        row["agrees"] = res.agree
    return row


# --- pictures -------------------------------------------------------------------------------------------------

def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def gc_profile(seq: str, window: int | None = None) -> tuple[list[int], list[float], int]:
    """(window centres, GC fraction of each window, window size): a sliding window over the sequence."""
    n = len(seq)
    window = window or max(10, min(200, n // 20 or 10))
    window = min(window, n)
    step = max(1, window // 4)
    xs, ys = [], []
    for start in range(0, max(1, n - window + 1), step):
        chunk = seq[start : start + window]
        acgt = sum(chunk.count(c) for c in "ACGT")
        if acgt:
            xs.append(start + len(chunk) // 2 + 1)
            ys.append((chunk.count("G") + chunk.count("C")) / acgt)
    return xs, ys, window


def gc_plot(seq: str, res: Result | None = None):
    plt = _plt()
    xs, ys, w = gc_profile(seq)
    fig, ax = plt.subplots(figsize=(8, 2.8))
    ax.plot(xs, ys, color="tab:green", lw=1.2, label=f"GC in a {w} nt sliding window")
    overall = sum(seq.count(c) for c in "GC") / max(1, sum(seq.count(c) for c in "ACGT"))
    ax.axhline(overall, color="grey", ls="--", lw=0.8, label=f"whole sequence {overall:.3f}")
    if res is not None and res.task.answer == "number":  # the model's GC answer of each window
        pts = [((w_.start + w_.end) / 2, w_.value) for w_ in res.windows if isinstance(w_.value, float)]
        if pts:
            ax.scatter(*zip(*pts), color="tab:purple", zorder=3, s=18, label="model's answer per window")
    ax.set_ylim(0, 1)
    ax.set_xlabel("position (nt)")
    ax.set_ylabel("GC fraction")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    plt.close(fig)
    return fig


def orf_plot(seq: str, min_codons: int = 10):
    plt = _plt()
    orfs = find_orfs(seq, min_codons)
    fig, ax = plt.subplots(figsize=(8, 2.2))
    for frame in range(3):
        y = 3 - frame
        ax.plot([0, len(seq)], [y, y], color="lightgrey", lw=6, solid_capstyle="butt")
        stops = [i for i in range(frame, len(seq) - 2, 3) if seq[i : i + 3] in STOPS]
        if len(stops) <= 2000:
            ax.scatter(stops, [y] * len(stops), marker="|", color="tab:red", s=120, lw=1.2, zorder=3)
    for frame, s, e in orfs:
        ax.plot([s, e], [4 - frame, 4 - frame], color="tab:blue", lw=6, solid_capstyle="butt", zorder=2)
    ax.set_yticks([3, 2, 1], ["frame 1", "frame 2", "frame 3"])
    ax.set_ylim(0.4, 3.6)
    ax.set_xlim(0, max(1, len(seq)))
    ax.set_xlabel("position (nt)")
    ax.set_title(f"Forward reading frames: {len(orfs)} ORF(s) ATG..stop of ≥{min_codons} codons (blue), "
                 "stop codons (red)", fontsize=8)
    fig.tight_layout()
    plt.close(fig)
    return fig


def picture(res: Result):
    """The plot that goes with an answer, or None: GC along the sequence for the number (GC content) answer, the
    reading frames and their ORFs for a protein."""
    if res.task.answer == "number":
        return gc_plot(res.sequence, res)
    if res.task.answer == "protein":
        return orf_plot(res.sequence)
    return None
