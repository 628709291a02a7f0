"""Write the model release folder: exactly the files the Hub model repo will hold.

    config.json, generation_config.json          (save_pretrained; config carries the full `auto_map`)
    model.safetensors (or shards + index)        (weights: safetensors only, pickle is refused)
    configuration_genomicllm.py, modeling_genomicllm.py, positions_genomicllm.py,
    heads_genomicllm.py, kmers_genomicllm.py     (remote code, copied by save_pretrained)
    tokenizer.json, tokenizer_config.json, ...   (tokenizer.save_pretrained; loads with AutoTokenizer, no remote code)
    README.md                                     (optional model card)

so that, on any machine with transformers 5.x and no access to this repository:

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)

The folder is built in a temporary sibling directory, checked, then moved into place: a failed check leaves no
half-written release behind.

CLI:  python -m modeling.release --model CHECKPOINT_DIR --tokenizer TOKENIZER_DIR --out RELEASE_DIR [--readme FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from transformers import PreTrainedModel, PreTrainedTokenizerFast

from .configuration_genomicllm import AUTO_MAP

MODELING_DIR = Path(__file__).resolve().parent
REMOTE_CODE_FILES = ("configuration_genomicllm.py", "modeling_genomicllm.py", "positions_genomicllm.py",
                     "heads_genomicllm.py", "kmers_genomicllm.py")
# The repository ships small weights only: a model's weights files together, in MB of 10**6 bytes.
MAX_MB = 25.0
# Anything that `torch.load` would unpickle. A release never contains one.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")


class ReleaseError(RuntimeError):
    """The release folder would not be what the Hub repo must hold."""


def write_release(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerFast,
    out_dir: str | Path,
    *,
    readme: str | Path | None = None,
    overwrite: bool = False,
    max_shard_size: str = "2GB",
) -> dict[str, str]:
    """Write ``model`` + ``tokenizer`` + remote code into ``out_dir``; return {relative path: sha256} of every file.

    ``readme``: a ``Path`` to a model card file, or the card's text as a ``str``.

    Refuses (``ReleaseError``): a model that is not GenomicLLM remote code, a tokenizer that is not a fast
    (``tokenizer.json``) tokenizer, special-token ids or vocabulary sizes that disagree between tokenizer and model,
    pickle weights, a non-empty ``out_dir`` unless ``overwrite=True``.
    """
    out_dir = Path(out_dir)
    _check_inputs(model, tokenizer)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise ReleaseError(f"{out_dir} is not empty (pass overwrite=True to replace it)")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        model.save_pretrained(staging, max_shard_size=max_shard_size)
        _save_tokenizer(tokenizer, staging, model.config.max_position_embeddings)
        if readme is not None:
            text = readme.read_text(encoding="utf-8") if isinstance(readme, Path) else readme
            (staging / "README.md").write_text(text, encoding="utf-8")
        manifest = check_release(staging)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return manifest


def check_release(folder: str | Path) -> dict[str, str]:
    """Check a release folder; return {relative path: sha256}. Raises ``ReleaseError`` on any problem."""
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    names = {p.relative_to(folder).as_posix() for p in files}

    pickles = sorted(n for n in names if n.lower().endswith(PICKLE_SUFFIXES))
    if pickles:
        raise ReleaseError(f"pickle files in the release (safetensors only): {pickles}")
    if "model.safetensors" not in names and "model.safetensors.index.json" not in names:
        raise ReleaseError("no model.safetensors (or model.safetensors.index.json) in the release")
    if "model.safetensors.index.json" in names:
        index = json.loads((folder / "model.safetensors.index.json").read_text())
        missing = sorted(set(index["weight_map"].values()) - names)
        if missing:
            raise ReleaseError(f"safetensors shards named in the index are missing: {missing}")

    mb = weights_mb(folder)
    if mb > MAX_MB:
        raise ReleaseError(f"the weights are {mb:.2f} MB, over the {MAX_MB} MB a model may ship")
    config = json.loads((folder / "config.json").read_text())
    auto_map = config.get("auto_map") or {}
    for auto_class, target in AUTO_MAP.items():
        if auto_map.get(auto_class) != target:
            raise ReleaseError(f"config.json auto_map[{auto_class!r}] is {auto_map.get(auto_class)!r}, want {target!r}")
    for name in REMOTE_CODE_FILES:
        if name not in names:
            raise ReleaseError(f"remote code file {name} missing from the release")
        if (folder / name).read_bytes() != (MODELING_DIR / name).read_bytes():
            raise ReleaseError(f"{name} in the release differs from modeling/{name}")
    if "tokenizer.json" not in names:
        raise ReleaseError("no tokenizer.json in the release (a fast tokenizer is required)")
    missing = [n for n in _tokenizer_code_files(folder) if n not in names]
    if missing:
        raise ReleaseError(f"tokenizer_config.json auto_map names {missing}, missing from the release")
    return {p.relative_to(folder).as_posix(): sha256(p) for p in files}


def weights_mb(folder: str | Path) -> float:
    """The size of the folder's weights files (``*.safetensors``), in MB (10**6 bytes)."""
    return sum(p.stat().st_size for p in Path(folder).glob("*.safetensors")) / 1e6


