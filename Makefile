# seatledger — every target works on a fresh machine with Python 3.11.
# Packages come only from the hash-pinned locks in requirements/ (compiled from pyproject.toml).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo $(BIN)/uv)
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench soak lock clean docs

$(STAMP): requirements/dev.lock pyproject.toml package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet uv==0.13.9
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements/dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	# The web pages' scripts and styles, from npm's lock (served by the app, never a CDN).
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Two worker processes (pytest-xdist), a file's tests on one of them; each has its own
# PostgreSQL database beside SEATLEDGER_TEST_DATABASE_URL's (tests/conftest.py). Schemathesis
# makes one test per API operation, all with the same id, which xdist would run only once:
# that file runs on its own after.
SCHEMATHESIS := tests/e2e/test_schemathesis.py
test: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile --ignore=$(SCHEMATHESIS)
	$(BIN)/pytest $(SCHEMATHESIS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

# The long runs: the stateful model for 10,000 sequences (SEATLEDGER_MODEL_EXAMPLES=… to change)
# and the fault and concurrency drivers at full size, on SQLite and, when
# SEATLEDGER_TEST_DATABASE_URL names one, PostgreSQL. Each prints what it ran.
soak: $(STAMP)
	SEATLEDGER_SOAK=1 $(BIN)/pytest -s -q tests/model tests/soak

# The HTTP benchmarks load the API with wrk (Debian's package, installed here when absent) and
# compare with pgbench (it comes with PostgreSQL); without PostgreSQL they are skipped.
bench: $(STAMP)
	command -v wrk >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m benchmarks

# Serve the API on 127.0.0.1:8000 (PORT=… to change) with the sandbox on; SQLite in var/ unless
# SEATLEDGER_DATABASE_URL says otherwise. An API key is printed before the server starts: the
# one kept in var/make-run.key while it still works on this database, else a new one kept there.
run: export SEATLEDGER_SANDBOX ?= 1
run: $(STAMP)
	$(BIN)/seatledger migrate
	@$(BIN)/seatledger keys create --name "make run" --reuse-file var/make-run.key
	$(BIN)/seatledger serve --host 127.0.0.1 --port $(or $(PORT),8000)

demo: $(STAMP)
	$(BIN)/seatledger demo

# The documentation site (mkdocs.yml, docs/) into site/, offline; `$(BIN)/mkdocs serve` to browse.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Re-pin every dependency (with hashes) after editing pyproject.toml.
lock:
	$(UV) pip compile --quiet --python-version 3.11 --generate-hashes --no-header \
		pyproject.toml -o requirements/main.lock
	$(UV) pip compile --quiet --python-version 3.11 --generate-hashes --no-header \
		--extra dev pyproject.toml -o requirements/dev.lock

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache .hypothesis
