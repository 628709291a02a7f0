"""Fit the aligned copy's gate into a model folder's `config.json` (`aligned_gate`, `dna_complement_ids`).

Why: the run-relative streams let attention find the prompt base an answer copies, but the copy must still reach
the logits through every layer above: five CPU-hours left the shipped model's complements wrong on 9 of 400 test rows,
mostly by a single base. The aligned copy (`modeling/modeling_genomicllm.py: _aligned_copy`) offers the answer the
base that the one alignment its bases so far follow would write next (`positions_genomicllm.aligned_writes`); this
script fits the gate that weighs that base against the LM: a linear map of the final state, like a label head. The
model's weights are not touched, and its hidden states are not either.

The fit reads train rows of every source of the mixture (`load_mixture`, `--rows` per source; each source weighs
alike), encoded as training encodes them, and at every answer position where a base is offered it minimises
- the next token's negative log-likelihood under the mixture, `-log(g_0 p_lm(y) + g_k [k writes y])`, and
- the switch's, `-log g_k` where the offered base is the next token, `-log g_0` where it is not: where the LM is
  already right, the first term does not care who wrote the base, and the gate would stay between the two,
with L-BFGS on the standardised states until it converges (seconds; the forward passes are the cost). What did worse
on dev, with a gate choosing among all four ways from the first base on: trained by SGD beside the pointer heads
(400 CPU-s) it stayed mixing (200 rows: complement 0.995 -> 0.975, NT2AA 0.995 -> 0.920); fitted here, it could not
always tell a reverse from a reverse complement, or a complement from a reverse complement, at the answer's first
bases (400 rows: reverse 1.000 -> 0.985; or complement 0.988 -> 0.973, the wrong alignment then followed to the end).
The bases the LM writes first tell them apart; the gate now only says whether to copy.

The train splits hold sequences of 20 nt and more (`corpus_tasks.WINDOW`), the training crops 12 and more, while the
tokenizer reads a sequence as bases from 8 (`tokenizer.rule.MIN_RUN`). A gate fitted on train rows alone left the LM
to end 8- and 9-nt answers a base early (reverse exact 0.36 at 8 nt, complement 0.12; 1.00 from 10 nt), so the fit
also reads `--short-rows` crops of `SHORT` lengths per task that answers bases; with them, 1.00 and 0.98 at 8 nt
(`studies/results/short_lengths.md`). Nor does any train sequence hold an N (the corpus drops windows with one), while
a pasted one may (an assembly gap, a masked stretch): with one run of 1-10 N in a 40-nt sequence, reverse was right on
0.19, complement on 0.44; the fit also reads `--gap-rows` crops holding such a run (`studies/results/gap_runs.md`).

    python -m finetune.training.aligned_gate --model release/GenomicLLM --rows 100 --short-rows 100 --gap-rows 100
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from modeling.inference import load
from modeling.modeling_genomicllm import offered_only
from modeling.positions_genomicllm import key_table
from dataset_scripts.corpus_tasks import WINDOW
from tasks.benchmarks import DATASETS_DIR
from tasks.grammar import exact_answer, render_prompt
from tasks.registry import get_task
from tasks.rules import complement
from tokenizer import rule

from .data import CROPS, crop_sources, encode_row, load_mixture
from .folder_config import edited_config

BATCH = 8  # rows per forward pass
SHORT = (rule.MIN_RUN, WINDOW[0] - 1)  # the lengths the model reads as DNA that no train row has
GAP = (1, 10)  # N letters in a gap crop's one run


def complement_token_ids(tok) -> list[list[int]]:
    """[id, complement id] for every single-letter nucleotide token whose complement (`tasks.rules.complement`) is
    another token: what the aligned copy writes for a complemented base."""
    vocab = tok.get_vocab()
    pairs = sorted([vocab[b], vocab[complement(b)]] for b in rule.RUN_LETTERS + rule.IUPAC_UPPER
                   if b in vocab and complement(b) in vocab and complement(b) != b)
    if not pairs:
        raise ValueError(f"{tok.name_or_path}: no single-base tokens to complement (the aligned copy needs them)")
    return pairs


@torch.no_grad()
def switch_examples(model, rows: list[tuple[np.ndarray, int]]) -> dict[str, torch.Tensor]:
    """At every answer position of `rows` ((ids, prompt tokens) as training encodes them) where the aligned copy may
    write: the final state `h` (N, D), the ids the alignments offer (N, 2A; -1: not offered), the next token `y`
    (N,) and the LM's log-probability of it (N,), from a model without the aligned copy."""
    out = {"h": [], "written": [], "y": [], "lm": []}
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        real = torch.zeros(len(chunk), width, dtype=torch.bool)
        answer = torch.zeros_like(real)
        for i, (row, n_prompt) in enumerate(chunk):
            ids[i, : len(row)] = torch.as_tensor(row, dtype=torch.long)
            real[i, : len(row)] = True
            answer[i, n_prompt : len(row)] = True  # targets: the answer and its end
        result = model(input_ids=ids, attention_mask=real.long(), output_hidden_states=True)
        writes = model.model.position_streams.aligned_writes(ids, real)  # (B, 2A, S)
        target = torch.nn.functional.pad(ids[:, 1:], (0, 1))
        keep = (writes >= 0).any(1) & torch.nn.functional.pad(answer[:, 1:], (0, 1), value=False)
        b, t = keep.nonzero(as_tuple=True)
        out["h"].append(result.hidden_states[-1][b, t].float())
        out["written"].append(writes.transpose(1, 2)[b, t])
        out["y"].append(target[b, t])
        out["lm"].append(result.logits[b, t].float().log_softmax(-1).gather(1, target[b, t, None])[:, 0])
    return {k: torch.cat(v) if v else torch.zeros(0) for k, v in out.items()}


