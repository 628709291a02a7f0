"""Your own task: fine-tune GenomicLLM on a labelled file (LoRA, full, or the classification head), evaluate it on
its test split beside the k-mer baseline, and leave a Hub-ready adapter folder (`genomicllm finetune`).

`userdata` reads, checks, splits and de-duplicates the file; `examples` renders and encodes it in the grammar;
`models` builds and saves the LoRA / full / head model; `train_adapter` trains it with `finetune.loop`,
early-stopped on dev; `evaluate_adapter` scores it; `run` does all of it into one folder. The task itself (name,
phrase, labels) is `tasks.custom`; the card and the upload are `hub.adapter_card` and `hub.push`.
"""
