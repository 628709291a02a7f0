"""`make release` (hub/assemble.py + hub/model_card.py): the assembled Hub folders load offline in fresh
processes exactly as users load them, the cards' YAML headers parse and carry the keys the Hub reads, the model card's
numbers are results.json's, and the upload path calls HfApi (a spec'd mock) with the right repo ids, types and files.

Small real inputs: the shipped release/GenomicLLM with the committed release/eval results, the small GRCh38 corpus,
two GUE configs and one GenomicBenchmarks config cut from the sources mirror, and a tiny random LoRA adapter."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest.mock import create_autospec

import pytest
import yaml
from huggingface_hub import HfApi, ModelCard, parse_eval_result_entries

from finetune.evaluation.evaluate import baseline_summary, baseline_wins, main_metric
from hub import assemble as hr
from hub import model_card as mc

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "release" / "GenomicLLM"
RESULTS = ROOT / "release" / "eval"
NS = "test-org"
BASE_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"

pytestmark = pytest.mark.skipif(not (MODEL / "model.safetensors").is_file() or not (RESULTS / "results.json").is_file(),
                                reason="release/GenomicLLM or release/eval/results.json not in this checkout")


# ---------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tiny_datasets(small_corpus, tmp_path_factory) -> Path:
    """A build/datasets-like folder: the small GRCh38 corpus, two real GUE configs, one GenomicBenchmarks config."""
    from dataset_scripts import build_genomic_benchmarks as gb
    from dataset_scripts import build_gue
    from dataset_scripts.hub_folder import write_card, write_config

    root = tmp_path_factory.mktemp("datasets")
    shutil.copytree(small_corpus, root / "GenomicLLM_GRCh38")
    found, reports = build_gue.discover(), []
    for name in ("tf_0", "prom_300_all"):
        report, splits = build_gue.build_config(name, found[name], limit=60)
        write_config(root / "GUE", report, splits)
        reports.append(report)
    write_card(root / "GUE", reports, build_gue.META, "GUE for GenomicLLM", build_gue.CARD_BODY)
    gb.build(root / "GenomicBenchmarks", limit_per_file=60, progress=False, configs=["human_nontata_promoters"])
    return root


@pytest.fixture(scope="module")
def tiny_lora(tmp_path_factory) -> tuple[Path, Path]:
    """(tiny random Llama base folder, peft adapter folder with tokenizer and card), as `make lora` would ship."""
    import torch
    from peft import LoraConfig, get_peft_model
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tmp = tmp_path_factory.mktemp("lora")
    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>", *"ACGT", "GC", "content", "=", ","])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                  unk_token="<unk>")
    torch.manual_seed(0)
    base = LlamaForCausalLM(LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                        num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                        max_position_embeddings=64))
    base.save_pretrained(tmp / "base")
    tok.save_pretrained(tmp / "base")
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            init_lora_weights=False, task_type="CAUSAL_LM"))
    model.save_pretrained(tmp / "adapter")
    tok.save_pretrained(tmp / "adapter")
    (tmp / "adapter" / "README.md").write_text(
        f"---\nbase_model: {BASE_ID}\nbase_model_relation: adapter\nlibrary_name: peft\nlicense: apache-2.0\n"
        "datasets: [GenomicLLM_GRCh38, GUE]\ntags: [lora, genomics]\n---\n\n# GenomicLLM chat LoRA (test)\n")
    return tmp / "base", tmp / "adapter"


@pytest.fixture(scope="module")
def hub(tiny_datasets, tiny_lora, tmp_path_factory):
    """The dry run of `make release` on the small inputs: (out folder, HubRepo list, printed output, HfApi mock)."""
    out = tmp_path_factory.mktemp("release") / "hub"
    api = create_autospec(HfApi, instance=True)
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.delenv("HF_TOKEN", raising=False)
        mp.delenv("PUSH", raising=False)
        repos = hr.main(["--out", str(out), "--namespace", NS, "--model", str(MODEL), "--datasets", str(tiny_datasets),
                         "--lora", str(tiny_lora[1]), "--space", str(ROOT / "space"), "--results", str(RESULTS),
                         "--assistant", str(tiny_lora[1])],  # any peft folder stands in for the assistant's LoRA
                        api=api)
    return out, repos, printed.getvalue(), api


def run_fresh(code: str, tmp_path: Path, cwd: Path | None = None, **env) -> str:
    """Run `code` in a fresh interpreter, offline, with an empty HF_HOME; return its stdout."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GENOMICLLM_ASSISTANT")}  # another
    # test's fixture may have set the Chat tab's mode; the launcher's own default is what is tested here
    full_env = {**inherited, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "HF_HOME": str(tmp_path / "hf_home"), "OMP_NUM_THREADS": "1", **env}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd or tmp_path, env=full_env,
                          check=False, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def card_header(path: Path) -> dict:
    header, _ = hr.front_matter(path)
    return header


