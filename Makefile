# The README's two commands are `make lab` and `make test`; both create and fill .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest -q

.PHONY: install lab test lint check unit smoke notebooks site browser course render bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml course/lab/ipython_kernel_config.py course/lab/overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,dev,site]"
	mkdir -p $(VENV)/etc/ipython $(VENV)/share/jupyter/lab/settings
	cp course/lab/ipython_kernel_config.py $(VENV)/etc/ipython/
	cp course/lab/overrides.json $(VENV)/share/jupyter/lab/settings/
	touch $@

# Jupyter refuses to run as root without --allow-root (containers, CI machines).
LAB_DIR ?= chapters
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install  ## open the course in JupyterLab at chapters/ (more options: make lab LAB_ARGS=...)
	$(BIN)/jupyter lab --notebook-dir=$(LAB_DIR) --config=course/lab/jupyter_server_config.py \
		$(ALLOW_ROOT) $(LAB_ARGS)

test: lint check unit smoke notebooks browser  ## everything CI runs

lint: install
	$(BIN)/ruff check seqkeras course tests conftest.py

check: install  ## the notebook rules of DESIGN.md, and the README tables
	$(BIN)/python -m course check

# The JAX pass skips the tests of NumPy-only code (marked backend_independent); the course-run
# test runs on JAX only, since `make notebooks` already runs every chapter on TensorFlow.
# JAX_DISABLE_MOST_OPTIMIZATIONS: XLA compiles each tiny test model faster (the pass took 223 s
# instead of 329 s on a 2-core CPU); what the tests compute does not change.
unit: install  ## unit tests on the TensorFlow backend, then on JAX, two workers each
	KERAS_BACKEND=tensorflow $(PYTEST) -n 2 -m "not jax_pass_only" tests --ignore=tests/browser
	KERAS_BACKEND=jax JAX_DISABLE_MOST_OPTIMIZATIONS=1 \
		$(PYTEST) -n 2 -m "not backend_independent or jax_pass_only" tests --ignore=tests/browser

# A first-time user's install: a fresh venv, `pip install .` with no extras (pip's cache makes
# it quick after `make install`), then the README's package example and a safe_mode reload,
# run from outside the repository so that the installed copy is the one imported.
SMOKE_VENV := build/smoke-venv
smoke:  ## install the package alone into a fresh venv and run tests/smoke_install.py there
	rm -rf $(SMOKE_VENV)
	$(PYTHON) -m venv $(SMOKE_VENV)
	$(SMOKE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SMOKE_VENV)/bin/python -m pip install --quiet .
	cd /tmp && KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=2 $(CURDIR)/$(SMOKE_VENV)/bin/python \
		$(CURDIR)/tests/smoke_install.py $(CURDIR)/README.md

notebooks: install  ## every chapter, executed by nbval in fast mode, two notebooks at a time
	SEQKERAS_FAST=1 KERAS_BACKEND=tensorflow $(PYTEST) -n 2 --dist loadscope \
		--nbval-lax --nbval-current-env chapters --ignore=chapters/labs/solutions

# MathJax 3 from npm (pinned in course/book/package-lock.json), served with the pages so that
# the math typesets offline; building the site itself needs no network.
MATHJAX := course/book/node_modules/mathjax/es5/tex-mml-chtml.js
$(MATHJAX): course/book/package-lock.json
	npm ci --prefix course/book --no-audit --no-fund --loglevel=error
	touch $@

site: install $(MATHJAX)  ## the course as a static website, build/site/index.html (nothing executed)
	$(BIN)/python -m course site

# Headless Chromium checks the site and JupyterLab; skipped, saying how to install it, without it.
browser: site  ## the browser tests (Debian's chromium and chromium-driver); screenshots in build/
	$(PYTEST) tests/browser

course: install  ## run every chapter headless in fast mode: make course ARGS="01 --full"
	$(BIN)/python -m course run $(ARGS)

render: install  ## full run, outputs stored in the notebook: make render CH=01
	$(BIN)/python -m course render $(CH)

bench: install  ## seqkeras against its Keras twins, and decoding's two paths, as ratios
	$(BIN)/python tests/benchmarks/rnn_cells.py
	$(BIN)/python tests/benchmarks/transformer.py
	$(BIN)/python tests/benchmarks/translation.py
	$(BIN)/python tests/benchmarks/decoding.py
