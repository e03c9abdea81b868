# Two entry points for a fresh machine: `make demo` (set up, then run the main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
export MEMRISTORCH_DATA ?= $(abspath ../shared/data)

.PHONY: demo test test-slow bench lint format system-deps report clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION)
	$(PY) -m pip install --quiet -e '.[dev,distributed,ecg]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/memristorch run onchip-3x3 --out runs/demo --overwrite

# Debian packages the tests use (Fashion-MNIST, ngspice); needs root or sudo, skipped when already present.
system-deps:
	@if [ ! -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ] || ! command -v ngspice >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist ngspice; \
	fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

test: $(VENV)/.installed system-deps lint
	$(PY) -m pytest -q

test-slow: $(VENV)/.installed system-deps
	$(PY) -m pytest -q -m slow

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_insitu.py
	$(PY) benchmarks/bench_mss.py
	$(PY) benchmarks/bench_bnn.py
	$(PY) benchmarks/bench_ir_drop.py
	$(PY) benchmarks/bench_gaussian.py
	$(PY) benchmarks/bench_cases.py --json runs/bench-cases.json

# Slow (hours on 2 cores): every study's default configuration, each in its own run folder (an interrupted
# `make report` continues where it stopped), then one reproduction report: claims, numbers, figures, provenance.
REPRO ?= runs/reproduction
report: $(VENV)/.installed system-deps
	@for e in $$($(VENV)/bin/memristorch list --names); do \
	  $(VENV)/bin/memristorch run $$e --out $(REPRO)/$$e --resume || exit 1; \
	done
	$(VENV)/bin/memristorch report $(REPRO)/*/ --out $(REPRO)/report.html --title "memristorch reproduction report"

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