def _check_inputs(model: PreTrainedModel, tokenizer: PreTrainedTokenizerFast) -> None:
    config = model.config
    if getattr(config, "model_type", None) != "genomicllm" or not type(model).is_remote_code():
        raise ReleaseError(f"not a GenomicLLM remote-code model: {type(model).__name__}")
    if not isinstance(tokenizer, PreTrainedTokenizerFast):
        raise ReleaseError(f"need a fast tokenizer (PreTrainedTokenizerFast), got {type(tokenizer).__name__}")
    if len(tokenizer) > config.vocab_size:
        raise ReleaseError(f"tokenizer has {len(tokenizer)} tokens, the model's vocab_size is {config.vocab_size}")
    for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
        tok_id, model_id = getattr(tokenizer, name), getattr(config, name)
        if tok_id is not None and model_id is not None and tok_id != model_id:
            raise ReleaseError(f"{name}: tokenizer says {tok_id}, model config says {model_id}")
    if config.dna_token_ids and max(config.dna_token_ids) >= len(tokenizer):
        raise ReleaseError("config.dna_token_ids names ids the tokenizer does not have")


def _save_tokenizer(tokenizer: PreTrainedTokenizerFast, folder: Path, max_length: int) -> None:
    """Save the tokenizer; its ``model_max_length`` is capped at the model's context so `truncation=True` means
    something (the model itself refuses longer inputs)."""
    previous = tokenizer.model_max_length
    tokenizer.model_max_length = min(previous, max_length)
    try:
        tokenizer.save_pretrained(folder)
    finally:
        tokenizer.model_max_length = previous
    keep_tokenizer_class(folder, Path(tokenizer.name_or_path))


def keep_tokenizer_class(folder: Path, source: Path) -> None:
    """Make a saved tokenizer load the way its source folder does, with and without remote code.

    A tokenizer loaded without trust_remote_code saves itself as the generic backend class, with its config's
    auto_map but not the code the auto_map names: loading the result without remote code then asks whether to run
    it, and with remote code fails. So the source folder's class names are kept and its code module is copied.
    """
    source_config = source / "tokenizer_config.json"
    if not source_config.is_file():
        return
    src, path = json.loads(source_config.read_text()), folder / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config.update({k: src[k] for k in ("tokenizer_class", "auto_map") if k in src})
    path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    for name in _tokenizer_code_files(folder):
        if not (folder / name).is_file() and (source / name).is_file():
            shutil.copy2(source / name, folder / name)


def _tokenizer_code_files(folder: Path) -> list[str]:
    """The remote-code modules that tokenizer_config.json's auto_map names."""
    path = folder / "tokenizer_config.json"
    auto_map = json.loads(path.read_text()).get("auto_map", {}) if path.is_file() else {}
    targets = [t for v in auto_map.values() for t in (v if isinstance(v, list) else [v]) if t]
    return sorted({t.split("--")[-1].rsplit(".", 1)[0] + ".py" for t in targets})


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    from transformers import AutoTokenizer

    from .modeling_genomicllm import GenomicLLMForCausalLM

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a save_pretrained folder of GenomicLLMForCausalLM")
    parser.add_argument("--tokenizer", required=True, help="a tokenizer folder (tokenizer.json)")
    parser.add_argument("--out", required=True, help="release folder to write")
    parser.add_argument("--readme", help="model card to ship as README.md")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    model = GenomicLLMForCausalLM.from_pretrained(args.model)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    readme = Path(args.readme) if args.readme else None
    manifest = write_release(model, tokenizer, args.out, readme=readme, overwrite=args.overwrite)
    for name, digest in manifest.items():
        print(f"{digest}  {name}")


if __name__ == "__main__":
    main()