# ---------------------------------------------------------------------------------------------------- layout
def test_folders_repo_ids_and_manifest(hub):
    out, repos, _, _ = hub
    assert [(r.key, r.repo_id, r.repo_type) for r in repos] == [
        ("model", f"{NS}/GenomicLLM", "model"),
        ("datasets/genomicllm_grch38", f"{NS}/GenomicLLM_GRCh38", "dataset"),
        ("datasets/gue", f"{NS}/GUE", "dataset"),
        ("datasets/genomic_benchmarks", f"{NS}/GenomicBenchmarks", "dataset"),
        ("lora", f"{NS}/GenomicLLM-chat-lora", "model"),
        ("space", f"{NS}/GenomicLLM", "space")]
    model = {f["path"] for f in repos[0].files}
    assert {"model.safetensors", "config.json", "generation_config.json", "configuration_genomicllm.py",
            "modeling_genomicllm.py", "tokenizer.json", "tokenizer_config.json", "README.md", "eval/results.json",
            ".eval_results/gue.yaml"} <= model
    assert json.loads((out / "model" / "config.json").read_text())["auto_map"]["AutoModelForCausalLM"] == \
        "modeling_genomicllm.GenomicLLMForCausalLM"
    assert not any(p.endswith((".bin", ".pt", ".pkl")) for r in repos for p in (f["path"] for f in r.files))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["total_bytes"] == sum(r.size for r in repos)
    for entry, r in zip(manifest["repos"], repos):
        assert entry["files"] == hr.listing(out / entry["key"]) == r.files


def test_space_holds_exactly_the_import_closure(hub):
    out, _, _, _ = hub
    closure = {p.as_posix() for p in hr.import_closure(ROOT / "space" / "app.py")}
    assert {"space/app.py", "space/__init__.py", "modeling/inference.py", "tasks/registry.py", "tasks/grammar.py"} <= closure
    assert not closure & {"space/demo.py", "space/screenshot.py"}
    assert not {p for p in closure if p.split("/")[0] in ("dataset_scripts", "finetune", "hub", "studies")}
    # the assistant's run-time package, and of the tokenizer only its run rule and normaliser (not its training)
    assert {"assistant/chat.py", "assistant/tools.py", "assistant/references.py"} <= closure
    assert {p for p in closure if p.startswith("tokenizer/")} == {
        "tokenizer/__init__.py", "tokenizer/rule.py", "tokenizer/tokenization_genomicllm.py"}
    shipped = {p.relative_to(out / "space").as_posix() for p in (out / "space").rglob("*.py")}
    assert shipped == closure | {"app.py"}
    assert (out / "space" / "assistant" / "templates" / "assistant.jinja").is_file()  # package data the chat reads
    bundled = {p.name for p in (out / "space" / hr.ASSISTANT_LORA).iterdir()}  # the Chat tab's LoRA, not its card
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= bundled
    assert "README.md" not in bundled


# ---------------------------------------------------------------------------------------------------- cards
def test_every_card_header_parses_with_the_keys_the_hub_reads(hub):
    out, _, _, _ = hub
    model = card_header(out / "model" / "README.md")
    assert model["library_name"] == "transformers" and model["pipeline_tag"] == "text-generation"
    assert model["license"] == "apache-2.0" and "genomics" in model["tags"]
    assert model["datasets"] == [f"{NS}/GenomicLLM_GRCh38", f"{NS}/GUE", f"{NS}/GenomicBenchmarks"]
    assert "base_model" not in model  # trained from scratch
    assert model["model-index"][0]["name"] == "GenomicLLM" and model["model-index"][0]["results"]
    for name in ("genomicllm_grch38", "gue", "genomic_benchmarks"):
        folder = out / "datasets" / name
        header = hr.check_dataset_card(folder)  # raises on a missing key or data file
        assert {"license", "pretty_name", "tags", "task_categories", "size_categories", "configs"} <= set(header)
        for cfg in header["configs"]:
            assert all((folder / f["path"]).is_file() for f in cfg["data_files"])
    lora = card_header(out / "lora" / "README.md")
    assert lora["base_model"] == BASE_ID and lora["library_name"] == "peft" and lora["base_model_relation"] == "adapter"
    assert lora["datasets"] == [f"{NS}/GenomicLLM_GRCh38", f"{NS}/GUE"]
    # the tiny adapter was saved against a local base folder: the Hub copy names the card's base model
    assert json.loads((out / "lora" / "adapter_config.json").read_text())["base_model_name_or_path"] == BASE_ID
    space = card_header(out / "space" / "README.md")
    assert space["sdk"] == "gradio" and (out / "space" / space["app_file"]).is_file()
    assert space["models"] == [f"{NS}/GenomicLLM"] and f"{NS}/GUE" in space["datasets"]


