# The CMS back office: two commands on a fresh machine with python3 and make: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PACKAGES := gen/python libs/platform libs/simulation libs/devkit services/calculation services/casework services/hmrc-gateway \
            services/dwp-gateway services/cra-gateway
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: help venv proto descriptors access-table check-generated proto-lint proto-breaking proto-baseline asyncapi-lint lint check-runtime run stop-service start-service services demo test test-postgres test-sqlite fuzz faults bench-rpc bench-calc bench-hmrc bench-events \
	bench-money bench-national \
        k8s-validate clean

help:
	@echo "make run            start the broker and all five services (Ctrl-C stops them; a crashed one restarts;"
	@echo "                   DURABLE_BROKER=1 keeps the broker's events in var/broker across restarts)"
	@echo "make stop-service SERVICE=casework   with make run going: stop one (start-service starts it again)"
	@echo "make services       with make run going: each service, running or stopped"
	@echo "make demo           with make run going: a scripted case story (application, pay rises, new child, ...)"
	@echo "make test           lint checks + every suite on PostgreSQL and on SQLite, real broker"
	@echo "make fuzz           many more generated requests per RPC than make test sends (FUZZ_EXAMPLES=200)"
	@echo "make faults         kill services, the broker, PostgreSQL under load; count lost/duplicated effects"
	@echo "make lint           ruff format and check, import contracts, mypy, buf lint and breaking, AsyncAPI, drift"
	@echo "make proto-baseline at a release: record the contract buf breaking compares against"
	@echo "make check-runtime  install each service's runtime requirements alone and import its app"
	@echo "make proto          regenerate gen/python from protos/"
	@echo "make descriptors    the descriptor set (with comments) and the API reference in docs/api/"
	@echo "make access-table   rewrite docs/access-policy.md (who may call each RPC) from the protos"
	@echo "make bench-rpc      RPC latency/throughput and idle memory baseline"
	@echo "make bench-calc     calculation throughput: in-process, unary vs Health, BulkCalculate, peak memory"
	@echo "make bench-hmrc     population at 1,000,000 people, hmrc-gateway lookups, the monthly CHB check"
	@echo "make bench-events   event latency: a CIS benefit broadcast to casework's recalculated CaseCalculated"
	@echo "make bench-money    accounts: charge run and payment run (accounts/s), statement p50/p99 (PostgreSQL)"
	@echo "make bench-national the national runs on a 100,000-case caseload (ARGS=--quick, --cases N, --curve,"
	@echo "                    --replicas N: partitioned over N casework processes)"
	@echo "make k8s-validate   render and validate the Kubernetes manifests offline"

# One development environment with every service installed (editable) at the tested versions. `npm ci` installs
# exactly what the committed lock says and never rewrites it (`npm install` would: a fresh clone got dirty).
$(STAMP): requirements/dev.in requirements/runtime.in requirements/constraints.txt $(PYPROJECTS) tools/buf/package-lock.json \
          tools/asyncapi/package-lock.json tools/s3rver/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements/constraints.txt -r requirements/dev.in
	$(PY) -m pip install -q --no-deps $(addprefix -e ,$(PACKAGES))
	cd tools/buf && npm ci --no-audit --no-fund --silent
	cd tools/asyncapi && npm ci --no-audit --no-fund --silent
	cd tools/s3rver && npm ci --no-audit --no-fund --silent  # here, not in a test: the two suites run at once
	tools/promtool.sh $(VENV)/bin
	touch $(STAMP)

venv: $(STAMP)

proto: $(STAMP)
	tools/protos.sh generate

# The contracts as a descriptor set with their comments (gen/python/cms/descriptors.binpb: reflection serves it, it
# ships in cms-contracts) and the API reference generated from it (docs/api/); make lint fails while either is stale.
descriptors: $(STAMP)
	tools/protos.sh descriptors

# Who may call each RPC, from the contracts' access options (a test fails while the committed table is stale).
access-table: $(STAMP)
	$(PY) tools/access_table.py > docs/access-policy.md

check-generated: $(STAMP)
	tools/protos.sh check

proto-lint: $(STAMP)
	tools/protos.sh lint

# No change may break the released contract (protos/baseline/image.binpb; buf breaking, wire and JSON compatibility).
proto-breaking: $(STAMP)
	tools/protos.sh breaking

# At a release: record the contract as released, the baseline proto-breaking compares against.
proto-baseline: $(STAMP)
	tools/protos.sh baseline

