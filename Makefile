# luckytui: `make demo` runs the war room on a simulated production; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: install demo test test-services fuzz lint check bench bench-long clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,lint]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/luckytui demo $(ARGS)

test: $(STAMP) test-services
	@command -v kubectl >/dev/null || { echo "kubectl is required by the test suite and is not on PATH" >&2; exit 1; }
	$(BIN)/python -m pytest -q -p no:cacheprovider $(ARGS)

# the real servers the integration tests start: PostgreSQL 15 (server binaries), Prometheus, Redis
test-services:
	@command -v prometheus >/dev/null || { \
	  echo "installing Debian's prometheus for the integration tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@command -v redis-server >/dev/null || { \
	  echo "installing Debian's redis-server for the integration tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }
	@test -x "$$(pg_config --bindir 2>/dev/null)/postgres" || { \
	  echo "installing PostgreSQL 15 server binaries for the integration tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null; }

# the property-based tests with ten thousand examples a parser (make test runs a quick pass)
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider --timeout 3600 -m fuzz $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check luckytui widgets screens tests
	$(BIN)/mypy

check: lint test

bench: $(STAMP)
	@command -v tmux >/dev/null || { echo "make bench drives the app in tmux; install tmux" >&2; exit 1; }
	$(BIN)/python bench/run.py

# RSS of demo --scale large sampled every 15 s for 10 minutes: bench/results-long.json
bench-long: $(STAMP)
	$(BIN)/python bench/memory.py --minutes 10

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