def test_model_card_numbers_are_results_json(hub):
    out, _, _, _ = hub
    results = json.loads((RESULTS / "results.json").read_text())
    baselines = json.loads((RESULTS / "baselines.json").read_text())
    text = (out / "model" / "README.md").read_text()
    for name, r in results.items():
        if "skipped" in r:
            continue
        metric = main_metric(r["task"], name)
        assert f"| {name} | {r['task']} | {metric} | {r['ours'][metric]:.3f} |" in text, name
    assert baseline_summary(results, baselines) in text
    lr = baselines["GUE/tf_1"]["kmer_lr"]["mcc"]
    tf1 = results["GUE/tf_1"]["ours"]["mcc"]
    assert f"| GUE/tf_1 | tf_binding | mcc | {tf1:.3f} | {lr:.3f} |" in text
    # model-index, parsed back by huggingface_hub
    card = ModelCard.load(out / "model" / "README.md")
    index = {(e.dataset_type, e.dataset_config, e.metric_type, e.metric_config): e.metric_value
             for e in card.data.eval_results}
    assert index[(f"{NS}/GUE", "tf_1", "matthews_correlation", None)] == round(results["GUE/tf_1"]["ours"]["mcc"], 4)
    reg = results["GenomicBenchmarks/human_ensembl_regulatory"]["ours"]
    assert index[(f"{NS}/GenomicBenchmarks", "human_ensembl_regulatory", "accuracy", None)] == round(reg["accuracy"], 4)
    rev = results["GenomicLLM_GRCh38/reverse_complement:reverse"]["ours"]["exact_match"]
    assert index[(f"{NS}/GenomicLLM_GRCh38", "reverse_complement", "exact_match", "reverse")] == round(rev, 4)
    gc = results["GenomicLLM_GRCh38/gc_content"]["ours"]["mae"]
    assert index[(f"{NS}/GenomicLLM_GRCh38", "gc_content", "mae", None)] == round(gc, 4)
    gc_rows = results["GenomicLLM_GRCh38/gc_content"]["ours"]["n"]
    assert f"{gc:.5f} on {gc_rows:,} rows" in text  # the value head's error in the prose is results.json's too
    # .eval_results/ (the Hub's eval-results format)
    entries = parse_eval_result_entries(yaml.safe_load((out / "model" / ".eval_results" / "gue.yaml").read_text()))
    tf1 = next(e for e in entries if e.task_id == "tf_1")
    assert tf1.dataset_id == f"{NS}/GUE" and tf1.value == round(results["GUE/tf_1"]["ours"]["mcc"], 4)
    # the truths the card states are computed: regions from the corpus card, compute from the release folder
    summary = json.loads((MODEL / "training_summary.json").read_text())
    steps = summary["steps"] + summary.get("init_from", {}).get("steps", 0)  # a second phase: both runs' steps
    assert f"{steps:,} steps" in text and "GRCh38 chromosome 2: 0-2,333,275" in text
    total_cpu_h = summary.get("total_cpu_s", summary["cpu_s"]) / 3600
    assert f"{total_cpu_h:.2f} CPU-hours" in text
    assert "Liu et al." in text and 'revision="<commit sha or tag>"' in text


