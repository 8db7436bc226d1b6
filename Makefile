# Two commands do all the set-up on a fresh machine:
#   make demo   simulated data -> whole pipeline -> reports, in demo-output/
#   make test   the test suite (without the tests marked slow; make test-all runs them too)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_OUT ?= demo-output
PERSONS ?= 20000
SEED ?= 2026

.PHONY: demo test test-all test-fast bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/evaluation demo --out $(DEMO_OUT) --persons $(PERSONS) --seed $(SEED)

test: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

test-all: $(STAMP)
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not browser"

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check evaluation tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
