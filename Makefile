# Everything installs into .venv/ (Python) and node_modules/ (the pinned CDK CLI and the IAM
# simulator) at the repo root; a fresh machine needs Python 3.11+, git and Node.js 20+ with npm.
PYTHON ?= python3
# jsii prints a Node end-of-life banner on every synth otherwise.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
CDK_DEPS := $(VENV)/.cdk-installed
NODE := node_modules/.installed
UV_VERSION := 0.13.9
UV := $(VENV)/.uv-$(UV_VERSION)-installed
UV_PIP := $(VENV)/bin/uv pip install --python $(PY)
TOPOLOGY ?= topologies/shop.yaml
CDK := npx --no-install cdk

.PHONY: install install-dev demo test test-fast chaos mutation bench lint typecheck asl synth deploy destroy clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# uv (pinned, from PyPI, into .venv/ only) installs the pinned requirements in parallel: several
# times faster than pip on a fresh clone, and it shows what it installs.
$(UV): $(VENV)/bin/python
	@echo "installing uv $(UV_VERSION), the package installer, into $(VENV)/ (first run only)…"
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	touch $@

$(RUNTIME): $(UV) requirements.txt pyproject.toml
	@echo "installing the local world's packages (first run only)…"
	$(UV_PIP) -r requirements.txt -e .
	touch $@

$(CDK_DEPS): $(RUNTIME) requirements-cdk.txt
	@echo "installing the CDK app's packages (first run only)…"
	$(UV_PIP) -r requirements-cdk.txt
	touch $@

$(DEV): $(CDK_DEPS) requirements-dev.txt
	@echo "installing the test and lint tools (first run only)…"
	$(UV_PIP) -r requirements-dev.txt
	touch $@

# The pinned CDK CLI and @cloud-copilot/iam-simulate (the IAM proof in `make test`), from package-lock.json.
$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: $(RUNTIME)
install-dev: $(DEV)

## The main job: the game day on the embedded example world, locally (no AWS account).
demo: $(RUNTIME)
	$(VENV)/bin/switchyard demo

## The whole suite: unit, handlers on moto, workflows in the local world, infrastructure and the IAM proof.
test: $(DEV) $(NODE)
	$(PY) -m pytest -q -n 2

## Everything but CDK synthesis (the slow tier).
test-fast: $(DEV)
	$(PY) -m pytest -q -n 2 -m "not slow"

## Every workflow against every fault kind at every step, on the example and on generated
## topologies, double faults, and the bad-input corpus (about 30 min on 2 cores).
chaos: $(DEV)
	$(PY) -m switchyard_cli.chaos.run

## Mutation testing of the safety modules ([tool.mutmut] in pyproject.toml; slow, see
## docs/mutation.md). MUTANTS narrows it to a glob of mutant names, e.g. MUTANTS='switchyard.routing.*'.
## mutmut names modules from their path under ./ or src/ only, so it runs in a copy of the tracked
## files (.mutation/) where functions/ is src/.
MUTATION := .mutation
mutation: $(DEV)
	rm -rf $(MUTATION) && mkdir -p $(MUTATION)
	git ls-files -z | xargs -0 cp --parents -t $(MUTATION)
	cd $(MUTATION) && mv functions src && sed -i -e 's#"functions/#"src/#g' \
		-e 's#^pythonpath = \["functions", "."\]#pythonpath = ["src", "."]#' pyproject.toml
	cd $(MUTATION) && $(abspath $(PY)) -m mutmut run $(MUTANTS); $(abspath $(PY)) -m mutmut results

## Performance figures (~2.5 min): cold starts, alarm → first DNS write, scale, demo; the suite's
## time from the last `make test` (BENCH_ARGS=--tests times it here). See docs/performance.md.
bench: $(RUNTIME)
	$(PY) -m bench.run $(BENCH_ARGS)

lint: $(DEV)
	$(VENV)/bin/ruff check .

typecheck: $(DEV)
	$(VENV)/bin/mypy

## Regenerate statemachines/*.asl.json from their sources in statemachines/ (standard library only;
## see docs/workflows.md). tests/unit/test_asl_build.py fails when a committed file is not a fresh build.
asl: $(VENV)/bin/python
	$(PY) -m statemachines.build

## Synthesize, deploy or remove one stack per region of TOPOLOGY with the pinned CDK CLI
## (deploy/destroy: AWS credentials, and `cdk bootstrap` once per region; see README "Deploy").
synth: $(CDK_DEPS) $(NODE)
	$(CDK) synth --quiet -c topology=$(TOPOLOGY)

deploy: $(CDK_DEPS) $(NODE)
	$(CDK) deploy --all -c topology=$(TOPOLOGY) $(CDK_ARGS)

destroy: $(CDK_DEPS) $(NODE)
	$(CDK) destroy --all -c topology=$(TOPOLOGY) $(CDK_ARGS)

clean:
	rm -rf $(VENV) cdk.out node_modules .pytest_cache .ruff_cache .mypy_cache .hypothesis mutants $(MUTATION) switchyard.egg-info
