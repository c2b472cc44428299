# Two commands on a fresh machine:  `make demo` (the main job) and `make test` (the whole test suite).
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1

.PHONY: install demo test corpus

install: $(VENV)/.installed

# torch is installed first, pinned to the CPU build this project's machines carry on disk;
# an unpinned torch would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: install
	$(VENV)/bin/gazette-ner corpus build

test: install
	$(VENV)/bin/pytest -q

corpus: install
	$(VENV)/bin/gazette-ner corpus build --check