def gate_loss(weight: torch.Tensor, bias: torch.Tensor, ex: dict[str, torch.Tensor], importance: torch.Tensor):
    """The weighted mean of the mixture's and the switch's negative log-likelihoods (the module docstring)."""
    log_gate = torch.log_softmax(offered_only(ex["h"] @ weight.T + bias, ex["written"]), dim=-1)  # (N, 1 + 2A)
    match = ex["written"] == ex["y"][:, None]  # (N, 2A)
    copied = torch.logsumexp(log_gate[:, 1:].masked_fill(~match, float("-inf")), dim=1)
    mixture = torch.logaddexp(log_gate[:, 0] + ex["lm"], copied)
    allowed = torch.cat([~match.any(1, keepdim=True), match], dim=1)
    switch = torch.logsumexp(log_gate.masked_fill(~allowed, float("-inf")), dim=1)
    return -((mixture + switch) * importance).sum()


def fit_gate(ex: dict[str, torch.Tensor], importance: torch.Tensor, l2: float = 1e-5, steps: int = 1000):
    """(weight (1 + 2A, D), bias) minimising `gate_loss` + l2 |weight|^2 by L-BFGS from zero (a uniform gate), on
    standardised states (the scaling folded into the weights, as the label heads do): a few positions decide a whole
    answer (the first base of a reverse, where only the question tells it from a reverse complement), so the fit
    must converge, not stop near."""
    mean, std = ex["h"].mean(0), ex["h"].std(0).clamp_min(1e-6)
    z = {**ex, "h": (ex["h"] - mean) / std}
    rows = 1 + ex["written"].shape[1]
    weight = torch.zeros(rows, ex["h"].shape[1], requires_grad=True)
    bias = torch.zeros(rows, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=steps, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = gate_loss(weight, bias, z, importance) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    weight, bias = weight.detach() / std, bias.detach()
    return weight, bias - weight @ mean


def switch_accuracy(weight: torch.Tensor, bias: torch.Tensor, ex: dict[str, torch.Tensor]) -> float:
    """The share of positions whose most weighed share is one that writes the next token (the LM where none does)."""
    choice = offered_only(ex["h"] @ weight.T + bias, ex["written"]).argmax(1)
    match = ex["written"] == ex["y"][:, None]
    allowed = torch.cat([~match.any(1, keepdim=True), match], dim=1)
    return float(allowed.gather(1, choice[:, None]).float().mean())


def _copied_sources(root: Path, tok, lengths: tuple[int, int]) -> list:
    """Crop sources (`data.crop_sources`) of the tasks whose answers the copy may write (bases; a protein is never
    offered one), drawing windows of `lengths` bases."""
    sources = crop_sources(root, tok, [name for name in CROPS if get_task(name).answer == "dna"])
    for source in sources:
        source.min_len, source.start_len, source.max_len = lengths[0], lengths[1], lengths[1]
    return sources


def short_rows(root: Path, tok, rows: int, seed: int = 0) -> list[list[tuple[np.ndarray, int]]]:
    """Per task that answers bases, `rows` crops of its train sequences of `SHORT` lengths, encoded as training
    encodes them."""
    rng = np.random.default_rng(seed)
    return [[source.draw(rng, 1.0) for _ in range(rows)] for source in _copied_sources(root, tok, SHORT)]


def gap_rows(root: Path, tok, rows: int, seed: int = 0) -> list[list[tuple[np.ndarray, int]]]:
    """Per task that answers bases, `rows` windows of its train sequences as long as train rows are (`WINDOW`), each
    with one run of `GAP` N letters put in at a random place, answered by the rule, encoded as training encodes them."""
    rng = np.random.default_rng([seed, 7])
    out = []
    for source in _copied_sources(root, tok, WINDOW):
        made = []
        for _ in range(rows):
            window = source.window(rng, 1.0)
            gap = int(rng.integers(GAP[0], GAP[1] + 1))
            at = int(rng.integers(0, len(window) - gap + 1))
            window = window[:at] + "N" * gap + window[at + gap :]
            made.append(encode_row(tok, render_prompt(source.task, window), exact_answer(source.task, window)))
        out.append(made)
    return out


def fit(folder: Path, rows: int, root: Path = DATASETS_DIR, seed: int = 0, short: int = 0, gaps: int = 0) -> dict:
    """Fit the gate on `rows` train rows of every source, `short` short crops and `gaps` crops with an N run per
    task that answers bases (`short_rows`, `gap_rows`), and write it into `folder`'s config.json; returns what was
    written (the gate with its fit's figures)."""
    start = time.process_time()
    tok, model = load(folder)
    if not model.config.uses_streams:
        raise ValueError(f"{folder}: the aligned copy reads the run-relative position streams; this model has none")
    model.config.aligned_gate = None  # fit from the model's own logits, not a copy fitted before
    pairs = complement_token_ids(tok)
    model.model.position_streams.complement_of.copy_(key_table(model.config.vocab_size, pairs))
    mixture = load_mixture(root, tok, model.config.max_position_embeddings, max_rows_per_source=rows, seed=seed)
    parts, importance = [], []
    crops = (short_rows(root, tok, short, seed) if short else []) + (gap_rows(root, tok, gaps, seed) if gaps else [])
    for source_rows in [[s.example(i) for i in range(len(s))] for s in mixture.sources] + crops:
        ex = switch_examples(model, source_rows)
        if len(ex["y"]):
            parts.append(ex)
            importance.append(torch.full((len(ex["y"]),), 1.0 / len(ex["y"])))  # each source weighs alike
    if not parts:
        raise ValueError(f"{folder}: no answer of {rows} rows per source was offered an aligned copy (its bases "
                         "must be tokens of one base each, as the 'char' tokenizer cuts them)")
    ex = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    importance = torch.cat(importance) / len(parts)
    weight, bias = fit_gate(ex, importance)
    gate = {"weight": weight.tolist(), "bias": bias.tolist(), "rows_per_source": rows,
            "short_rows": short, "short_lengths": list(SHORT) if short else None,
            "gap_rows": gaps, "gap_lengths": list(GAP) if gaps else None, "positions": len(ex["y"]),
            "switch_accuracy": round(switch_accuracy(weight, bias, ex), 4),
            "cpu_s": round(time.process_time() - start, 1)}
    with edited_config(folder) as config:
        config.update(aligned_gate=gate, dna_complement_ids=pairs)
    return gate


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a model folder (a run's release/, or the shipped one)")
    ap.add_argument("--rows", type=int, default=100, help="train rows per source (default: %(default)s)")
    ap.add_argument("--short-rows", type=int, default=100,
                    help="crops of %d-%d nt per task that answers bases (default: %%(default)s)" % SHORT)
    ap.add_argument("--gap-rows", type=int, default=100,
                    help="crops with a run of %d-%d N per task that answers bases (default: %%(default)s)" % GAP)
    ap.add_argument("--datasets", type=Path, default=DATASETS_DIR)
    args = ap.parse_args(argv)
    gate = fit(args.model, args.rows, args.datasets, short=args.short_rows, gaps=args.gap_rows)
    print(json.dumps({k: v for k, v in gate.items() if k not in ("weight", "bias")}))


if __name__ == "__main__":
    main()
