"""What travels to a bare GPU machine and what comes back from it (`finetune/training/gpu.sh` runs there).

There: no network, no `../shared`, and the working tree that travels is capped (64 MiB with the tracked files).
`pack`: the training mixture needs only `prompt` and `answer` of the train splits (the `sequence` column repeats the
prompt's DNA), zstd-compressed hard, plus the tokenizer folder and the transformers wheel (`make gpu-pack`).
Back: at most 8 files, so gpu.sh returns the weight shards, config and logs; `unpack` rebuilds a run folder from
them here (release folder through the release writer, log, configs, loss plot), ready for `finetune.training.ship`.

    python -m finetune.training.gpu pack --datasets build/datasets --tokenizer build/tokenizer-char --out build/gpu-pack
    python -m finetune.training.gpu unpack BACK_DIR --tokenizer build/tokenizer-char --run build/train/gpu
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pyarrow.parquet as pq

from tasks.benchmarks import DATASETS

from .data import TRAIN_SPLIT

COLUMNS = ["prompt", "answer"]
BACK_FILES = ("config.json", "log.jsonl", "train_config.json", "mixture.json")  # + the weight shards (+ index)


def pack(datasets: Path, tokenizer: Path, out: Path) -> dict[str, int]:
    """Write the pack; return {relative path: bytes} of what was written."""
    if out.exists():
        shutil.rmtree(out)
    written = {}
    for dataset in DATASETS:
        for path in sorted((datasets / dataset / "data").glob(f"*/{TRAIN_SPLIT}.parquet")):
            table = pq.read_table(path, columns=COLUMNS)
            target = out / "datasets" / dataset / "data" / path.parent.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, target, compression="zstd", compression_level=19)
            written[str(target.relative_to(out))] = target.stat().st_size
    if not written:
        raise FileNotFoundError(f"no train splits under {datasets}: run `make datasets` first")
    shutil.copytree(tokenizer, out / "tokenizer")
    for p in (out / "tokenizer").iterdir():
        written[str(p.relative_to(out))] = p.stat().st_size
    return written


def unpack(back: Path, tokenizer: Path, run: Path) -> Path:
    """A run folder (release/, log.jsonl, train_config.json, mixture.json, loss.png) from what a GPU run sent back."""
    from transformers import AutoTokenizer

    from modeling.modeling_genomicllm import GenomicLLMForCausalLM
    from modeling.release import write_release

    from ..loop import plot_losses

    missing = [name for name in BACK_FILES if not (back / name).is_file()]
    if missing or not list(back.glob("*.safetensors")):
        raise FileNotFoundError(f"{back}: not a GPU run's files (missing {missing or 'the weight shards'})")
    run.mkdir(parents=True, exist_ok=True)
    for name in BACK_FILES[1:]:
        shutil.copy(back / name, run / name)
    model = GenomicLLMForCausalLM.from_pretrained(back, dtype="float32")  # bf16-trained, fp32-stored either way
    write_release(model, AutoTokenizer.from_pretrained(tokenizer), run / "release", overwrite=True)
    plot_losses(run / "log.jsonl", run / "loss.png")
    return run


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("pack", help="the folder a GPU run trains from")
    a.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    a.add_argument("--tokenizer", type=Path, default=Path("build/tokenizer-char"))
    a.add_argument("--out", type=Path, default=Path("build/gpu-pack"))
    b = sub.add_parser("unpack", help="a run folder from what a GPU run sent back")
    b.add_argument("back", type=Path)
    b.add_argument("--tokenizer", type=Path, default=Path("build/tokenizer-char"))
    b.add_argument("--run", type=Path, default=Path("build/train/gpu"))
    args = p.parse_args(argv)
    if args.command == "pack":
        written = pack(args.datasets, args.tokenizer, args.out)
        print(f"{args.out}: {len(written)} files, {sum(written.values()) / 2**20:.1f} MiB")
    else:
        print(f"run folder: {unpack(args.back, args.tokenizer, args.run)}")


if __name__ == "__main__":
    main()
