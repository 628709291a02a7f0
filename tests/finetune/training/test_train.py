"""The training script on a tiny config: runs, logs, checkpoints, resumes, writes a loadable release, and runs
as two DDP processes on the CPU (torchrun)."""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from finetune.training.data import collate, load_mixture
from finetune.training.train import TrainConfig, train


def test_mixture_never_truncates_and_weights_answers(tiny_setup):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)
    mix = load_mixture(Path(tiny_setup.datasets), tok, max_len=120, max_rows_per_source=200)
    table = {r["source"]: r for r in mix.table()}
    assert table["GenomicLLM_GRCh38/splice_site"]["dropped_for_length"] == 200  # 400 nt windows never fit in 120
    rows = {f"GenomicLLM_GRCh38/{p.parent.name}": len(pd.read_parquet(p, columns=["answer"]))
            for p in (Path(tiny_setup.datasets) / "GenomicLLM_GRCh38" / "data").glob("*/train.parquet")}
    assert all(len(s) + s.dropped_for_length == min(200, rows[s.name]) for s in mix.sources)  # kept + counted
    assert abs(mix.weights.sum() - 1) < 1e-9 and table["GenomicLLM_GRCh38/splice_site"]["weight"] == 0
    batch = collate(mix.sample(np.random.default_rng(0), 300), tok.pad_token_id, prompt_weight=0.0)
    ids, w = batch["input_ids"][0], batch["loss_weights"][0]
    answer = ids[w > 0].tolist()
    assert answer[-1] == tok.eos_token_id and ids[0] == tok.bos_token_id and w[0] == 0








def test_train_checkpoints_resumes_releases_and_ships(tiny_setup, tmp_path):
    out = tmp_path / "run"
    release = train(tiny_setup, out, progress=False)
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4] and (out / "loss.png").is_file()
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-2", "step-4"]
    with (out / "log.jsonl").open("a") as f:  # a step logged after the last checkpoint, then interrupted
        f.write(json.dumps({**log[-1], "step": 5, "tokens": 10**9}) + "\n")
    longer = TrainConfig(**{**asdict(tiny_setup), "steps": 6})
    train(longer, out, progress=False)  # resumes at step 4, redoing step 5
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert log[3]["tokens"] < log[4]["tokens"] < log[5]["tokens"] < 10**9 and log[5]["cpu_s"] > log[3]["cpu_s"] > 0
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(release, trust_remote_code=True)  # the tokenizer's remote code ships too
    assert type(tok).__name__ == "GenomicLLMTokenizerFast"
    plain = AutoTokenizer.from_pretrained(release)  # and without remote code it loads, without asking, as before
    assert type(plain).__name__ != "GenomicLLMTokenizerFast" and plain("ACGTACGTAC")["input_ids"] == tok("ACGTACGTAC")["input_ids"]
    model = AutoModelForCausalLM.from_pretrained(release, trust_remote_code=True)
    out_ids = model.generate(**tok("ACGTACGTAC, GC content =", return_tensors="pt"), max_new_tokens=3, do_sample=False)
    assert out_ids.shape[1] >= 3

    from finetune.training.ship import ship

    shipped = ship(out, tmp_path / "shipped" / "GenomicLLM")
    summary = json.loads((shipped / "training_summary.json").read_text())
    assert summary["steps"] == 6 and summary["tokens"] == log[5]["tokens"] and summary["cpu_s"] > 0
    assert {"train_config.json", "mixture.json", "loss.png", "model.safetensors"} <= {p.name for p in shipped.iterdir()}
    assert json.loads((shipped / "train_config.json").read_text())["steps"] == 6
    from safetensors.torch import load_file

    run_weights, shipped_weights = (load_file(f / "model.safetensors") for f in (release, shipped))
    assert all(torch.equal(shipped_weights[k], v) for k, v in run_weights.items())  # as trained
    half = ship(out, tmp_path / "half" / "GenomicLLM", stored_dtype="float16")
    half_weights = load_file(half / "model.safetensors")
    assert {t.dtype for t in half_weights.values()} == {torch.float16}
    assert all(torch.equal(half_weights[k], v.half()) for k, v in run_weights.items())
    again = AutoModelForCausalLM.from_pretrained(half, trust_remote_code=True)
    assert again.config.stored_dtype == "float16" and {p.dtype for p in again.parameters()} == {torch.float32}


