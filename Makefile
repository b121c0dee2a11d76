PYTHON ?= python3.11
UV_VERSION ?= 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run sandbox test test-fast system-deps lock bench

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install -q 'uv==$(UV_VERSION)'

run: $(UV)
	$(UV) run --locked python main.py

sandbox: $(UV)
	$(UV) run --locked python -m sandbox --host 127.0.0.1 --port 8001

# Two pytest-xdist workers (one per core of the CI machine): the slow tests mostly wait on child
# processes and sockets, so two in parallel roughly halve the run. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: system-deps $(UV)
	$(UV) run --locked pytest -n $(TEST_WORKERS)

test-fast: $(UV)
	$(UV) run --locked pytest -x

lock: $(UV)
	$(UV) lock

# Debian packages the tests need (chromium for the browser smoke test, PostgreSQL server binaries).
# Installed only when missing, so a second run costs nothing.
system-deps:
	@if ! command -v chromedriver >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver postgresql >/dev/null; \
	fi

# Benchmarks (issue 7): one table on stdout, see bench/README.md. Not part of `make test`.
bench: system-deps $(UV)
	$(UV) run --locked python -m bench
