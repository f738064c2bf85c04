# Quick start: `make demo` runs wikicore on the bundled data; `make test` runs the suite.
# Both create .venv and install what they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest schemas bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,archive,scale,browser,serve]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m wikicore.demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check wikicore tests bench cli.py

typecheck: $(STAMP)
	$(BIN)/mypy wikicore

# Browser-test screenshots land in $WIKICORE_ARTIFACTS/screenshots (default: artifacts/).
pytest: $(STAMP)
	WIKICORE_ARTIFACTS="$${WIKICORE_ARTIFACTS:-$(CURDIR)/artifacts}" $(BIN)/python -m pytest -q

schemas: $(STAMP)
	$(BIN)/wikicore schema --out schemas

# The peers (lychee, LinkChecker) come with the bench extra; figures go to bench/results/.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	$(BIN)/python bench/bench_store.py
	$(BIN)/python bench/bench_wikitext.py
	$(BIN)/python bench/bench_ids.py
	$(BIN)/python bench/bench_hostile.py
	$(BIN)/python bench/bench_audit.py
	$(BIN)/python bench/bench_archive.py --refs 2000
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_audit_all.py
	$(BIN)/python bench/bench_links.py --refs 2000 --repeat 3
	$(BIN)/python bench/bench_scan.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
