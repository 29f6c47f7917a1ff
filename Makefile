# Bazarche: `make run` serves the demo market on http://127.0.0.1:5000, `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run run-cluster worker test test-sqlite test-postgres install lint format translations translations-update bench clean lock

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# Re-resolve every dependency from pyproject.toml in a scratch environment and write the exact
# versions to requirements.lock (review the diff, then commit it).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[dev]'
	{ sed -n '1,2p' requirements.lock; .venv-lock/bin/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf .venv-lock

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d translations --statistics 2>&1 | tail -n 2

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo "Tasks run in the web process (JOBS_BACKEND=immediate). To try the job queue: run"
	@echo "  JOBS_BACKEND=sqlite make run   and, in another terminal,   JOBS_BACKEND=sqlite make worker"
	@echo "Texts (log-in codes) and e-mails the demo sends: http://127.0.0.1:5000/dev/sms and /dev/mail"
	SESSION_COOKIE_SECURE=0 PAYMENT_SANDBOX=1 DEV_OUTBOX=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

# The multi-process layout on this machine: PostgreSQL, Redis, a local S3 server, gunicorn and a
# job worker (docs/deploy.md).
run-cluster: install
	scripts/run-cluster

# The job worker (tasks and the schedule) for JOBS_BACKEND=sqlite or redis; see README.
worker: install
	$(BIN)/flask jobs worker

# The suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set. Each run has two passes:
# the test files spread over TEST_WORKERS processes (pytest-xdist, a whole file per process so its
# module fixtures are built once; on PostgreSQL each process works in a database of its own,
# <name>_gw0..., which it creates and drops), then the tests marked serial (those driving the live
# gunicorn with bursts of requests) one at a time in a single process.
TEST_WORKERS ?= 2
TEST_PARALLEL = $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial"
TEST_SERIAL = $(BIN)/python -m pytest -p no:xdist -m serial

test: install
	@echo "== on SQLite"
	TEST_DATABASE_URL= $(TEST_PARALLEL)
	TEST_DATABASE_URL= $(TEST_SERIAL)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL: $$TEST_DATABASE_URL"; \
		$(TEST_PARALLEL) && $(TEST_SERIAL); \
	else echo "(TEST_DATABASE_URL not set: PostgreSQL run skipped; .ci/run sets it)"; fi

# Style and complexity (ruff), the one-way layers (import-linter, [tool.importlinter]) and types
# (mypy on app/, [tool.mypy]); CI runs it before the suite.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

bench: $(STAMP)
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/images.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/reports.py --scale 0.1
	$(BIN)/python bench/load.py --quick --uploads

clean:
	rm -rf $(VENV) instance .pytest_cache
