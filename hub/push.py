"""Share a fine-tuned GenomicLLM folder (`genomicllm finetune --out DIR`) as a Hub model repo.

    genomicllm push DIR --repo user/name [--private]     # dry run without $HF_TOKEN: lists the files it would send

The folder is checked first: finished (genomicllm_task.json, no `checkpoints/` of an unfinished run), weights in
safetensors and no pickle file, a card with `base_model` (and `library_name: peft` beside an adapter_config.json).
Without a token it is a dry run, as `make release` is (every file with its size and sha256); with $HF_TOKEN (or
`token=`) it calls `HfApi.create_repo(repo, exist_ok=True)` and `HfApi.upload_folder(...)`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from modeling.release import PICKLE_SUFFIXES
from tasks.custom import TASK_FILE

from .assemble import TOKEN_ENV, HubRepo, ReleaseInputError, front_matter, listing, print_listing

REPO_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?/[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")


def check_folder(folder: Path) -> dict:
    """The folder's card header, once every check has passed; ReleaseInputError naming the first problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReleaseInputError(f"{folder}: no such folder")
    if (folder / "checkpoints").exists():
        raise ReleaseInputError(f"{folder}: training has not finished (checkpoints/ is there); rerun the same "
                                "`genomicllm finetune` command to complete it")
    if not (folder / TASK_FILE).is_file():
        raise ReleaseInputError(f"{folder}: no {TASK_FILE}; push a folder written by `genomicllm finetune`")
    pickles = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise ReleaseInputError(f"{folder}: pickle files {pickles} (safetensors only)")
    peft = (folder / "adapter_config.json").is_file()
    weights = "adapter_model.safetensors" if peft else "model.safetensors"
    if not (folder / weights).is_file():
        raise ReleaseInputError(f"{folder}: no {weights}")
    if not (folder / "README.md").is_file():
        raise ReleaseInputError(f"{folder}: no README.md card (python -m hub.adapter_card {folder})")
    header, _ = front_matter(folder / "README.md")
    if not header.get("base_model") or (peft and header.get("library_name") != "peft"):
        raise ReleaseInputError(f"{folder / 'README.md'}: the card needs `base_model`"
                                + (" and `library_name: peft`" if peft else ""))
    if not REPO_ID.fullmatch(str(header["base_model"])):
        raise ReleaseInputError(f"{folder / 'README.md'}: base_model {header['base_model']!r} is not a Hub id (a local "
                                "path?); train with --base-id <org>/<name> of the base's Hub repo, or set it in "
                                "README.md and adapter_config.json")
    return header


def push_folder(folder: Path, repo_id: str, *, token: str | None = None, api=None, private: bool = False,
                message: str = "GenomicLLM fine-tune (genomicllm push)") -> str | None:
    """Check, list, and (with a token) upload `folder` to the model repo `repo_id`. Returns the commit URL, or None
    for a dry run."""
    if not REPO_ID.fullmatch(repo_id or "") or "--" in repo_id or ".." in repo_id:
        raise ReleaseInputError(f"invalid Hub repo id {repo_id!r}: write it as user/name "
                                "(letters, digits, '-', '_', '.')")
    check_folder(folder)
    repo = HubRepo("adapter", repo_id, "model", Path(folder), listing(Path(folder)))
    print_listing([repo])
    token = token or os.environ.get(TOKEN_ENV)
    if not token:
        print(f"dry run: nothing uploaded. To upload: {TOKEN_ENV}=hf_... genomicllm push {folder} --repo {repo_id} "
              "(a write token: https://huggingface.co/settings/tokens)")
        return None
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True, token=token)
    info = api.upload_folder(repo_id=repo_id, repo_type="model", folder_path=str(folder), commit_message=message,
                             token=token)
    url = str(getattr(info, "commit_url", info))
    print(f"pushed {repo_id}: {url}")
    return url


__all__ = ["REPO_ID", "check_folder", "push_folder"]
