# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export MARKETPLACE_MIN_STAGE_OPEN_DAYS ?= 0

.PHONY: demo test install system-deps lint migration bench clean

$(BIN)/marketplace: pyproject.toml
	@bash deploy/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

install: $(BIN)/marketplace

system-deps:
	@bash deploy/system-deps.sh

## make demo: install, migrate, load the demo data, serve on http://127.0.0.1:$(PORT) with SQLite and the payments sandbox
demo: install
	BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/marketplace demo
	BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)} LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/marketplace serve --port $(PORT)

## make test: the whole suite on SQLite, and again on PostgreSQL when MARKETPLACE_TEST_POSTGRES_URL is set
test: install
	$(BIN)/ruff check marketplace procedures tests
	@if [ -n "$$MARKETPLACE_TEST_POSTGRES_URL" ]; then \
		echo "== the suite on SQLite, and at the same time on PostgreSQL (its report follows)"; \
		pglog=$$(mktemp); \
		MARKETPLACE_TEST_DB=postgres $(BIN)/pytest -q -p no:cacheprovider > $$pglog 2>&1 & pg=$$!; \
		$(BIN)/pytest -q -p no:cacheprovider; lite=$$?; \
		wait $$pg; pgrc=$$?; \
		echo "== on PostgreSQL"; cat $$pglog; rm -f $$pglog; \
		[ $$lite -eq 0 ] && [ $$pgrc -eq 0 ]; \
	else \
		$(BIN)/pytest -q -p no:cacheprovider && \
		echo "(set MARKETPLACE_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres to run the suite on PostgreSQL too)"; \
	fi

lint: install
	$(BIN)/ruff check marketplace procedures tests

## make migration APP=challenges: write a new auto migration for one domain
migration: install
	PICCOLO_CONF=marketplace.piccolo_conf $(BIN)/piccolo migrations new $(APP) --auto

## make bench: the app against its framework's floor at size on PostgreSQL (wrk; builds marketplace_bench once, reused)
bench: install
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf var/marketplace.sqlite3* var/uploads
