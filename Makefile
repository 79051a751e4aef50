# Convene's everyday commands. `make run` and `make test` need only Python 3.11 to start.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
export PORT SITE_URL

.PHONY: install migrate demo run worker beat test lint format clean bench bench-notify bench-publish

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Load (or reload) the demo data.
demo: migrate
	$(BIN)/python manage.py demo

## Set everything up and run web, Celery worker and beat together; Ctrl-C stops them all.
run: demo
	@echo ""
	@echo "Convene is starting at $(SITE_URL)/"
	@echo "Sign in as coordinator@example.org, partner@example.org or member@example.org"
	@echo "(admin@example.org for /admin/), password: convene-demo-password"
	@echo "Press Ctrl-C to stop the web server, the worker and beat."
	@echo ""
	$(BIN)/honcho start --procfile Procfile --port $(PORT)

## The Celery worker on its own.
worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

## Celery beat on its own. Run exactly one beat per site.
beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

## The whole test suite, browser tests included.
test: install
	$(BIN)/python -m pytest -n 2

## Time one change that emails 10,000 people through a real worker and SMTP server.
bench-notify: install
	$(BIN)/python manage.py bench_notify --recipients 10000

## Time publishing one update to 10,000 contributors: the request, the worker's fan-out and
## delivery, through a real worker and SMTP server.
bench-publish: install
	$(BIN)/python manage.py bench_publish --contributors 10000

## Measure the pages on the large community under gunicorn (see README, Measuring speed),
## then the fan-out: publishing an update to 10,000 contributors, and delivering 10,000
## emails. Makes the community first if it is not there yet.
## Use PostgreSQL: DATABASE_URL=postgres://… make bench. Not part of `make test`.
bench: migrate
	$(BIN)/python manage.py bench_pages --generate $(BENCH_ARGS)
	$(BIN)/python manage.py bench_publish --contributors 10000
	$(BIN)/python manage.py bench_notify --recipients 10000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .celery staticfiles .test-db.sqlite3*