def test_a_second_phase_starts_from_the_first_runs_weights_and_ships_both_totals(tiny_setup, tmp_path):
    import pytest
    import torch
    from safetensors.torch import load_file

    from finetune.training.ship import ship

    first, second, fresh = tmp_path / "first", tmp_path / "second", tmp_path / "fresh"
    train(TrainConfig(**{**asdict(tiny_setup), "steps": 2}), first, progress=False)
    still = {**asdict(tiny_setup), "steps": 1, "lr": 0.0, "warmup_steps": 0, "weight_decay": 0.0}  # weights unchanged
    train(TrainConfig(**{**still, "init_from": str(first)}), second, progress=False)
    train(TrainConfig(**{**still, "seed": 1}), fresh, progress=False)
    a, b, c = (load_file(r / "release" / "model.safetensors") for r in (first, second, fresh))
    assert all(torch.equal(a[k], b[k]) for k in a) and not all(torch.equal(a[k], c[k]) for k in a)
    summary = json.loads((ship(second, tmp_path / "shipped") / "training_summary.json").read_text())
    assert summary["init_from"]["steps"] == 2 and summary["steps"] == 1
    assert summary["total_tokens"] == summary["init_from"]["tokens"] + summary["tokens"]
    with pytest.raises(FileNotFoundError, match="no release"):
        train(TrainConfig(**{**still, "init_from": str(tmp_path / "absent")}), tmp_path / "bad", progress=False)


def test_two_process_cpu_run(tiny_setup, tmp_path):
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps({**asdict(tiny_setup), "steps": 2, "checkpoint_every": 2}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "finetune.training.train",
           "--config", str(cfg_path), "--out", str(tmp_path / "ddp")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "ddp" / "release" / "model.safetensors").is_file()
    assert len((tmp_path / "ddp" / "log.jsonl").read_text().splitlines()) == 2
    info = json.loads((tmp_path / "ddp" / "run_info.json").read_text())
    assert info["processes"] == 2 and info["distributed_type"].endswith("MULTI_CPU")  # really two, not one






def test_source_weights_scale_a_source_and_unknown_names_are_refused(tiny_setup):
    import pytest
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)
    only = ["GenomicLLM_GRCh38/gc_content", "GenomicLLM_GRCh38/nt2aa"]
    plain = load_mixture(Path(tiny_setup.datasets), tok, 768, max_rows_per_source=100, only=only)
    heavy = load_mixture(Path(tiny_setup.datasets), tok, 768, max_rows_per_source=100, only=only,
                         source_weights={"GenomicLLM_GRCh38/nt2aa": 3.0})
    ratio = lambda m: m.weights[1] / m.weights[0]  # noqa: E731 (sources in name order: gc_content, nt2aa)
    assert ratio(heavy) == pytest.approx(3 * ratio(plain))
    with pytest.raises(ValueError, match="not in the mixture"):
        load_mixture(Path(tiny_setup.datasets), tok, 768, max_rows_per_source=100, only=only,
                     source_weights={"GUE/tf_0": 2.0})


def test_cpu_budget_stops_the_run_and_decays_the_lr_on_cpu_time(tiny_setup, tmp_path):
    cfg = TrainConfig(**{**asdict(tiny_setup), "steps": 100_000, "cpu_budget_s": 3.0, "checkpoint_every": 100_000,
                         "warmup_steps": 1})
    release = train(cfg, tmp_path / "run", progress=False)
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert 2 < len(log) < 100_000 and 3.0 <= log[-1]["cpu_s"] < 3.0 + 10
    assert log[-1]["lr"] < 0.5 * log[1]["lr"]  # the cosine ran on CPU time: near its end when the budget ran out
    assert (release / "model.safetensors").is_file()
    assert [p.name for p in (tmp_path / "run" / "checkpoints").iterdir()] == [f"step-{len(log)}"]
    train(cfg, tmp_path / "run", progress=False)  # resuming a spent run does no step
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == len(log)


def test_stream_token_ids_are_bases_kmers_and_the_separator(tiny_setup):
    from transformers import AutoTokenizer

    from finetune.training.train import stream_token_ids

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)  # kmer3
    ids = stream_token_ids(tok)
    tokens = set(tok.convert_ids_to_tokens(ids["dna_token_ids"]))
    assert {"ACG", "TTT", "A", "N", "a"} <= tokens and all(len(t) in (1, 3) for t in tokens)
    assert tok.convert_ids_to_tokens(ids["answer_marker_token_ids"]) == [" ="]
    assert tok("ACGTACGTAC, GC content =")["input_ids"][-1] == ids["answer_marker_token_ids"][0]


