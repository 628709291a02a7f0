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
	touch $(STAMP)

# The main job. Until the model and Space exist: build the datasets and show samples of each.
demo: $(DATASETS)
	$(PY) -m dataset_scripts sample build/datasets

test: $(STAMP)
	$(PY) -m pytest tests

datasets: $(STAMP)
	$(PY) -m dataset_scripts build all --out build/datasets
	touch $(DATASETS)

# Built datasets, rebuilt only when the builders change (for targets that consume them).
$(DATASETS): $(STAMP) $(wildcard dataset_scripts/*.py)
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
	$(PY) -m dataset_scripts.bench_scaling

clean:
	rm -rf build cache

# k-mer logistic regression + small CNN on every classification benchmark (needs the datasets).
baselines: $(DATASETS)
	$(PY) -m finetune.baselines

# The hybrid DNA + text tokenizer -> build/tokenizer/ (trained on the datasets' train splits), and the benchmark of
# its candidates against the original's SentencePiece (see tokenizer/README.md).
.PHONY: tokenizer bench-tokenizer
tokenizer: $(DATASETS)
	$(PY) -m tokenizer build --out build/tokenizer

bench-tokenizer: $(DATASETS)
	$(PY) -m tokenizer bench

# Model throughput (forward / training step / greedy generation tokens/s) and peak RSS of the shapes considered,
# the GenomicLLM paper's 12 x 768 included; one thread (per-core numbers), ~1.5 min.
.PHONY: bench-model
bench-model: $(STAMP)
	$(PY) -m modeling.bench