def test_changing_results_changes_the_card(tiny_datasets, tmp_path):
    """Nothing is typed by hand: another results.json gives another table, model-index and win count."""
    results = json.loads((RESULTS / "results.json").read_text())
    shipped = mc.load_evaluation(RESULTS)
    won, _ = baseline_wins(shipped.results, shipped.baselines)
    name = next(n for n in sorted(shipped.baselines) if "cnn" in shipped.baselines[n] and n in results and n not in won
                and main_metric(results[n]["task"], n) == "mcc")  # a benchmark the shipped model loses
    results[name]["ours"]["mcc"] = 0.987654
    (tmp_path / "results.json").write_text(json.dumps(results))
    shutil.copy(RESULTS / "baselines.json", tmp_path / "baselines.json")
    ev = mc.load_evaluation(tmp_path)
    cards = {n: tiny_datasets / n / "README.md" for n in mc.DATASET_NAMES}
    card = mc.render_model_card(MODEL, ev, cards, hr.Repos(NS))
    assert f"| {name} | {results[name]['task']} | mcc | 0.988 |" in card.content
    assert any(e.metric_value == 0.9877 for e in card.data.eval_results)
    before, after = mc.wins(shipped)[0], mc.wins(ev)[0]
    assert after == before + 1 and f"small CNN on {after}" in card.content
    results[name].update(split_rows=results[name]["ours"]["n"] + 1)  # scored on a sample: the Hub's notes say so
    files = mc.eval_results_files(mc.Evaluation(tmp_path, results, shipped.baselines, None),
                                  {d: f"{NS}/{d}" for d in mc.DATASET_NAMES})
    assert f"a sample of its {results[name]['ours']['n'] + 1} rows" in "".join(files.values())


# ---------------------------------------------------------------------------------------------------- loading
def test_model_loads_offline_as_users_load_it(hub, tmp_path):
    out, _, _, _ = hub
    printed = run_fresh(f"""
        from transformers import AutoModelForCausalLM, AutoTokenizer
        folder = {str(out / "model")!r}
        tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
        model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)
        enc = tok("ACGTTGCAAGGCTTACGGATCCAGT, GC content =", return_tensors="pt")
        ids = model.generate(**enc, max_new_tokens=4, do_sample=False)
        print(type(model).__name__, ids.shape[1] > enc["input_ids"].shape[1])
    """, tmp_path)
    assert "GenomicLLMForCausalLM True" in printed


def test_datasets_load_offline_with_their_configs(hub, tmp_path):
    out, _, _, _ = hub
    printed = run_fresh(f"""
        from datasets import load_dataset
        for name, config in [("genomicllm_grch38", "gc_content"), ("gue", "tf_0"),
                             ("genomic_benchmarks", "human_nontata_promoters")]:
            ds = load_dataset({str(out / "datasets")!r} + "/" + name, config)
            split = sorted(ds)[-1]
            print(name, sorted(ds), ds[split].num_rows > 0, "prompt" in ds[split].column_names)
    """, tmp_path)
    assert "genomicllm_grch38 ['train', 'validation'] True True" in printed  # the small corpus has no test block
    assert "gue ['dev', 'test', 'train'] True True" in printed
    assert "genomic_benchmarks ['test', 'train'] True True" in printed


def test_adapter_loads_with_peft_offline(hub, tiny_lora, tmp_path):
    out, _, _, _ = hub
    printed = run_fresh(f"""
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer
        base = AutoModelForCausalLM.from_pretrained({str(tiny_lora[0])!r})
        ids = torch.tensor([[1, 4, 5, 6, 7, 8]])
        plain = base(ids).logits
        tok = AutoTokenizer.from_pretrained({str(out / "lora")!r})
        model = PeftModel.from_pretrained(base, {str(out / "lora")!r})
        print(type(model).__name__, model.peft_config["default"].r, not torch.allclose(model(ids).logits, plain),
              tok.eos_token)
    """, tmp_path)
    assert "PeftModelForCausalLM 4 True </s>" in printed


def test_space_imports_without_the_repository(hub, tmp_path):
    """cwd = the Space folder, the repository not importable: the app defaults to the model repo and serves a local
    folder when GENOMICLLM_MODEL names one; no module is loaded from the repository checkout."""
    out, _, _, _ = hub
    printed = run_fresh(f"""
        import os, sys
        import app
        print("default", app.model_location())
        os.environ["GENOMICLLM_MODEL"] = {str(out / "model")!r}
        tok, model = app.get_model()
        from modeling.inference import ask
        print("answer", ask(tok, model, "gc_content", "ACGTTGCAAGGCTTACGGATCC").task)
        from assistant.chat import TEMPLATE
        from assistant.references import References
        from assistant.tools import Toolbox
        refs = References()
        refs.ingest("GC of ACGTACGTACGTACGTACGT?")
        print("assistant", os.path.basename(os.environ["GENOMICLLM_ASSISTANT"]), "tool_call" in TEMPLATE,
              Toolbox().call("gc_content", {{"sequence": "1"}}, refs),
              Toolbox().call("gene_name", {{"query": "TP53"}}, refs))
        root = {str(ROOT)!r} + os.sep
        leaked = sorted(n for n, m in list(sys.modules.items()) if (getattr(m, "__file__", None) or "").startswith(root)
                        and os.sep + ".venv" + os.sep not in m.__file__)
        print("leaked", leaked)
    """, tmp_path, cwd=out / "space", GENOMICLLM_MODEL="")
    assert f"default ('{NS}/GenomicLLM', None)" in printed
    assert "answer gc_content" in printed and "leaked []" in printed
    assert f"assistant {hr.ASSISTANT_LORA} True {{'result': 0.5}} {{'error': 'no gene table here" in printed


