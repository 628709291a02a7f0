#!/usr/bin/env bash
# The shipped training on one GPU (an H200: 7 minutes of training inside a 9-minute lease), bf16, big batches; the
# release's weights in <= 15 MB safetensors shards. Needs the pack (`make gpu-pack`: train splits + tokenizer +
# the transformers wheel this code is written against), because a lent GPU machine has no network and no ../shared.
#
#   bash finetune/training/gpu.sh RUN_DIR BACK_DIR [KEY=JSON ...]     # extra args: `--set` overrides of gpu.json
#
# RUN_DIR holds the run (checkpoints, log); BACK_DIR receives only what must come back (<= 8 files): the weight
# shards + index, config.json, the log and the training config. `python -m finetune.training.gpu unpack BACK_DIR`
# turns those into a release folder here. Tested on the CPU with a tiny config (tests/finetune/training).
set -euo pipefail
RUN_DIR=${1:?usage: gpu.sh RUN_DIR BACK_DIR [KEY=JSON ...]}
BACK_DIR=${2:?usage: gpu.sh RUN_DIR BACK_DIR [KEY=JSON ...]}
shift 2
PY=${PYTHON:-python3}
PACK=${PACK:-build/gpu-pack}
if compgen -G "$PACK/whl/*.whl" >/dev/null; then  # the pinned transformers, over whatever the machine has
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gpu-site "$PACK"/whl/*.whl
  export PYTHONPATH=/tmp/gpu-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
$PY -c "import torch; print('device:', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"
$PY -m finetune.training.train --config finetune/training/configs/gpu.json --out "$RUN_DIR" \
  --set "tokenizer=\"$PACK/tokenizer\"" "datasets=\"$PACK/datasets\"" "$@"
mkdir -p "$BACK_DIR"
cp "$RUN_DIR"/release/*.safetensors "$RUN_DIR"/release/config.json "$RUN_DIR"/log.jsonl "$RUN_DIR"/train_config.json \
  "$RUN_DIR"/mixture.json "$BACK_DIR"/
cp "$RUN_DIR"/release/model.safetensors.index.json "$BACK_DIR"/ 2>/dev/null || true
ls -la "$BACK_DIR"
