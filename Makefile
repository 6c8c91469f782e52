# The two promises of the README: `make run` and `make test`, on a fresh machine
# with Python 3.11+ only.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test setup lint clean bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

# Installs, migrates, seeds the demo data, then serves the portal and its worker.
run: setup
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo $(if $(DEMO_PASSWORD),--password '$(DEMO_PASSWORD)')
	DJANGO_DEBUG=1 $(BIN)/python manage.py resume_processing
	@echo "Portal: http://$(HOST)/  (Ctrl-C stops the server and the worker)"
	@if [ -z "$$DJANGO_EMAIL_HOST" ]; then echo "Emails: printed here by the worker (no DJANGO_EMAIL_HOST set, see README)"; \
	else echo "Emails: sent through $$DJANGO_EMAIL_HOST:$${DJANGO_EMAIL_PORT:-25}"; fi
	@echo "Daily digests: .venv/bin/python manage.py send_digests (cron runs it in production)"
	DJANGO_DEBUG=1 PORTAL_SITE_URL=$${PORTAL_SITE_URL:-http://$(HOST)} $(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST)

# Installs and runs the whole test suite (browser tests need Debian's chromium).
test: setup
	$(BIN)/pytest

# Every benchmark in bench/, each printing its figures; DATABASE_URL=postgres://... runs
# them on PostgreSQL (in a scratch database they create and drop).
bench: setup
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Style, formatting, the type check of deliveries/ and portal/ (pyproject's [tool.mypy];
# the settings it imports need DJANGO_DEBUG), and migrations that match the models.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/python scripts/check_imports.py
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=1 $(BIN)/mypy
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles test-results
