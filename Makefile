# Two commands on a fresh machine:  `make demo` (the main job) and `make test` (the whole test suite).
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1

.PHONY: install ls-install demo test corpus

install: $(VENV)/.installed

# torch is installed first, pinned to the CPU build this project's machines carry on disk;
# an unpinned torch would pull a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# Label Studio pins its own Django stack and SDK: it gets a virtual environment of its own.
ls-install: .ls-venv/.installed

.ls-venv/.installed:
	python3 -m venv .ls-venv
	.ls-venv/bin/python -m pip install -q --upgrade pip
	.ls-venv/bin/python -m pip install -q "label-studio==1.23.2"
	touch $@

SAMPLE := corpus/samples/guangdong-2021-work-report-task-division.txt

demo: install
	$(VENV)/bin/gazette-ner predict $(SAMPLE) -o outputs/demo/sample.html --format html
	rm -f outputs/demo/sample.jsonl
	$(VENV)/bin/gazette-ner predict $(SAMPLE) -o outputs/demo/sample.jsonl --tables outputs/demo/tables
	$(VENV)/bin/python -c "import json; r = json.loads(open('outputs/demo/sample.jsonl', encoding='utf-8').readline()); \
	  [print(e['label'].ljust(10), e['text']) for e in r['entities'][:25]]; print('...', len(r['entities']), 'entities')"
	head -5 outputs/demo/tables/responsibilities.csv outputs/demo/tables/targets.csv

test: install ls-install
	$(VENV)/bin/pytest -q

corpus: install
	$(VENV)/bin/gazette-ner corpus build --check