def test_crops_are_windows_of_train_sequences_answered_by_the_rule(tiny_setup):
    from transformers import AutoTokenizer

    from finetune.training.data import crop_sources
    from tasks import get_task, parse_answer

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)
    sources = {s.name: s for s in crop_sources(Path(tiny_setup.datasets), tok, ["reverse_complement", "nt2aa"])}
    rng = np.random.default_rng(0)
    for name, task in (("crops/reverse_complement", "reverse_complement"), ("crops/nt2aa", "nt2aa")):
        src, rule = sources[name], get_task(task).rule
        lengths = {}
        for progress in (0.0, 1.0):
            lengths[progress] = []
            for _ in range(30):
                ids, n_prompt = src.draw(rng, progress)
                prompt, answer = tok.decode(ids[1:n_prompt]), tok.decode(ids[n_prompt:-1])
                window = prompt.split(",")[0]
                assert any(window in seq for seq in src.sequences)  # a piece of a train row, never invented
                assert parse_answer(task, answer) == rule(window)
                if task == "nt2aa":
                    assert len(window) % 3 == 0 and any(seq.find(window) % 3 == 0 for seq in src.sequences
                                                        if window in seq)
                lengths[progress].append(len(window))
        assert max(lengths[0.0]) <= src.start_len < max(lengths[1.0])  # the curriculum: longer windows later


def test_crops_over_the_length_limit_are_left_out_and_counted(tiny_setup):
    from transformers import AutoTokenizer

    from finetune.training.data import crop_sources

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)
    src = crop_sources(Path(tiny_setup.datasets), tok, ["reverse"], max_tokens=40)[0]
    rng = np.random.default_rng(0)
    rows = [src.draw(rng, 1.0) for _ in range(20)]
    assert all(len(ids) <= 40 for ids, _ in rows) and src.dropped_for_length > 0  # never cut, redrawn and counted


def test_reading_comprehension_crops_are_answered_from_the_prompt_not_the_gene(tiny_setup):
    from transformers import AutoTokenizer

    from finetune.training.data import crop_sources
    from tasks import parse_answer

    tok = AutoTokenizer.from_pretrained(tiny_setup.tokenizer)
    src, = crop_sources(Path(tiny_setup.datasets), tok, ["reading_comprehension"], max_tokens=768)
    genes = {(f["symbol"], f["start"]) for _, f in src.records}
    pools = {k: {f[k] for _, f in src.records} for k in ("symbol", "chromosome", "strand", "biotype")}
    rng, made_up = np.random.default_rng(0), 0
    for _ in range(40):
        ids, n_prompt = src.draw(rng, 0.5)
        prompt, answer = tok.decode(ids[1:n_prompt]), tok.decode(ids[n_prompt:-1]).strip()
        fields = dict(part.split("=", 1) for part in prompt.split(", ") if "=" in part and " " not in part)
        asked = prompt.rsplit("what is the ", 1)[1].split("?")[0]
        assert parse_answer("reading_comprehension", answer) == fields[asked]  # the value is read back
        assert all(fields[k] in pools[k] for k in pools)  # values of real records ...
        assert int(fields["start"]) < int(fields["end"])
        made_up += (fields["symbol"], int(fields["start"])) not in genes  # ... but not the gene's own
    assert made_up == 40
    # the sequence window starts short (more questions per CPU-second) and grows to whole records
    dna = [len(tok.decode(src.draw(rng, p)[0]).split(", ")[-2]) for p in [0.0] * 30 + [1.0] * 30]
    assert max(dna[:30]) <= src.start_len < max(dna[30:])


