"""How to spend both cores on training: one process with two threads vs two accelerate processes with one thread
each (vs one thread alone), on the shipped config, measured as training tokens per wall-second and per CPU-second.

Each layout trains the same config for `--steps` steps from scratch (the product trainer; the first steps are left
out as warm-up) on an otherwise idle machine; run nothing beside it.

    python -m studies.throughput --config finetune/training/configs/genomicllm.json --steps 24
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

OUT = Path("build/studies/throughput")
TABLE = Path("studies/results/throughput")
LAYOUTS = {  # name: (processes, threads per process)
    "1 process x 1 thread": (1, 1),
    "1 process x 2 threads": (1, 2),
    "2 processes x 1 thread (torchrun, DDP over gloo)": (2, 1),
}


def measure(config: Path, steps: int, processes: int, threads: int, skip: int) -> dict:
    out = OUT / f"p{processes}t{threads}"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TOKENIZERS_PARALLELISM": "false"}
    train = ["-m", "finetune.training.train", "--config", str(config), "--out", str(out), "--steps", str(steps),
             "--set", f"checkpoint_every={10 * steps}", "warmup_steps=2", "max_rows_per_source=2000"]
    if processes == 1:
        cmd = [sys.executable, *train]
    else:
        # torchrun + ACCELERATE_USE_CPU: `accelerate launch --cpu --num_processes 2` starts one process only
        env["ACCELERATE_USE_CPU"] = "true"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes), *train]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ran = json.loads((out / "run_info.json").read_text())["processes"]
    if ran != processes:
        raise RuntimeError(f"asked for {processes} processes, the run had {ran}")
    rows = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    a, b = rows[skip - 1], rows[-1]
    tokens = b["tokens"] - a["tokens"]  # the log sums tokens and CPU-seconds over all processes
    wall, cpu = b["time"] - a["time"], b["cpu_s"] - a["cpu_s"]
    return {"tokens_per_wall_s": tokens / wall, "tokens_per_cpu_s": tokens / cpu, "steps_timed": len(rows) - skip}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, default=Path("finetune/training/configs/genomicllm.json"))
    p.add_argument("--steps", type=int, default=24)
    p.add_argument("--skip", type=int, default=4, help="warm-up steps left out")
    args = p.parse_args(argv)
    rows = {name: measure(args.config, args.steps, *layout, args.skip) for name, layout in LAYOUTS.items()}
    lines = [f"Training throughput of `{args.config}` ({args.steps} steps, the first {args.skip} left out), "
             "nothing else running.\n", "| layout | tokens / wall-s | tokens / CPU-s |", "|---|---|---|"]
    lines += [f"| {n} | {r['tokens_per_wall_s']:,.0f} | {r['tokens_per_cpu_s']:,.0f} |" for n, r in rows.items()]
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    TABLE.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