# ---------------------------------------------------------------------------------------------------- upload
def test_dry_run_lists_every_file_and_pushes_nothing(hub):
    _, repos, printed, api = hub
    assert api.method_calls == []
    assert "dry run: nothing uploaded" in printed and "HF_TOKEN" in printed
    for r in repos:
        assert f"{r.repo_id}" in printed and f"{len(r.files)} files" in printed
        assert all(f["sha256"] in printed and f["path"] in printed for f in r.files)
    n_files, size = sum(len(r.files) for r in repos), hr.human(sum(r.size for r in repos))
    assert f"total: 6 repos, {n_files} files, {size}" in printed


def test_push_calls_hfapi_with_repo_ids_types_and_folders(hub, monkeypatch):
    _, repos, _, _ = hub
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    api = create_autospec(HfApi, instance=True)
    hr.push(repos, api=api, tag="v0.1.0")
    created = [(c.args[0], c.kwargs["repo_type"]) for c in api.create_repo.call_args_list]
    assert created == [(f"{NS}/GenomicLLM_GRCh38", "dataset"), (f"{NS}/GUE", "dataset"),
                       (f"{NS}/GenomicBenchmarks", "dataset"), (f"{NS}/GenomicLLM", "model"),
                       (f"{NS}/GenomicLLM-chat-lora", "model"), (f"{NS}/GenomicLLM", "space")]
    assert all(c.kwargs["exist_ok"] for c in api.create_repo.call_args_list)
    assert api.create_repo.call_args_list[-1].kwargs["space_sdk"] == "gradio"
    by_repo = {(r.repo_id, r.repo_type): r for r in repos}
    uploads = api.upload_folder.call_args_list
    assert len(uploads) == len(repos)
    for c in uploads:
        r = by_repo[(c.kwargs["repo_id"], c.kwargs["repo_type"])]
        assert Path(c.kwargs["folder_path"]) == r.folder
        assert hr.listing(Path(c.kwargs["folder_path"])) == r.files  # what goes up is what the dry run listed
    assert [(c.args[0], c.kwargs["tag"], c.kwargs["repo_type"]) for c in api.create_tag.call_args_list] == \
        [(rid, "v0.1.0", rtype) for rid, rtype in created]


def test_push_without_a_token_stops_naming_hf_token(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="HF_TOKEN"):
        hr.main(["--push", "--out", str(tmp_path / "hub")])
    assert not (tmp_path / "hub").exists()
    with pytest.raises(SystemExit, match="HF_TOKEN"):
        hr.push([], api=create_autospec(HfApi, instance=True))


# ---------------------------------------------------------------------------------------------------- bad input
def test_bad_inputs_fail_clearly(hub, tiny_datasets, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="invalid Hub namespace 'bad/ns'"):
        hr.main(["--namespace", "bad/ns", "--out", str(tmp_path / "a")])
    with pytest.raises(hr.ReleaseInputError, match="invalid Hub namespace"):
        hr.Repos("a--b")
    common = ["--out", str(tmp_path / "b"), "--datasets", str(tiny_datasets), "--model", str(MODEL)]
    with pytest.raises(SystemExit, match="run make lora"):
        hr.main(common + ["--lora", str(tmp_path / "no-lora"), "--results", str(RESULTS)])
    with pytest.raises(SystemExit, match="no results.json"):
        hr.main(common + ["--allow-missing", "lora", "--lora", str(tmp_path / "x"), "--results", str(tmp_path)])
    with pytest.raises(SystemExit, match="run `make datasets`"):
        hr.main(["--out", str(tmp_path / "c"), "--datasets", str(tmp_path / "none"), "--allow-missing", "lora"])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="not written by this release"):
        hr.main(["--out", str(tmp_path / "mine"), "--datasets", str(tiny_datasets), "--allow-missing", "lora"])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    broken = tmp_path / "broken"
    shutil.copytree(tiny_datasets / "GUE", broken)
    text = (broken / "README.md").read_text()
    (broken / "README.md").write_text(re.sub(r"task_categories:\n- text-classification\n", "", text))
    with pytest.raises(hr.ReleaseInputError, match="no `task_categories`"):
        hr.check_dataset_card(broken)
