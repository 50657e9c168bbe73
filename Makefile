# The two commands of the README's Quick start, and the steps they share.
# Setup makes a virtual environment in $(VENV) and installs the package with its dev extra (editable).
VENV ?= .venv
BIN := $(VENV)/bin
# The stamp is named by pyproject.toml's checksum, not its time: nbdev-export rewrites that file unchanged.
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: course test setup check

course: $(STAMP)  ## set up, then open the course in JupyterLab
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) nbs/

test: $(STAMP)  ## set up, then run every test: the notebooks' own tests, then the integration tests
	$(BIN)/nbdev-test --do-print --timing
	$(BIN)/pytest -q

setup: $(STAMP)

$(STAMP):
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

check: $(STAMP)  ## nbdev's CI check: notebooks clean and exported (run on a committed tree)
	$(BIN)/nbdev-clean && git diff --exit-code
	$(BIN)/nbdev-export && git diff --exit-code
