# The project's verbs. Every target creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.remu-installed
# remu 0.8.0 needs numpy<2 / scipy<1.12, which have wheels for CPython 3.9-3.12 only
ORACLE_PYTHON ?= $(firstword $(foreach p,python3.11 python3.12 python3.10 python3.9,$(shell command -v $(p) 2>/dev/null)) python3.11)
ORACLE := .venv-oracle
ORACLE_STAMP := $(ORACLE)/.remu-oracle-installed

# pytest's own arguments, e.g. `make test PYTEST_ARGS="-m 'not slow' -x"`
PYTEST_ARGS ?=
# arguments of the demo driver, e.g. `make demo DEMO_ARGS=--quick`
DEMO_ARGS ?=
BENCH_ARGS ?=

.PHONY: all venv demo test test-quick test-oracle bench lint format docs oracle clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,dev,docs]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python examples/tutorial/run_all.py --output demo-output $(DEMO_ARGS)

# The whole suite, including the large sizes marked slow (the tutorial chain, the
# seed page with its toys) and more hypothesis examples: about 3-5 minutes on 2 cores.
# One BLAS thread per xdist worker: two workers already use both cores.
# The differential tests against the reference (marked oracle) need .venv-oracle and
# run in `make test-oracle`; `make test` leaves them out (tests/oracle/ is not even
# collected, whose modules would otherwise report a skip), so that a fresh clone
# shows a clean pass.
test: $(STAMP)
	MPLBACKEND=Agg REMU_SLOW=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
		$(BIN)/python -m pytest -n 2 -m "not oracle" --ignore=tests/oracle $(PYTEST_ARGS)

# The differential tests against remu 0.8.0 alone. They need `make oracle` first and
# fail (never skip) when .venv-oracle is missing or incomplete.
test-oracle: $(STAMP)
	@test -f $(ORACLE_STAMP) || { echo "make test-oracle: $(ORACLE) is missing or incomplete; run \`make oracle\` first" >&2; exit 1; }
	MPLBACKEND=Agg OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 REMU_REQUIRE_ORACLE=1 \
		$(BIN)/python -m pytest -n 2 -m oracle $(PYTEST_ARGS)

# the quick subset for development: slow tests skip with a reason (oracle tests run
# where .venv-oracle exists, and skip with a reason where it does not)
test-quick: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python benchmarks/run.py --output bench-results.json $(BENCH_ARGS)

# ruff on everything; mypy --strict on src/ (its settings are [tool.mypy] in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples docs
	$(BIN)/ruff format --check src tests benchmarks examples docs
	$(BIN)/mypy

# The documentation site in docs/_build/html (Sphinx, warnings are errors). Its tutorial
# pages show the figures of a quick demo run, made in docs/_build/demo when missing or
# older than the tutorial scripts.
DOCS_DEMO := docs/_build/demo
$(DOCS_DEMO)/results.md: $(STAMP) $(wildcard examples/tutorial/*.py)
	MPLBACKEND=Agg $(BIN)/python examples/tutorial/run_all.py --output $(DOCS_DEMO) --quick

docs: $(STAMP) $(DOCS_DEMO)/results.md
	MPLBACKEND=Agg REMU_DEMO_OUTPUT=$(DOCS_DEMO) $(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html"

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples docs
	$(BIN)/ruff check --fix src tests benchmarks examples docs

# The reference implementation remu 0.8.0 as a black-box oracle, in its own venv
# (it needs numpy<2 and scipy<1.12, which do not install beside our .venv).
# Never touches .venv. Override the interpreter with `make oracle ORACLE_PYTHON=python3.10`.
$(ORACLE_STAMP): tests/oracle/requirements.txt
	$(ORACLE_PYTHON) -m venv $(ORACLE)
	$(ORACLE)/bin/python -m pip install --quiet --upgrade pip
	$(ORACLE)/bin/python -m pip install --quiet -r tests/oracle/requirements.txt
	$(ORACLE)/bin/python -c "import remu.binning, remu.migration, remu.likelihood, remu.matrix_utils; print('oracle: remu 0.8.0 imports')"
	touch $(ORACLE_STAMP)

oracle: $(ORACLE_STAMP)

clean:
	rm -rf $(VENV) $(ORACLE) demo-output docs/_build docs/_generated bench-results.json bench-results.md .pytest_cache .hypothesis
