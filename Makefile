# The two commands that do everything: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# npm writes this file on every install: our stamp for the front-end assets (DSFR).
NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test pytest warm install lint typecheck clean

# Python writes the bytecode of what it imports (some machines set PYTHONDONTWRITEBYTECODE): every
# process the suite starts (API, workers, CLI) would otherwise compile the service from source.
unexport PYTHONDONTWRITEBYTECODE

# uv installs the same packages as pip in a fraction of the time (its cache links the files);
# where uv cannot be had, pip does it. The venv is made without pip (seconds saved). uv is the
# machine's where it has one (`command -v uv`); otherwise the system's pip first puts it in the
# venv (1.6 s). uv then installs pip and the project: from uv's cache alone first (--offline:
# 1.3 s against 2.7 s to 6 s asking the index again), from the index when the cache lacks a
# package (a new machine, a new dependency).
UV ?= $(or $(shell command -v uv 2>/dev/null),$(BIN)/uv)
UV_INSTALL = $(UV) pip install --quiet --python $(BIN)/python pip -e '.[dev]'
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	( ( test -x $(UV) || $(PYTHON) -m pip --python $(BIN)/python install --quiet uv ) \
	  && ( $(UV_INSTALL) --offline 2>/dev/null || $(UV_INSTALL) ) ) \
	  || $(PYTHON) -m pip --python $(BIN)/python install --quiet -e '.[dev]'
	touch $(STAMP)

# The DSFR (@gouvfr/dsfr) and its charts (@gouvfr/dsfr-chart, BESSII's synthesis) served to the
# pages from node_modules/. --ignore-scripts: the DSFR's preinstall hook expects a DSFR project
# config we do not need, we only serve dist/. Without npm (or offline) the pages still work,
# unstyled, and the synthesis shows its tables without the charts.
# npm installs them once per machine and lock file, beside mypy's cache: node_modules/ is a link
# to that copy. Writing its 7,500 files (146 MB) took 8 to 15 s of the kernel's CPU in each
# fresh clone, beside the bytecode warming up; the link takes nothing. A copy is complete or
# absent: npm fills a temporary directory, renamed once done (a clone doing the same at once
# keeps its own install). `NODE_CACHE_DIR=` (empty) installs in the clone as before, as does a
# cache that cannot be written.
NODE_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ptce/node
NPM_CI = npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
$(NODE_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: the CRA pages will render without the DSFR styles"; \
	elif [ -z "$(NODE_CACHE_DIR)" ]; then \
	  $(NPM_CI) || echo "npm ci failed: the CRA pages will render without the DSFR styles"; \
	else \
	  copy="$(NODE_CACHE_DIR)/$$(cat package.json package-lock.json | sha256sum | cut -c1-16)"; \
	  if [ ! -f "$$copy/node_modules/.package-lock.json" ]; then \
	    tmp="$$copy.tmp.$$$$"; mkdir -p "$$tmp" && cp package.json package-lock.json "$$tmp"/ \
	    && (cd "$$tmp" && $(NPM_CI)) && { mv -T "$$tmp" "$$copy" 2>/dev/null || rm -rf "$$tmp"; } \
	    || rm -rf "$$tmp"; \
	  fi; \
	  if [ -f "$$copy/node_modules/.package-lock.json" ]; then \
	    rm -rf node_modules && ln -s "$$copy/node_modules" node_modules; \
	  else rm -f node_modules; $(NPM_CI) \
	    || echo "npm ci failed: the CRA pages will render without the DSFR styles"; fi; \
	fi

install: $(STAMP) $(NODE_STAMP)

# The development stack is lenient only because it says so: without PTCE_ENVIRONMENT the
# service is in production and refuses the embedded development secrets.
run: $(STAMP) $(NODE_STAMP)
	PTCE_ENVIRONMENT=dev $(BIN)/ptce dev

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# mypy's cache lives beside uv's, outside the clone: a fresh clone checks what changed against
# what this machine checked before (mypy compares each file's hash) in about a second instead
# of re-reading every dependency's types for eleven. mypy writes each entry atomically: two
# clones checking at once do not corrupt it. `MYPY_CACHE_DIR=.mypy_cache make test` keeps it
# in the clone.
MYPY_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ptce/mypy
export MYPY_CACHE_DIR

typecheck: $(STAMP)
	$(BIN)/mypy

# The suite mostly waits on servers (Temporal, SMTP, HTTP): four processes share the two cores,
# each with its own Temporal servers and databases. Tests are handed out two at a time (the
# longest first, tests/conftest.py): with bigger chunks, the tests queued behind the chaos test
# waited for it while the other processes had finished. The ten slowest are printed at the end.
TEST_WORKERS ?= 4
# The tests' scratch directories (pytest's tmp_path: the SQLite databases of the service and of the
# stand-ins, the process logs) on a RAM-backed file system where the machine has one: each SQLite
# commit syncs its journal to disk, and on this machine's virtual disk the suite took 162-170 s
# with them there against 134-142 s in /dev/shm (bench/RESULTS.md, seventh round). PostgreSQL is
# the server's own. `TEST_TMPDIR=/tmp make test` keeps them on disk.
TEST_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm)

# `make test` installs the Python and the front-end packages side by side, and while npm
# downloads, lints, checks the types and compiles (`warm`); then runs the suite. A lint or type
# error stops it before the tests.
test:
	@$(MAKE) --no-print-directory -j4 install lint typecheck warm
	@$(MAKE) --no-print-directory pytest

# The bytecode of the service, of its dependencies and of the tests (with pytest's rewritten
# asserts), written once: the four test processes would each compile it all at once otherwise.
# Two collections side by side, one per half of the tests (each compiles what the other has not
# reached yet): 5.6 s instead of 6.8 s for one collection of everything.
WARM_HALF := tests/workflows tests/activities
warm: $(STAMP)
	@( PTCE_ENVIRONMENT=test $(BIN)/pytest -q -p no:cacheprovider --collect-only $(WARM_HALF) \
	     >/dev/null 2>&1 & \
	   PTCE_ENVIRONMENT=test $(BIN)/pytest -q -p no:cacheprovider --collect-only \
	     $(addprefix --ignore=,$(WARM_HALF)) >/dev/null 2>&1; wait ) || true

pytest: $(STAMP) $(NODE_STAMP)
	$(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR) )PTCE_ENVIRONMENT=test $(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --maxschedchunk 2 --durations=10

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules tests/output
