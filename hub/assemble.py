"""`make release`: assemble under build/hub/ exactly the repositories that go to the Hugging Face Hub, and push them.

    build/hub/model/                         -> <ns>/GenomicLLM          (model: weights, config with auto_map, remote
                                                                          code, tokenizer, generation config, card with
                                                                          model-index, .eval_results/, eval/*.json)
    build/hub/datasets/genomicllm_grch38/    -> <ns>/GenomicLLM_GRCh38   (dataset: parquet + card)
    build/hub/datasets/gue/                  -> <ns>/GUE                 (dataset)
    build/hub/datasets/genomic_benchmarks/   -> <ns>/GenomicBenchmarks   (dataset)
    build/hub/lora/                          -> <ns>/GenomicLLM-chat-lora (model: the peft adapter + card)
    build/hub/space/                         -> <ns>/GenomicLLM          (space: app + the project modules it imports)
    build/hub/manifest.json                  what would be uploaded: every file with size and sha256

    python -m hub.assemble [--out build/hub] [--namespace NS] [--push] [--tag TAG] [--private]
                                   [--results DIR] [--lora DIR] [--allow-missing lora]

Without --push (or PUSH=1) it is a dry run: it assembles and prints the listing, uploads nothing. With --push it
needs a write token in $HF_TOKEN and, per repo, calls `HfApi.create_repo(repo_id, repo_type=..., exist_ok=True)` then
`HfApi.upload_folder(...)` (the remote repo then mirrors the folder: files no longer in it are deleted), datasets
first, then the model, the adapter and the Space; with --tag each repo's new commit is tagged (`HfApi.create_tag`),
and the Space is pinned to that tag of the model. Users pin a revision with
`from_pretrained(repo, revision="<commit sha or tag>", trust_remote_code=True)`: the remote code then runs from that
revision too. Namespace: --namespace, else $HF_NAMESPACE, else "genomicllm".
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from modeling.release import PICKLE_SUFFIXES, check_release, sha256
from tasks.paths import ASSISTANT_DIR

from .model_card import (
    DATASET_NAMES,
    HUB_NAMES,
    eval_results_files,
    find_results,
    load_evaluation,
    render_model_card,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAMESPACE = "genomicllm"
_SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
PROJECT_PACKAGES = tuple(p.rstrip("*") for p in _SETUPTOOLS["packages"]["find"]["include"] if "." not in p)
PACKAGE_DATA: dict[str, list[str]] = _SETUPTOOLS.get("package-data", {})  # package -> globs of files it reads
LORA_DIR = Path("release/GenomicLLM-chat-lora")
ASSISTANT_LORA = "assistant-lora"  # the Space's copy of the assistant's LoRA (release/GenomicLLM-assistant)
ASSISTANT_FILES = ("adapter_", "tokenizer", "chat_template", "special_tokens_map")  # what loading it reads
TOKEN_ENV = "HF_TOKEN"
_NAMESPACE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")


class ReleaseInputError(ValueError):
    """An input of the release is missing or not what the Hub repo must hold."""


@dataclass(frozen=True)
class Repos:
    """The Hub repo ids of one namespace."""

    namespace: str

    def __post_init__(self):
        ns = self.namespace
        if not isinstance(ns, str) or not _NAMESPACE.fullmatch(ns) or "--" in ns or ".." in ns:
            raise ReleaseInputError(
                f"invalid Hub namespace {ns!r}: 1-96 letters, digits, '-', '_' or '.', starting and ending with a "
                "letter or digit, no '--' or '..' (set --namespace or HF_NAMESPACE)")

    @property
    def model(self) -> str:
        return f"{self.namespace}/GenomicLLM"

    @property
    def lora(self) -> str:
        return f"{self.namespace}/GenomicLLM-chat-lora"

    @property
    def space(self) -> str:
        return f"{self.namespace}/GenomicLLM"

    @property
    def datasets(self) -> dict[str, str]:
        return {name: f"{self.namespace}/{name}" for name in DATASET_NAMES}


@dataclass
class HubRepo:
    """One assembled folder and where it goes."""

    key: str  # its folder under the output, e.g. "datasets/gue"
    repo_id: str
    repo_type: str  # model | dataset | space
    folder: Path
    files: list[dict] = field(default_factory=list)  # {path, size, sha256}

    @property
    def size(self) -> int:
        return sum(f["size"] for f in self.files)


# ------------------------------------------------------------------------------------------------ small helpers
def front_matter(path: Path) -> tuple[dict, str]:
    """(YAML header, body) of a card; raises if the header is missing or is not a mapping."""
    text = path.read_text(encoding="utf-8")
    m = re.match(r"\A---\n(.*?\n)---\n", text, re.S)
    if not m:
        raise ReleaseInputError(f"{path}: no YAML header (--- ... ---) at the top")
    header = yaml.safe_load(m.group(1))
    if not isinstance(header, dict):
        raise ReleaseInputError(f"{path}: the YAML header is not a mapping")
    return header, text[m.end():]


def write_card(path: Path, header: dict, body: str) -> None:
    path.write_text("---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=120) + "---\n" + body,
                    encoding="utf-8")


def listing(folder: Path) -> list[dict]:
    """Every file under `folder` (hidden ones included: upload_folder sends them), sorted, with size and sha256."""
    return [{"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "sha256": sha256(p)}
            for p in sorted(folder.rglob("*")) if p.is_file()]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n:.1f} GiB"


# ------------------------------------------------------------------------------------------------ the parts
DATASET_REQUIRED = ("license", "pretty_name", "tags", "task_categories", "size_categories", "configs")


def check_dataset_card(folder: Path) -> dict:
    """The dataset card's header, checked: the keys the Hub shows, and `configs` whose data_files all exist."""
    card = folder / "README.md"
    if not card.is_file():
        raise ReleaseInputError(f"{folder}: no README.md dataset card (run `make datasets`)")
    header, _ = front_matter(card)
    problems = [f"no `{k}`" for k in DATASET_REQUIRED if not header.get(k)]
    if header.get("license") == "other" and not (header.get("license_name") or header.get("license_details")):
        problems.append("license `other` without license_name / license_details")
    for cfg in header.get("configs") or []:
        files = cfg.get("data_files") or []
        if not cfg.get("config_name") or not files:
            problems.append(f"config {cfg.get('config_name')!r} without a name or data_files")
        problems += [f"config {cfg['config_name']}: {f.get('path')} missing" for f in files
                     if not (folder / str(f.get("path"))).is_file()]
    if problems:
        raise ReleaseInputError(f"{card}: " + "; ".join(problems) + " (rebuild with `make datasets`)")
    return header


