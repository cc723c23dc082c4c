# Everything a newcomer or CI needs: `make test` builds its own virtualenv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: dev lint typecheck check test dist demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check ghbootstrap tests
	$(BIN)/ruff format --check ghbootstrap tests

typecheck: $(STAMP)
	$(BIN)/mypy

# The quick tier while working: every test but those marked slow (fault injection,
# end-to-end subprocesses, the demo, the rotation workflow runs). `make test` runs them all.
check: $(STAMP)
	$(BIN)/pytest -n auto --dist loadgroup -m "not slow"

# Every test, on every core (pytest-xdist): each worker has its own moto and GitHub fake;
# tests marked with one xdist_group share a worker (one install of a release).
test: lint typecheck
	$(BIN)/pytest -n auto --dist loadgroup
	$(MAKE) --no-print-directory dist

# Build the sdist and the wheel, check their metadata as PyPI will, then install each on
# its own into a fresh virtualenv and run every command against the local emulators.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
	$(BIN)/python -m tests.dist_check dist/*.whl dist/*.tar.gz

demo: $(STAMP)
	$(BIN)/python -m tests.demo

bench: $(STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
