# Two entry points for a fresh machine: `make demo` (the main job) and `make test`.
# Each creates the virtual environment when it is missing.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed
# every-eval-ever (Python >= 3.12) validates `evalhouse export eee` output in the tests: its own venv, a test
# tool only (the project does not import it). PYTHON312 is any Python 3.12+.
EEE_VENV ?= .venv-eee
PYTHON312 ?= $(shell for p in python3.12 python3.13 $$HOME/.pyenv/versions/3.1[2-9]*/bin/python; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null && { echo $$p; break; }; done)
EEE_STAMP := $(EEE_VENV)/.installed

.PHONY: demo test lint install eee bench clean

$(STAMP): pyproject.toml setup.py
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,spark,s3]'
	touch $(STAMP)

install: $(STAMP)

$(EEE_STAMP):
	test -n "$(PYTHON312)" || { echo "every-eval-ever needs Python >= 3.12: set PYTHON312=/path/to/python3.12"; exit 1; }
	test -x $(EEE_VENV)/bin/python || $(PYTHON312) -m venv $(EEE_VENV)
	$(EEE_VENV)/bin/pip install --quiet --disable-pip-version-check "every-eval-ever==0.3.0"
	touch $(EEE_STAMP)

eee: $(EEE_STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP) $(EEE_STAMP)
	$(VENV)/bin/python -m pytest -q

# ruff for the Python; sqlfluff (.sqlfluff, dbt templater) for models/ and the dbt tests. sqlfluff compiles the
# project with dbt, whose profile opens the warehouse and whose plugin writes schema shards under EVALHOUSE_DATA:
# both point into a scratch folder, removed afterwards.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
		EVALHOUSE_DATA="$$scratch/data" EVALHOUSE_WAREHOUSE="$$scratch/evalhouse.duckdb" \
		$(VENV)/bin/sqlfluff lint models tests/dbt

clean:
	rm -rf $(VENV) $(EEE_VENV) data warehouse/*.duckdb warehouse/.dbt target logs