def assemble_dataset(src: Path, dst: Path) -> None:
    header = check_dataset_card(src)
    _copy(src / "README.md", dst / "README.md")
    for cfg in header["configs"]:
        for f in cfg["data_files"]:
            _copy(src / f["path"], dst / f["path"])


def assemble_model(src: Path, dst: Path, repos: Repos, datasets_dir: Path, results: Path | None) -> Path:
    """The model repo: the release folder + the rendered card + eval results. Returns the results folder used."""
    if not src.is_dir():
        raise ReleaseInputError(f"model folder {src} missing (the repository ships release/GenomicLLM)")
    check_release(src)
    ev = load_evaluation(find_results(results))
    for p in sorted(src.iterdir()):
        if p.is_file() and not p.name.startswith(".") and p.name != "README.md":
            _copy(p, dst / p.name)
    cards = {name: datasets_dir / name / "README.md" for name in DATASET_NAMES}
    render_model_card(src, ev, cards, repos).save(dst / "README.md")
    for name, text in eval_results_files(ev, repos.datasets).items():
        (dst / ".eval_results").mkdir(exist_ok=True)
        (dst / ".eval_results" / name).write_text(text)
    for name in ("results.json", "baselines.json", "bench.json"):
        if (ev.source / name).is_file():
            _copy(ev.source / name, dst / "eval" / name)
    check_release(dst)
    return ev.source


