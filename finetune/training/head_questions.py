"""How each head's task is asked and answered, in the tokenizer's ids: what lets `generate` answer with the head.

A label head (`label_heads.py`) reads a classification question far better than the LM's greedy text, and a value
head writes GC content to 0.00075 where the digits are off by 0.029; `ask` used them, `model.generate` did not. The
model answers with a head (`modeling/heads_genomicllm.py`) once the head's entry in `config.json` says, in ids:
- `question_ids`: how the question ends, ", <task phrase> =" (after the sequence, with or without fields);
- a label head's `answer_ids`: each label as the training examples write it, " " + label, then </s>;
- a value head's `number_pieces` (the tokenizer's tokens that write " <number>"), `decimals` and `value_range`;
- `strand_symmetric`: read the question about both strands, as the head was fitted (with `dna_complement_ids`,
  the bases' complements, `aligned_gate.complement_token_ids`);
- `readings`: where other readings of the sequence decide the label (`Task.readings`: sequence direction read
  backwards, an ORF frame from its second and third base), per reading the index of each label's answer read so,
  as `modeling.scores` reads them all.
Each is read from the prompt grammar and the tokenizer, and checked against the tokenizer (a number it would cut
otherwise, a phrase it writes differently after fields, is an error). The weights and the heads are not touched.

    python -m finetune.training.head_questions --model release/GenomicLLM
"""

from __future__ import annotations

import argparse
from pathlib import Path

from finetune.training.aligned_gate import complement_token_ids
from finetune.training.folder_config import edited_config
from modeling.heads_genomicllm import render_number
from tasks.grammar import render_answer, render_prompt
from tasks.registry import get_task

PROBES = ("ACGTTGCAAGGCTTAACGGT", "TTTTGGGGCCCCAAAANNAC")  # the tail must not depend on the sequence
FIELDS = (None, {"chromosome": "chr1", "strand": "+"})  # asked without and with the corpus' fields
QUESTION_KEYS = ("question_ids", "strand_symmetric", "answer_ids", "readings", "number_pieces", "decimals",
                 "value_range")


def question_ids(tok, task) -> list[int]:
    """The ids a question about a sequence ends in after the sequence: the common end of the question about two
    sequences that end in different bases, each with and without fields."""
    asked = [tok(render_prompt(task, sequence, fields), add_special_tokens=False)["input_ids"]
             for sequence in PROBES for fields in FIELDS]
    size = 0
    while size < min(map(len, asked)) and len({tuple(ids[-size - 1 :]) for ids in asked}) == 1:
        size += 1
    tail = asked[0][-size:] if size else []
    if not tail or any(tok.decode(ids[: len(ids) - size]).rstrip().endswith(",") for ids in asked):
        raise ValueError(f"{task.name}: the tokenizer does not end every question about a sequence in the same "
                         f"tokens after it ({tok.convert_ids_to_tokens(tail)}); a head can answer only such questions")
    return tail


def number_pieces(tok, task) -> dict[str, int]:
    """The tokens that write every answer of a value task (each step of its decimals over its range), as text ->
    id, checked: cut by longest match, each answer is what the tokenizer writes."""
    lo, hi = task.value_range
    steps = round((hi - lo) * 10**task.decimals)
    answers = [" " + render_answer(task, lo + i / 10**task.decimals) for i in range(steps + 1)]
    written = [tok(text, add_special_tokens=False)["input_ids"] for text in answers]
    pieces = {tok.decode([i], clean_up_tokenization_spaces=False): i for ids in written for i in ids}
    entry = {"number_pieces": pieces, "decimals": task.decimals}
    for text, ids in zip(answers, written):
        if render_number(float(text), entry) != ids:
            raise ValueError(f"{task.name}: {text!r} cut into the number pieces is not what the tokenizer writes")
    return pieces


def asked(tok, config: dict, task_name: str) -> dict:
    """The entry keys that say how `task_name` is asked and answered, for a model whose config is `config`."""
    task = get_task(task_name)
    out = {"question_ids": question_ids(tok, task),
           "strand_symmetric": task.strand_symmetric}
    if task.kind == "regress":
        return {**out, "number_pieces": number_pieces(tok, task), "decimals": task.decimals,
                "value_range": list(task.value_range)}
    eos = config["eos_token_id"]
    out["answer_ids"] = [tok(" " + label, add_special_tokens=False)["input_ids"] + [eos] for label in task.labels]
    if task.readings:  # per reading, the index of the label each label's sequence so read has
        out["readings"] = {name: [task.labels.index(label) for label in labels] for name, labels in task.readings}
    return out


def add_questions(folder: Path, tok=None) -> list[str]:
    """Write into the folder's config.json how every head's task is asked; the tasks whose heads now answer."""
    from transformers import AutoTokenizer

    tok = tok or AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
    done = []
    with edited_config(folder) as config:
        if not config.get("dna_token_ids"):
            raise ValueError(f"{folder}: a head answers a question about a DNA run, and this model names no DNA "
                             "tokens")
        for key in ("label_heads", "value_heads"):
            for name, entry in (config.get(key) or {}).items():
                for old in QUESTION_KEYS:  # what an earlier writing said, the task's entry since changed
                    entry.pop(old, None)
                entry.update(asked(tok, config, name))
                done.append(name)
                if entry["strand_symmetric"]:  # read about the reverse complement too: the bases' complements
                    config["dna_complement_ids"] = complement_token_ids(tok)
    return done


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="a model folder with heads in its config.json")
    args = ap.parse_args(argv)
    done = add_questions(args.model)
    print(f"{args.model / 'config.json'}: generate now answers {', '.join(done) or 'nothing'} with the heads")


if __name__ == "__main__":
    main()
