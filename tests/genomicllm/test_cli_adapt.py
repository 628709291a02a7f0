"""`genomicllm finetune / ask --adapter / score --adapter / push`: the command trains a folder from a file, answers and
scores with it (a fresh process for `ask`), lists it for upload, and refuses bad input with a message naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genomicllm.cli import main

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("sub, option", [("finetune", "--task-name"), ("push", "--repo"), ("ask", "--adapter"),
                                         ("score", "--adapter"), ("serve", "--adapter")])
def test_the_subcommands_say_how_to_use_them(sub, option, capsys):
    with pytest.raises(SystemExit) as e:
        main([sub, "--help"])
    assert e.value.code == 0 and option in capsys.readouterr().out


@pytest.mark.parametrize("text, args, message", [
    ("seq,label\nACGT,1\n", [], "missing column(s) ['sequence']"),
    ("sequence,label\n" + "ACGTACGT,yes\n" * 30, [], "one class only ('yes', 30 rows)"),
    ("sequence,label\nACGTNNQA,yes\nACGT,no\n", [], "row 1, column `sequence`, position 7: 'Q'"),
    ("sequence,label\n" + "".join(f"{'ACGT' * (i + 2)},{i % 2}\n" for i in range(30)), [],
     "fewer than 20 rows for label(s) '0' (15), '1' (15)"),
    ("sequence,label\n" + "".join(f"{'ACGT' * (i + 2)},{i % 2}\n" for i in range(60)), ["--labels", "a,b,c"],
     "--labels names ['c']"),
])
def test_bad_input_is_refused_with_a_message_naming_it(text, args, message, tmp_path, capsys):
    data = write(tmp_path / "mine.csv", text)
    rc = main(["finetune", "--data", str(data), "--task-name", "mine", "--out", str(tmp_path / "out"), *args])
    assert rc == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_built_in_task_name_is_refused(labelled_csv, tmp_path, capsys):
    rc = main(["finetune", "--data", str(labelled_csv), "--task-name", "promoter", "--out", str(tmp_path / "o")])
    assert rc == 2 and "'promoter' is a built-in task" in capsys.readouterr().err


def test_finetune_then_score_and_push_the_folder(tiny_base, labelled_csv, tmp_path, capsys, monkeypatch):
    out = tmp_path / "gc"
    rc = main(["finetune", "--data", str(labelled_csv), "--task-name", "gc_rich", "--phrase", "GC rich",
               "--out", str(out), "--model", str(tiny_base), "--base-id", "me/GenomicLLM", "--max-steps", "3",
               "--tokens-per-batch", "400", "--rank", "4", "--quiet"])
    printed = capsys.readouterr().out
    assert rc == 0 and "test (12 rows): MCC" in printed and "k-mer LR MCC" in printed
    assert json.loads((out / "adapter_config.json").read_text())["r"] == 4
    assert (out / "README.md").is_file() and not (out / "checkpoints").exists()

    more = write(tmp_path / "more.csv", labelled_csv.read_text().replace(",1\n", ",yes\n"))  # answer labels work too
    assert main(["score", "--adapter", str(out), "--model", str(tiny_base), "--data", str(more)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["n"] == 120 and {"mcc", "accuracy", "macro_f1", "unparseable_rate"} <= set(metrics)
    bad = write(tmp_path / "bad.csv", "sequence,label\nACGTACGT,maybe\n")
    assert main(["score", "--adapter", str(out), "--model", str(tiny_base), "--data", str(bad)]) == 2
    assert "labels ['maybe'] are not labels of this task (no, yes)" in capsys.readouterr().err

    monkeypatch.delenv("HF_TOKEN", raising=False)
    assert main(["push", str(out), "--repo", "me/gc-rich"]) == 0
    assert "dry run: nothing uploaded" in capsys.readouterr().out
    again = main(["finetune", "--data", str(labelled_csv), "--task-name", "gc_rich", "--out", str(out),
                  "--model", str(tiny_base)])
    assert again == 2 and "already holds a finished adapter" in capsys.readouterr().err


def test_ask_with_an_adapter_in_a_fresh_process(tiny_adapter, tiny_base, tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "genomicllm", "ask", "--adapter", str(tiny_adapter), "--model",
                           str(tiny_base), "ggg cccatgg ccgggcatcc"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second = done.stdout.strip().splitlines()[-2:]
    assert first.startswith("GGGCCCATGGCCGGGCATCC, GC rich =")
    probs = dict(kv.rsplit(" ", 1) for kv in second.removeprefix("probabilities: ").split(", "))
    assert set(probs) == {"no", "yes"} and abs(sum(map(float, probs.values())) - 1) < 0.01
