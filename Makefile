# The README's two commands: `make run` and `make test`. Both set up everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
# Use `make run EXTRA=gpu` on a machine with an NVIDIA GPU (installs tensorflow[and-cuda]).
EXTRA ?= cpu
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint setup dataset browser postgres clean

run: setup
	$(BIN)/search run --trials 200

test: setup browser postgres lint
	$(BIN)/python -m pytest -q

# ruff (style, imports, likely bugs) and mypy over the packages; their settings are in pyproject.toml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

setup: $(VENV)/.installed dataset

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[$(EXTRA),test]'
	touch $@

# The default dataset: the real Fashion-MNIST from Debian's package (nothing is downloaded at run time).
dataset:
	@if [ ! -f $(FASHION_MNIST) ] && [ -z "$$AUGSEARCH_DATA_DIR" ]; then \
		$(SUDO) apt-get install -y dataset-fashion-mnist || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y dataset-fashion-mnist; }; \
	fi

# The dashboard test drives a real headless browser: Debian's chromium (only `make test` needs it).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		$(SUDO) apt-get install -y chromium || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; \
	fi

# The PostgreSQL storage test runs a real server: Debian's postgresql (the test starts and stops
# its own cluster in a temporary folder; nothing is left running).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		$(SUDO) apt-get install -y postgresql || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; }; \
	fi

clean:
	rm -rf $(VENV) runs
