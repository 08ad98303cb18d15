# SPDX-License-Identifier: MIT
#
# The two set-up commands (README): `make run` and `make test`.  Both install
# what is missing (Debian packages with apt-get, Python packages into a
# virtual environment made from $(PYTHON)), build, then run.  Also:
# `make bench` (writes docs/benchmarks.md) and `make format` (clang-format
# over every C file).  docs/contributing.md has the per-part commands.

PYTHON ?= python3
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV := build/venv-$(PYVER)
BUILDDIR := build/cp-$(PYVER)

.PHONY: all deps build run test bench format clean

all: build

deps:
	@.ci/install-deps

build: deps
	@test -n "$(PYVER)" || { echo "make: $(PYTHON) does not run; set PYTHON=..." >&2; exit 1; }
	@.ci/venv $(PYTHON) $(VENV)
	@.ci/build $(VENV) $(BUILDDIR)

# The main job: the demo game server under the pyhost launcher (isolated:
# sys.path is exactly build/demo._pth), with the live console on.
CONSOLE ?= 127.0.0.1:0
run: build
	@$(VENV)/bin/python -m pyhost.demo.pathfile build/demo._pth
	$(VENV)/bin/pyhost --paths build/demo._pth --console $(CONSOLE) -m pyhost.demo

test: deps
	@PYTHON=$(PYTHON) .ci/test-all

# Every benchmark, then docs/benchmarks.md rewritten with their tables;
# `make bench BENCH="echo console"` runs those only and replaces their
# sections.
BENCH ?=
bench: build
	$(VENV)/bin/python bench/run.py $(BENCH)

# Rewrites the C files as .clang-format says (`make test` fails on a
# difference; .ci/check-format shows it).
format: deps
	.ci/check-format --fix

clean:
	rm -rf build node_modules tests/artifacts
