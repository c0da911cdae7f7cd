# Tutela: `make run` to try it, `make test` to check it. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_SUBJECTS ?= 1000
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install browser run test lint bench clean

$(STAMP): pyproject.toml
	@# PDF letters (WeasyPrint) subset their fonts with HarfBuzz: Debian's library, if missing.
	-@dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || apt-get install -y -qq libharfbuzz-subset0 >/dev/null 2>&1 || echo "libharfbuzz-subset0 missing: PDF letters will warn"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install Tutela with its development tools.

run: $(STAMP) ## Initialise tutela.db (bundled policy, demo data) if needed, then serve on :8000.
	$(BIN)/tutela init
	$(BIN)/tutela demo --subjects $(DEMO_SUBJECTS) --if-empty
	$(BIN)/tutela serve

browser: ## Debian's Chromium, which the console's browser tests drive (Playwright).
	@command -v chromium >/dev/null || apt-get install -y -qq chromium >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium missing: the browser tests will say so"

test: $(STAMP) browser ## Every test on SQLite and on PostgreSQL (a missing server fails under CI=true).
	TUTELA_TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -q

lint: $(STAMP) ## Static checks.
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP) ## Benchmarks with their baselines measured in the same run (not a test).
	command -v wrk >/dev/null || apt-get install -y -qq wrk || echo "wrk missing: the HTTP benchmark will say so"
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_audit.py
	$(BIN)/python bench/bench_retention.py
	$(BIN)/python bench/bench_retention_pg.py
	$(BIN)/python bench/bench_requests.py
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_policy_impact.py
	$(BIN)/python bench/bench_breach_scope.py
	$(BIN)/python bench/bench_console.py
	cd bench && ../$(BIN)/python bench_read_api.py

clean:
	rm -rf $(VENV) .pytest_cache
