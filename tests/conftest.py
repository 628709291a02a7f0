"""Shared fixtures: the real sources mirror (tests use small real slices of it) and small builds reused across tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataset_scripts.genome import Genome
from dataset_scripts.sources import MIRROR_GENOMES, mirror_genome_files


@pytest.fixture(scope="session")
def grch37() -> Genome:
    return Genome("GRCh37", mirror_genome_files("GRCh37"), MIRROR_GENOMES["GRCh37"]["partial"])


@pytest.fixture(scope="session")
def grch38() -> Genome:
    return Genome("GRCh38", mirror_genome_files("GRCh38"), MIRROR_GENOMES["GRCh38"]["partial"])


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """GenomicLLM_GRCh38 built on the two small pieces (GRCh37 chr22:20-21M, GRCh38 chr2:0-2.33M): ~2 s."""
    from dataset_scripts.build_grch38 import build

    out = tmp_path_factory.mktemp("corpus") / "GenomicLLM_GRCh38"
    build(out, chroms=["22", "2"], progress=False)
    return out


@pytest.fixture(scope="session")
def datasets_root(small_corpus, tmp_path_factory) -> Path:
    """A datasets folder like build/datasets: the small GRCh38 corpus plus three real GUE configs (200 rows/split;
    tf_0 and mouse_0 are both TF binding)."""
    from dataset_scripts import build_gue
    from dataset_scripts.hub_folder import write_config

    root = tmp_path_factory.mktemp("datasets")
    (root / "GenomicLLM_GRCh38").symlink_to(small_corpus)
    found = build_gue.discover()
    for name in ("tf_0", "prom_core_tata", "mouse_0"):
        report, splits = build_gue.build_config(name, found[name], limit=200)
        write_config(root / "GUE", report, splits)
    return root


@pytest.fixture(scope="session")
def tiny_setup(small_corpus, tmp_path_factory):
    """A tiny training config over the small corpus, with a kmer3 tokenizer built as `make tokenizer` builds one."""
    import pandas as pd

    from finetune.training.train import TrainConfig
    from tokenizer.build import build

    texts = []
    for path in sorted((small_corpus / "data").glob("*/train.parquet")):
        df = pd.read_parquet(path, columns=["prompt", "answer"]).head(300)
        texts += (df.prompt + " " + df.answer).tolist()
    tok_dir = tmp_path_factory.mktemp("tok")
    build("kmer3", texts, tok_dir)  # as `make tokenizer` writes it: with its remote code
    cfg = TrainConfig(tokenizer=str(tok_dir), datasets=str(small_corpus.parent), max_len=768,
                      model={"hidden_size": 32, "intermediate_size": 64, "num_layers": 2, "num_attention_heads": 2},
                      tokens_per_batch=600, steps=4, warmup_steps=2, checkpoint_every=2, max_rows_per_source=200)
    return cfg


@pytest.fixture(scope="session")
def tiny_release(tiny_setup, tmp_path_factory) -> Path:
    """A release folder of a 2-step tiny model (answers are nonsense; the path through it is what is tested)."""
    from dataclasses import asdict

    from finetune.training.train import TrainConfig, train

    return train(TrainConfig(**{**asdict(tiny_setup), "steps": 2}), tmp_path_factory.mktemp("tiny_run"), progress=False)


@pytest.fixture(scope="session")
def per_base_release(tiny_setup, tmp_path_factory) -> Path:
    """A release folder of a 2-step tiny model reading one token per base (a char tokenizer, as the shipped model),
    with run-relative position streams: what heads, copies and readings find DNA runs with. Copy it to change it."""
    from dataclasses import asdict

    import pandas as pd

    from finetune.training.train import TrainConfig, train
    from tokenizer.build import build

    root = tmp_path_factory.mktemp("per_base")
    texts = []
    for path in sorted(Path(tiny_setup.datasets).glob("*/data/*/train.parquet")):
        df = pd.read_parquet(path, columns=["prompt", "answer"]).head(100)
        texts += (df.prompt + " " + df.answer).tolist()
    build("char", texts, root / "tok")
    streams = {**tiny_setup.model, "position_streams": ["token", "run_start"]}
    train(TrainConfig(**{**asdict(tiny_setup), "steps": 2, "model": streams, "tokenizer": str(root / "tok")}),
          root / "run", progress=False)
    return root / "run" / "release"


# --- own-task fine-tuning (finetune/adapt): a tiny base, a labelled file, one adapter trained on it ---------------
def _labelled_rows(n: int = 120, seed: int = 1) -> list[tuple[str, str]]:
    """Two classes a model can tell apart by composition (GC-rich 'yes' = 1, AT-rich 'no' = 0), 24-48 nt."""
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        alphabet = "GGGCCCAT" if i % 2 == 0 else "AAATTTGC"
        rows.append(("".join(rng.choice(alphabet) for _ in range(rng.randint(24, 48))), "1" if i % 2 == 0 else "0"))
    return rows


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A tiny GenomicLLM release folder (random weights, 2 x 32, context 128; a kmer3 tokenizer built on synthetic
    grammar prompts, with its remote code): the base an adapter is trained on in tests, ~3 s."""
    import torch
    from transformers import AutoTokenizer

    from modeling.configuration_genomicllm import GenomicLLMConfig
    from modeling.modeling_genomicllm import GenomicLLMForCausalLM
    from modeling.release import write_release
    from tokenizer.build import build

    texts = [f"{s}, promoter = {'yes' if y == '1' else 'no'}" for s, y in _labelled_rows(200, seed=7)]
    tok_dir = build("kmer3", texts, tmp_path_factory.mktemp("adapt_tok"))
    tok = AutoTokenizer.from_pretrained(tok_dir, trust_remote_code=True)
    config = GenomicLLMConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_layers=2,
                              num_attention_heads=2, max_position_embeddings=128, pad_token_id=tok.pad_token_id,
                              bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("adapt_base") / "GenomicLLM"
    write_release(GenomicLLMForCausalLM(config), tok, out)
    return out


@pytest.fixture(scope="session")
def labelled_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("adapt_data") / "gc_rich.csv"
    path.write_text("sequence,label\n" + "".join(f"{s},{y}\n" for s, y in _labelled_rows()))
    return path


@pytest.fixture(scope="session")
def tiny_adapter(tiny_base, labelled_csv, tmp_path_factory) -> Path:
    """A LoRA trained on `labelled_csv` over `tiny_base` (2 epochs of small steps, ~10 s), with its card; its
    card names the base `test-org/GenomicLLM`."""
    import torch

    from finetune.adapt.run import finetune
    from finetune.adapt.train_adapter import AdaptConfig
    from finetune.adapt.userdata import load_user_data
    from hub.adapter_card import write_adapter_card
    from tasks.custom import custom_task

    data = load_user_data(labelled_csv)
    task = custom_task("gc_rich", "GC rich", data.labels)
    out = tmp_path_factory.mktemp("adapt_run") / "gc_rich"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models gain nothing from threads, and lose much on a busy machine
    try:
        finetune(data, task, out, AdaptConfig(epochs=2, tokens_per_batch=400, lr=5e-3), tiny_base,
                 base_id="test-org/GenomicLLM", progress=False)
    finally:
        torch.set_num_threads(threads)
    write_adapter_card(out)
    return out


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models gain nothing from threads, and on a busy machine spinning threads make them ~100x slower.
    A module opts in with `pytestmark = pytest.mark.usefixtures("one_thread")`."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
