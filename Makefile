# Clinic API: `make run` to try it, `make test` to test it. Nothing else to set up.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint schema install serve load bench bench-http bench-audit

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Development server on 127.0.0.1:8000 with SQLite, DEBUG on and the demo accounts, and the outbox
# worker next to it (ops/run.py; mails appear on the console). Ctrl-C stops both.
run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 exec $(PY) -m ops.run 127.0.0.1:8000

# The whole suite (SQLite by default; set DATABASE_URL for PostgreSQL).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Regenerate schema.graphql from the code (a test fails when it is stale).
schema: $(STAMP)
	DEBUG=1 $(PY) manage.py export_schema schema --path schema.graphql

# Production server (README "Deployment"): DEBUG off, so SECRET_KEY, JWT_SECRET_KEY, DATABASE_URL and
# ALLOWED_HOSTS must be set. ops/serve.py runs migrate and collectstatic, then nginx (a buffering proxy:
# slow clients cannot hold the workers) -> gunicorn (clinic/gunicorn.conf.py, WEB_CONCURRENCY x
# GUNICORN_THREADS) and the outbox worker. Needs nginx, or SERVE_BEHIND_PROXY=1 behind your own.
serve: $(STAMP)
	exec $(PY) -m ops.serve

# Bounded load run on PostgreSQL (DATABASE_URL): LOAD_SECONDS (30), LOAD_CLIENTS (8); starts its own
# server like `make serve` unless LOAD_URL points at one. Fails on any error or lost write.
load: $(STAMP)
	$(PY) -m ops.loadtest

# Performance (README "Performance"; not part of `make test`). Own SQLite file in the temp
# directory (or BENCH_DATABASE_URL), never db.sqlite3. BENCH_ARGS passes options through.
bench: $(STAMP)
	$(PY) -m bench.worklist $(BENCH_ARGS)

bench-http: $(STAMP)
	$(PY) -m bench.http $(BENCH_ARGS)

# The audit trail at scale (issue 19): PostgreSQL only; BENCH_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/clinic_audit_bench (created if missing).
bench-audit: $(STAMP)
	$(PY) -m bench.audit $(BENCH_ARGS)
