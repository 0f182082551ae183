# The two commands of the README: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch and torchvision as a matching pair (PyPI's torchvision does not import beside the CPU
# build torch 2.13.0+cpu); GPU users install their own pair first and pass TORCH=
TORCH ?= torch==2.14.1 torchvision==0.29.1
ORACLE ?= .oracle
WORK ?= work

.PHONY: install test lint demo demo-full oracle oracle-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(if $(TORCH),$(BIN)/pip install -q $(TORCH))
	$(BIN)/pip install -q -e ".[dev,pose]"
	touch $@

install: $(VENV)/.installed

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check src tests benchmarks tools

test: lint
	$(BIN)/pytest -q

# the whole method, short: `demo` synthetic data, configs/demo/ (about 10 min on 2 CPU cores)
demo: install
	bash scripts/demo.sh "$(BIN)" "$(WORK)" demo

# the whole method on the `small` synthetic data with configs/synthetic/ (about 40 min)
demo-full: install
	bash scripts/demo.sh "$(BIN)" "$(WORK)" full

# MMAction2 as a reference oracle in its own venv (docs/oracle.md)
$(ORACLE)/bin/python:
	$(PYTHON) -m venv $(ORACLE)
	$(ORACLE)/bin/pip install -q torch==2.13.0 numpy
	$(ORACLE)/bin/pip install -q "mmengine>=0.7.1,<1.0.0" "mmcv-lite==2.1.0" einops scipy importlib_metadata
	$(ORACLE)/bin/pip install -q --no-deps mmaction2==1.2.0
	$(ORACLE)/bin/python scripts/patch_mmaction.py

oracle: $(ORACLE)/bin/python

oracle-test: install oracle
	MGPROTO_ORACLE_PYTHON=$(ORACLE)/bin/python $(BIN)/pytest -q -m oracle

bench: install oracle
	MGPROTO_ORACLE_PYTHON=$(ORACLE)/bin/python $(BIN)/python benchmarks/heatmaps.py
	MGPROTO_ORACLE_PYTHON=$(ORACLE)/bin/python $(BIN)/python benchmarks/model.py --device cpu \
		--which small,paper,stgcn,swin_t,swin_b
	$(BIN)/python benchmarks/loader.py

clean:
	rm -rf $(WORK) .pytest_cache .ruff_cache