def test_a_second_phase_may_add_kmers_and_starts_from_the_same_function(tiny_setup, tmp_path):
    import pytest
    import torch
    from transformers import AutoTokenizer

    from finetune.training.ship import ship
    from modeling.inference import load

    first, second = tmp_path / "first", tmp_path / "second"
    train(TrainConfig(**{**asdict(tiny_setup), "steps": 2}), first, progress=False)
    kmers = {**asdict(tiny_setup), "steps": 1, "lr": 0.0, "warmup_steps": 0, "weight_decay": 0.0,
             "init_from": str(first), "model": {**tiny_setup.model, "kmer_sizes": [2, 3], "kmer_embedding_size": 8}}
    train(TrainConfig(**kmers), second, progress=False)
    (tok, a), (_, b) = load(first / "release"), load(second / "release")
    assert b.config.kmer_base_token_ids == AutoTokenizer.from_pretrained(tiny_setup.tokenizer).convert_tokens_to_ids(
        list("ACGT"))
    ids = tok("ACGTTGCAACGT, GC content =", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.equal(a(ids).logits, b(ids).logits)  # the k-mers start silent
    wider = {**kmers, "model": {**tiny_setup.model, "hidden_size": 64}}
    with pytest.raises(ValueError, match="shapes differ|size mismatch"):
        train(TrainConfig(**wider), tmp_path / "wider", progress=False)
    # a first phase known only by its shipped folder (no log.jsonl left): its summary still counts in the totals
    ship(first, tmp_path / "shipped-first")
    rebuilt = tmp_path / "rebuilt"
    (rebuilt / "release").parent.mkdir()
    import shutil

    shutil.copytree(tmp_path / "shipped-first", rebuilt / "release")
    config = json.loads((second / "train_config.json").read_text())
    (second / "train_config.json").write_text(json.dumps({**config, "init_from": str(rebuilt)}))
    summary = json.loads((ship(second, tmp_path / "shipped") / "training_summary.json").read_text())
    assert summary["init_from"]["steps"] == 2 and summary["total_tokens"] == summary["init_from"]["tokens"] + \
        summary["tokens"]


def test_a_pointer_phase_trains_new_heads_alone_and_changes_no_other_answer(tiny_setup, tmp_path):
    import pytest
    import torch

    from finetune.training.ship import ship
    from modeling.inference import load

    rc = "GenomicLLM_GRCh38/reading_comprehension"
    first, second = tmp_path / "first", tmp_path / "second"
    streams = {**tiny_setup.model, "position_streams": ["token", "run_start"]}
    train(TrainConfig(**{**asdict(tiny_setup), "steps": 2, "model": streams}), first, progress=False)
    pointer = {**asdict(tiny_setup), "steps": 2, "init_from": str(first), "pointer_heads": 1, "weight_decay": 0.0,
               "lr": 0.05, "warmup_steps": 0, "only_sources": [rc], "crops": ["reading_comprehension"]}
    train(TrainConfig(**pointer), second, progress=False)
    (tok, a), (_, b) = load(first / "release"), load(second / "release")
    assert b.config.position_streams == ["token", "run_start", "pointer"] and b.config.field_key_aliases
    old, new = a.state_dict(), b.state_dict()
    kept = 2 * a.config.head_dim
    for name, value in old.items():  # every weight the first phase had is as it was; the new head's have learnt
        got = new[name][:kept] if name.endswith(("q_proj.weight", "k_proj.weight", "v_proj.weight")) else \
            new[name][:, :kept] if name.endswith("o_proj.weight") else new[name]
        assert torch.equal(got, value), name
    assert new["model.layers.0.self_attn.o_proj.weight"][:, kept:].abs().sum() > 0
    question = "symbol=ABC1, chromosome=2, start=10, end=99, strand=+, biotype=lncRNA, ACGTACGTAC, what is the end? ="
    with torch.no_grad():
        for prompt in ("ACGTTGCAACGT, GC content =", "chromosome=2, strand=+, ACGTACGTAC, coding frame ="):
            ids = tok(prompt, return_tensors="pt")["input_ids"]
            assert torch.equal(a(ids).logits, b(ids).logits)  # no field asked: exactly the first phase's answer
        ids = tok(question, return_tensors="pt")["input_ids"]
        assert not torch.allclose(a(ids).logits[0, -1], b(ids).logits[0, -1])  # asked: the pointer head reads
    shipped = ship(second, tmp_path / "shipped")
    summary = json.loads((shipped / "training_summary.json").read_text())
    assert summary["steps"] == 2 and summary["pointer_heads"]["steps"] == 2  # the base run's, the phase beside
    assert summary["total_cpu_s"] == summary["cpu_s"] + summary["pointer_heads"]["cpu_s"]
    assert not json.loads((shipped / "train_config.json").read_text())["pointer_heads"]  # the base run's config
    assert json.loads((shipped / "pointer_train_config.json").read_text())["pointer_heads"] == 1
    with pytest.raises(ValueError, match="init_from"):
        TrainConfig(**{**pointer, "init_from": None})
    with pytest.raises(ValueError, match="weight_decay"):
        TrainConfig(**{**pointer, "weight_decay": 0.01})


def test_field_token_ids_read_merged_fields_aliases_and_how_copies_are_written():
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    from finetune.training.train import field_token_ids

    words = ["<unk>", "</s>", "=", ",", "=+,", "=-,", "=x", "+", "symbol", " symbol", " end", "end", " 2x"]
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel({w: i for i, w in enumerate(words)}, "<unk>")),
                                  unk_token="<unk>", eos_token="</s>")
    ids = {w: i for i, w in enumerate(words)}
    got = field_token_ids(tok)
    assert got["field_open_token_ids"] == [ids["="], ids["=+,"], ids["=-,"], ids["=x"]]
    assert got["field_close_token_ids"] == [ids[","], ids["=+,"], ids["=-,"]]
    assert got["field_key_aliases"] == [[ids[" symbol"], ids["symbol"]], [ids[" end"], ids["end"]]]
    # a closer is copied as the end of the answer, "=+," as "+"; "=-," has no "-" token: copied as itself
    assert got["field_copy_ids"] == [[ids[","], ids["</s>"]], [ids["=+,"], ids["+"]]]
