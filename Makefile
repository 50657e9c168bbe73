# The two commands of the README's Quick start, and the steps they share.
# Setup makes a virtual environment in $(VENV) and installs the package with its dev extra (editable).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# The stamp is named by pyproject.toml's checksum, not its time: nbdev-export rewrites that file unchanged.
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

# JupyterLab writes the kernel's name and Python version into a notebook it opens; saved through nbdev's hook, the file
# stays as nbdev-clean left it (opening and autosave change nothing in the tree).
SAVE_CLEAN := --FileContentsManager.pre_save_hook=nbdev.clean.clean_jupyter

.PHONY: course test setup check docs preview

course: $(STAMP)  ## set up, then open the course in JupyterLab
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(SAVE_CLEAN) nbs/

test: $(STAMP)  ## set up, then run every test: the notebooks' own tests, then the integration tests
	$(BIN)/nbdev-test --do-print --timing
	$(BIN)/pytest -q

setup: $(STAMP)

QUARTO := command -v quarto >/dev/null || { echo "The docs need Quarto on PATH: https://quarto.org/docs/get-started/"; exit 1; }

# The site carries its own MathJax, RequireJS, jQuery, widget manager and font, so it works with no network: Quarto's
# post-render step (tools/offline_site.py, in nbs/_quarto.yml) copies them from their npm packages, pinned there and
# fetched once with npm into ~/.cache/vit_nbdev/npm. Fetched first here, so a missing npm or registry says so at once.
OFFLINE := $(BIN)/python tools/offline_site.py --fetch

docs: $(STAMP)  ## build the docs site into _docs/, carrying all it loads (needs Quarto; npm once)
	@$(QUARTO)
	@$(OFFLINE)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbdev-docs

preview: $(STAMP)  ## serve the docs site on localhost, rebuilt as notebooks change (needs Quarto; npm once)
	@$(QUARTO)
	@$(OFFLINE)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbdev-preview

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "vit_nbdev needs Python 3.10+: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV) || { echo "Could not make a virtual environment; on Debian/Ubuntu: apt install python3-venv"; exit 1; }
	$(BIN)/python -m pip install -q --upgrade pip
	@echo "Installing vit_nbdev[dev] with PyTorch (a few GB on a first install)..."
	$(BIN)/python -m pip install --progress-bar on -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

check: $(STAMP)  ## nbdev's CI check: nbdev-clean and nbdev-export change nothing (run on a committed tree)
	$(BIN)/nbdev-clean
	@test -z "$$(git status --porcelain)" || { git status --porcelain; git diff; echo "nbdev-clean changed files"; exit 1; }
	$(BIN)/nbdev-export
	@test -z "$$(git status --porcelain)" || { git status --porcelain; git diff; echo "nbdev-export changed files"; exit 1; }