def assemble_lora(src: Path, dst: Path, repos: Repos) -> None:
    """The adapter repo: the peft folder as committed; a local base-model path in adapter_config.json becomes the
    card's `base_model` Hub id, and bare dataset names in the card become this namespace's dataset repos."""
    missing = [n for n in ("adapter_config.json", "adapter_model.safetensors", "README.md") if not (src / n).is_file()]
    if missing:
        raise ReleaseInputError(f"{src}: {', '.join(missing)} missing (a peft adapter folder with its card)")
    pickles = sorted(p.name for p in src.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise ReleaseInputError(f"{src}: pickle files {pickles} (safetensors only)")
    header, body = front_matter(src / "README.md")
    base = header.get("base_model")
    base = base[0] if isinstance(base, list) and base else base
    if not base or header.get("library_name") != "peft":
        raise ReleaseInputError(f"{src / 'README.md'}: the card needs `base_model` and `library_name: peft`")
    for p in sorted(src.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(src).parts):
            _copy(p, dst / p.relative_to(src))
    config = json.loads((src / "adapter_config.json").read_text())
    where = str(config.get("base_model_name_or_path") or "")
    if where != base and (Path(where).expanduser().exists() or where.startswith(("/", ".", "~")) or not where):
        print(f"  lora: adapter_config.json base_model_name_or_path {where!r} (a local path) -> {base!r}")
        config["base_model_name_or_path"] = base
        (dst / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    if header.get("datasets"):
        names = header["datasets"] if isinstance(header["datasets"], list) else [header["datasets"]]
        header["datasets"] = [repos.datasets.get(n, n) for n in names]
        write_card(dst / "README.md", header, body)


def import_closure(entry: Path, root: Path = ROOT, packages: tuple[str, ...] = PROJECT_PACKAGES) -> list[Path]:
    """The project modules `entry` imports, directly or not (function-level imports included), with the
    `__init__.py` of every package on the way: paths relative to `root`. Third-party imports are not followed."""

    def resolve(name: str) -> list[Path]:
        parts = name.split(".")
        if parts[0] not in packages:
            return []
        found = [Path(*parts[:i], "__init__.py") for i in range(1, len(parts) + 1)]
        found.append(Path(*parts).with_suffix(".py"))
        return [p for p in found if (root / p).is_file()]

    seen: set[Path] = set()
    todo = [entry.resolve().relative_to(root.resolve())]
    while todo:
        rel = todo.pop()
        if rel in seen:
            continue
        seen.add(rel)
        package = list(rel.parent.parts)
        for node in ast.walk(ast.parse((root / rel).read_text(encoding="utf-8"), str(rel))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                base = ".".join(base + ([node.module] if node.module else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            todo += [p for name in names for p in resolve(name) if p not in seen]
    return sorted(seen)


def package_data(modules: list[Path], root: Path = ROOT) -> list[Path]:
    """The data files (pyproject's package-data) of the packages among `modules`: a template a module reads."""
    packages = {p.parent for p in modules if p.name == "__init__.py"}
    return sorted(f.relative_to(root) for name, globs in PACKAGE_DATA.items() if Path(*name.split(".")) in packages
                  for g in globs for f in (root / Path(*name.split("."))).glob(g))


LAUNCHER = '''"""Hugging Face Space entry point, written by `make release` (hub/assemble.py).

The app is space/app.py.

It serves the model repo below unless the Space variables GENOMICLLM_MODEL / GENOMICLLM_REVISION say otherwise
(a Hub id or a folder, and a branch, tag or commit sha).
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
MODEL_REPO = {model!r}
MODEL_REVISION = {revision!r}
if not os.environ.get("GENOMICLLM_MODEL"):
    os.environ["GENOMICLLM_MODEL"] = MODEL_REPO
if MODEL_REVISION and not os.environ.get("GENOMICLLM_REVISION"):
    os.environ["GENOMICLLM_REVISION"] = MODEL_REVISION
ASSISTANT_LORA = Path(__file__).resolve().parent / {assistant_lora!r}  # the Chat tab's LoRA (its base: from the Hub)
if ASSISTANT_LORA.is_dir() and not os.environ.get("GENOMICLLM_ASSISTANT"):
    os.environ["GENOMICLLM_ASSISTANT"] = str(ASSISTANT_LORA)

from space.app import build_demo, get_model, main, model_location  # noqa: E402,F401

if __name__ == "__main__":
    main()
'''


def assemble_space(src: Path, dst: Path, repos: Repos, model_revision: str | None = None,
                   assistant: Path | None = None) -> None:
    """The Space repo: a launcher `app.py` that defaults to the model repo, the app and exactly the project modules
    it imports (package layout kept), the assistant's LoRA (`assistant`, when it has been trained: its adapter and
    tokenizer files, a few MB) for the Chat tab, requirements.txt, and the README header pointing at the model and
    datasets."""
    app = src / "app.py"
    for needed in (app, src / "README.md", src / "requirements.txt"):
        if not needed.is_file():
            raise ReleaseInputError(f"{needed} missing: the Space folder needs app.py, README.md, requirements.txt")
    root = src.resolve().parent
    closure = import_closure(app, root)
    for rel in closure + package_data(closure, root):
        _copy(root / rel, dst / rel)
    if assistant is not None and (assistant / "adapter_config.json").is_file():
        for f in sorted(assistant.iterdir()):
            if f.is_file() and f.name.startswith(ASSISTANT_FILES):
                _copy(f, dst / ASSISTANT_LORA / f.name)
    (dst / "app.py").write_text(LAUNCHER.format(model=repos.model, revision=model_revision,
                                                assistant_lora=ASSISTANT_LORA))
    _copy(src / "requirements.txt", dst / "requirements.txt")
    header, body = front_matter(src / "README.md")
    header.update(app_file="app.py", models=[repos.model], datasets=list(repos.datasets.values()))
    body = re.sub(r"\n## Publishing as a Hugging Face Space\n.*?(?=\n## |\Z)", "\n", body, flags=re.S)
    intro = (f"\nThis Space serves [{repos.model}](https://huggingface.co/{repos.model})"
             + (f" at revision `{model_revision}`" if model_revision else "")
             + " (Space variables `GENOMICLLM_MODEL` / `GENOMICLLM_REVISION` override it). It holds the app "
             "(`space/`) and the project modules it imports, assembled by the GenomicLLM repository's "
             "`make release`.\n")
    title = re.search(r"^# .*\n", body, re.M)
    at = title.end() if title else 0
    write_card(dst / "README.md", header, body[:at] + intro + body[at:])


# ------------------------------------------------------------------------------------------------ assembly
def assemble(out: Path, repos: Repos, *, model: Path = Path("release/GenomicLLM"),
             datasets: Path = Path("build/datasets"), lora: Path = LORA_DIR, space: Path = Path("space"),
             results: Path | None = None, allow_missing: tuple[str, ...] = (), tag: str | None = None,
             assistant: Path | None = None) -> list[HubRepo]:
    """Write every repo folder under `out` (built in a staging folder, then moved into place) and manifest.json."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise ReleaseInputError(f"{out} exists and was not written by this release (no manifest.json): "
                                "not replacing it")
    for name in DATASET_NAMES:
        if not (datasets / name / "README.md").is_file():
            raise ReleaseInputError(f"{datasets / name} missing: run `make datasets`")
    have_lora = (lora / "adapter_config.json").is_file()
    if not have_lora and "lora" not in allow_missing:
        raise ReleaseInputError(f"{lora} missing: run make lora (or pass --allow-missing lora to release without it)")
    stage = out.with_name(out.name + ".staging")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        used = assemble_model(model, stage / "model", repos, datasets, results)
        hub = [HubRepo("model", repos.model, "model", stage / "model")]
        for name in DATASET_NAMES:
            key = f"datasets/{HUB_NAMES[name]}"
            assemble_dataset(datasets / name, stage / key)
            hub.append(HubRepo(key, repos.datasets[name], "dataset", stage / key))
        if have_lora:
            assemble_lora(lora, stage / "lora", repos)
            hub.append(HubRepo("lora", repos.lora, "model", stage / "lora"))
        else:
            print(f"lora: {lora} missing, left out (--allow-missing lora)")
        assemble_space(space, stage / "space", repos, model_revision=tag, assistant=assistant)
        hub.append(HubRepo("space", repos.space, "space", stage / "space"))
        shutil.rmtree(out, ignore_errors=True)
        stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    for h in hub:
        h.folder = out / h.key
        h.files = listing(h.folder)
    manifest = {"namespace": repos.namespace, "results": (used / "results.json").as_posix(), "tag": tag,
                "total_bytes": sum(h.size for h in hub),
                "repos": [{"key": h.key, "repo_id": h.repo_id, "repo_type": h.repo_type, "bytes": h.size,
                           "files": h.files} for h in hub]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"model card results: {used / 'results.json'}"
          + (" (measured by `make eval`)" if used.resolve() == Path("build/eval").resolve() else " (committed copy)"))
    return hub


def print_listing(hub: list[HubRepo], full: bool = True) -> None:
    for h in hub:
        print(f"\n{h.repo_type:<7} {h.repo_id:<34} {h.folder}  {len(h.files)} files, {human(h.size)}")
        if full:
            for f in h.files:
                print(f"  {f['size']:>12,}  {f['sha256']}  {f['path']}")
    print(f"\ntotal: {len(hub)} repos, {sum(len(h.files) for h in hub)} files, {human(sum(h.size for h in hub))}")


# ------------------------------------------------------------------------------------------------ push
def push(hub: list[HubRepo], *, token: str | None = None, api=None, private: bool = False, tag: str | None = None,
         message: str = "GenomicLLM release (make release)") -> dict[str, str]:
    """create_repo + upload_folder per repo (datasets, model, adapter, Space in that order); tag each new commit when
    `tag` is given. Returns {repo_id (type): commit url}."""
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        raise SystemExit(f"--push needs a Hub write token in ${TOKEN_ENV} (https://huggingface.co/settings/tokens); "
                         "without --push this is a dry run")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    order = {"dataset": 0, "model": 1, "space": 2}
    done = {}
    for h in sorted(hub, key=lambda h: (order[h.repo_type], h.key != "model")):
        extra = {"space_sdk": "gradio"} if h.repo_type == "space" else {}
        api.create_repo(h.repo_id, repo_type=h.repo_type, private=private, exist_ok=True, token=token, **extra)
        info = api.upload_folder(repo_id=h.repo_id, repo_type=h.repo_type, folder_path=str(h.folder),
                                 commit_message=message, delete_patterns=["*"], token=token)
        if tag:
            api.create_tag(h.repo_id, tag=tag, repo_type=h.repo_type, revision=getattr(info, "oid", None), token=token)
        done[f"{h.repo_id} ({h.repo_type})"] = str(getattr(info, "commit_url", info))
        print(f"pushed {h.repo_type} {h.repo_id}: {done[f'{h.repo_id} ({h.repo_type})']}")
    return done


def main(argv: list[str] | None = None, api=None) -> list[HubRepo]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("build/hub"))
    p.add_argument("--namespace", default=os.environ.get("HF_NAMESPACE") or DEFAULT_NAMESPACE,
                   help="Hub user or organisation (default: $HF_NAMESPACE or %(default)s)")
    p.add_argument("--push", action="store_true", default=os.environ.get("PUSH", "").lower() in ("1", "true", "yes"),
                   help="upload (needs $HF_TOKEN); default (or PUSH unset): dry run")
    p.add_argument("--tag", help="tag every pushed repo's new commit (e.g. v0.1.0); the Space pins the model to it")
    p.add_argument("--private", action="store_true", help="create missing repos as private")
    p.add_argument("--model", type=Path, default=Path("release/GenomicLLM"))
    p.add_argument("--datasets", type=Path, default=Path("build/datasets"))
    p.add_argument("--lora", type=Path, default=LORA_DIR)
    p.add_argument("--space", type=Path, default=Path("space"))
    p.add_argument("--assistant", type=Path, nargs="?", const=ASSISTANT_DIR,
                   help="bundle the assistant's LoRA (default folder: %(const)s) into the Space for its Chat tab "
                   "(opt-in: the Space then also loads SmolLM2 from the Hub)")
    p.add_argument("--results", type=Path, help="folder with results.json + baselines.json (default: build/eval, "
                   "else release/eval)")
    p.add_argument("--allow-missing", nargs="*", default=[], choices=["lora"])
    p.add_argument("--quiet", action="store_true", help="per-repo totals only, not every file")
    args = p.parse_args(argv)
    try:
        repos = Repos(args.namespace)
        if args.push and not os.environ.get(TOKEN_ENV):
            raise SystemExit(f"--push needs a Hub write token in ${TOKEN_ENV} "
                             "(https://huggingface.co/settings/tokens); without --push this is a dry run")
        hub = assemble(args.out, repos, model=args.model, datasets=args.datasets, lora=args.lora, space=args.space,
                       assistant=args.assistant, results=args.results, allow_missing=tuple(args.allow_missing), tag=args.tag)
    except (ReleaseInputError, FileNotFoundError) as e:
        raise SystemExit(f"release: {e}") from e
    print_listing(hub, full=not args.quiet)
    if args.push:
        push(hub, api=api, private=args.private, tag=args.tag)
    else:
        print(f"dry run: nothing uploaded. To upload: PUSH=1 {TOKEN_ENV}=hf_... make release "
              f"(namespace {repos.namespace}; HF_NAMESPACE=... to change it)")
    return hub


if __name__ == "__main__":
    main()
