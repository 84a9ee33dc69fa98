# Two commands do all the set-up: `make dev` runs the local stack, `make test`
# runs every check. Both create the virtual environment on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: dev test lint check-openapi openapi schemas contracts smoke venv clean

$(INSTALLED): requirements.txt requirements-dev.txt client/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(INSTALLED)

## The whole file manager on an embedded local AWS; Ctrl-C stops it all.
dev: $(INSTALLED)
	$(PY) -m devstack $(DEV_ARGS)

## Lint, type checks, the OpenAPI contract, then every test tier.
test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) tools/generate_openapi.py --check

## Rewrite chalicelib/openapi.json after changing the API models.
openapi: $(INSTALLED)
	$(PY) tools/generate_openapi.py

## Against a running `make dev`: make smoke FOLDER=path/to/files
smoke: $(INSTALLED)
	$(PY) scripts/smoke.py $(FOLDER)

## A bounded load run against a running `make dev`, then an audit:
## make load LOAD_ARGS="--clients 4 --duration 10"
.PHONY: load
load: $(INSTALLED)
	$(PY) scripts/load.py $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache

## Rewrite docs/events/schemas/ from the message models; a change that breaks
## a published version is refused (make a new version instead).
schemas: $(INSTALLED)
	$(PY) tools/event_schemas.py

## Rewrite the event schemas, then docs/events.md, from the message models.
contracts: schemas
	$(PY) tools/events_page.py

# --- Deployed stages: infra/ and docs/deployment.md ---------------------------

STAGE ?= dev
DEPLOY_ARGS ?=

.PHONY: deploy destroy rehearse template

## Deploy a stage to the account of your AWS credentials: make deploy STAGE=dev
## (a protected stage asks first; DEPLOY_ARGS=--yes says yes beforehand).
deploy: $(INSTALLED)
	$(PY) -m infra.deploy deploy --stage $(STAGE) $(DEPLOY_ARGS)

## Tear a stage down (DEPLOY_ARGS=--keep-data keeps its bucket, table and users;
## a protected stage asks first, or takes --yes).
destroy: $(INSTALLED)
	$(PY) -m infra.deploy destroy --stage $(STAGE) $(DEPLOY_ARGS)

## Rehearse deploys without an account: lint, policies, a throwaway moto.
rehearse: $(INSTALLED)
	$(PY) -m pytest tests/infra $(PYTEST_ARGS)

## Rewrite infra/template.json and .chalice/policy-*.json from their sources.
template: $(INSTALLED)
	$(PY) -m infra.generate

## Every benchmark, one table (docs/benchmarks.md): make bench BENCH_ARGS=--quick
.PHONY: bench
bench: $(INSTALLED)
	$(PY) -m bench $(BENCH_ARGS)