# docs/events/asyncapi.yaml against the AsyncAPI 3.0 schema and rules (the AsyncAPI parser, offline).
asyncapi-lint: $(STAMP)
	node tools/asyncapi/validate.mjs docs/events/asyncapi.yaml

# Formatting, lint, the layers (.importlinter: services independent, grpc at the edge, pure rules, no cycles)
# and types (mypy over every package's src, with the generated stubs).
lint: $(STAMP) proto-lint proto-breaking check-generated asyncapi-lint
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy libs/platform/src libs/simulation/src libs/devkit/src services/*/src

# Each service's runtime requirements alone in a fresh venv, as its image installs them; its app must import.
check-runtime: $(STAMP)
	tools/check-runtime.sh

# DURABLE_BROKER=1: the local broker keeps its data in S3 files under var/broker (s3rver from npm), surviving restarts.
S3RVER := tools/s3rver/node_modules/.bin/s3rver
$(S3RVER): tools/s3rver/package-lock.json
	cd tools/s3rver && npm ci --no-audit --no-fund --silent
	touch $(S3RVER)

run: $(STAMP) $(if $(DURABLE_BROKER),$(S3RVER))
	CMS_DURABLE_BROKER=$(DURABLE_BROKER) $(PY) tools/devstack.py

# With make run going (in another terminal): stop or start one service by name, so an outage can be rehearsed while
# the rest run on; `make services` lists them (tools/devstack.py talks to the running stack over var/devstack.sock).
stop-service: $(STAMP)
	$(PY) tools/devstack.py stop $(SERVICE)

start-service: $(STAMP)
	$(PY) tools/devstack.py start $(SERVICE)

services: $(STAMP)
	$(PY) tools/devstack.py status

# Against the services `make run` started: an application, pay rises under and over 25%, a new partner's child, a
# benefit claim, an annual review, told step by step. ARGS passes options through, e.g. ARGS="--start 300000".
demo: $(STAMP)
	$(PY) tools/demo.py $(ARGS)

# Both backends run at once: PostgreSQL (fresh databases per test on 127.0.0.1:5432) and SQLite files.
test: $(STAMP) lint
	tools/run-tests.sh

test-postgres: $(STAMP)
	CMS_TEST_DATABASE=postgres $(PY) -m pytest -q

test-sqlite: $(STAMP)
	CMS_TEST_DATABASE=sqlite $(PY) -m pytest -q

# The fuzz suite (tests/contract/test_fuzz.py) with many examples per RPC and a fresh random seed each run;
# make test runs it with a few, derandomised. The counts by status code go to build/fuzz-report.md.
FUZZ_EXAMPLES ?= 200
fuzz: $(STAMP)
	CMS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CMS_FUZZ_RANDOM=1 CMS_TEST_DATABASE=postgres $(PY) -m pytest -q -m fuzz tests/contract

# The fault suite (tools/faults.py, docs/runbook.md): services killed, the broker lost, PostgreSQL restarted, a gateway
# down 30 s, all under a steady workload; the table goes to build/faults-report.md. ARGS, e.g. "--scenario broker-loss".
faults: $(STAMP)
	$(PY) tools/faults.py $(ARGS)

bench-rpc: $(STAMP)
	$(PY) tools/bench_rpc.py $(ARGS)

# ARGS passes options through, e.g. `make bench-calc ARGS=--quick` or ARGS="--postgres".
bench-calc: $(STAMP)
	$(PY) tools/bench_calc.py $(ARGS)

bench-hmrc: $(STAMP)
	$(PY) tools/bench_hmrc.py $(ARGS)

bench-events: $(STAMP)
	$(PY) tools/bench_events.py $(ARGS)

# The Collect & Pay account on PostgreSQL (CMS_POSTGRES_URL, or the local server): charge run and payment run in
# accounts/s, statement latency of a ten-year case; `ARGS="--accounts 20000"` for more.
bench-money: $(STAMP)
	$(PY) tools/bench_money.py $(ARGS)

# The national runs on a national caseload on PostgreSQL (docs/benchmarks.md): `ARGS=--quick` for a one-minute smoke
# run, `ARGS="--cases 1000000"`, `ARGS=--curve` for the 10k / 100k / 1M scaling curve, `ARGS="--replicas 2"` for the
# national runs partitioned over two casework processes.
bench-national: $(STAMP)
	$(PY) tools/bench_national.py $(ARGS)

k8s-validate: $(STAMP)
	tools/k8s-validate.sh

clean:
	rm -rf build var .pytest_cache .ruff_cache
