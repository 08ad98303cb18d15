# SPDX-License-Identifier: MIT
#
# The two set-up commands (README): `make run` and `make test`.  Both install
# what is missing (Debian packages with apt-get, Python packages into a
# virtual environment made from $(PYTHON)), build, then run.

PYTHON ?= python3
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV := build/venv-$(PYVER)
BUILDDIR := build/cp-$(PYVER)

.PHONY: all deps build run test bench clean

all: build

deps:
	@.ci/install-deps

build: deps
	@test -n "$(PYVER)" || { echo "make: $(PYTHON) does not run; set PYTHON=..." >&2; exit 1; }
	@.ci/venv $(PYTHON) $(VENV)
	@.ci/build $(VENV) $(BUILDDIR)

# The main job.
run: build
	$(VENV)/bin/python -m pyhost.leaks examples/leaky_workload.py

test: deps
	@PYTHON=$(PYTHON) .ci/test-all

bench: build
	$(VENV)/bin/python bench/run.py

clean:
	rm -rf build node_modules tests/artifacts
