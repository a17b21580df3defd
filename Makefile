# The two commands: `make demo` and `make test`. Each creates .venv when missing.
# `make docs` builds the documentation site into docs/_build/html (offline, warnings are errors).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# numba's compiled kernels are cached next to the sources (__pycache__), so a
# second run starts fast; nothing is downloaded at test time.

.PHONY: demo test lint bench docs docs-fast docs-clean clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,docs]"
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(BIN)/meanfolio demo --output-dir demo_output

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks examples

# The site with the gallery executed (every examples/plot_*.py, each < 30 s), then the checks of
# tests/test_docs.py: every public name in objects.inv, every example's figure, every internal link.
docs: $(VENV)/.installed-docs
	MPLBACKEND=Agg $(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html
	MEANFOLIO_DOCS_BUILT=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_docs.py

# The same site without running the gallery (about a minute): what CI builds.
docs-fast: $(VENV)/.installed-docs
	MEANFOLIO_DOCS_GALLERY=0 $(BIN)/python -m sphinx -b html -W --keep-going -q -E docs docs/_build/html-fast
	MEANFOLIO_DOCS_BUILT=1 MEANFOLIO_DOCS_GALLERY=0 MEANFOLIO_DOCS_HTML=docs/_build/html-fast $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_docs.py

docs-clean:
	rm -rf docs/_build docs/_generated docs/auto_examples docs/api/generated docs/api/meanfolio*.rst \
		docs/sg_execution_times.rst

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/mfg_1d.py

clean: docs-clean
	rm -rf $(VENV) demo_output .pytest_cache
