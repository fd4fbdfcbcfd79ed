# Two commands on a fresh machine: `make run` (the mock) and `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8080

# The kit's own packages. `make install`, `make test` and `make bench` compile their bytecode as pip does for an
# installed wheel: where PYTHONDONTWRITEBYTECODE is set, every start of the mock would compile them again (about
# 0.1 s of CPU of each cold start, bench/README.md). Stale files are ignored by Python, never used.
PACKAGES := mock_server conformance openapi_model vendor_facts launcher recordings
COMPILE  = $(BIN)/python -m compileall -q $(PACKAGES) > /dev/null

.PHONY: install run test lint conformance control-sweep bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,bench,lint]"
	touch $(STAMP)

install: $(STAMP)
	$(COMPILE)

run: $(STAMP)
	$(BIN)/contract-mock serve --host $(HOST) --port $(PORT)

# Two workers, one test file each at a time: most tests wait on servers they started, so this halves the time.
PYTEST_WORKERS ?= -n 2 --dist loadfile

test: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m pytest $(PYTEST_WORKERS)
	# The vendor rules and a conformance run once more, on the Redis store (a real redis-server).
	$(BIN)/python -m pytest $(PYTEST_WORKERS) -q --store-backend redis tests/vendors tests/test_redis_conformance.py \
		--ignore tests/vendors/test_elevate_workers.py

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

conformance: $(STAMP)
	$(BIN)/conformance run --api all

# Partner-style runs through a pass-through proxy against the mock and the independent faithful
# implementations (tests/faithful/), ten seeds per API and target; prints the table.
control-sweep: $(STAMP)
	$(BIN)/python -m tests.faithful.sweep --seeds 10 --max-examples 1

# Every figure of the performance table in one run (bench/README.md); BENCH_OPTIONS="--tenants 100000" adds RSS.
bench: $(STAMP)
	$(COMPILE)
	$(BIN)/python bench/all.py $(BENCH_OPTIONS)

clean:
	rm -rf $(VENV) reports bench/.prism
