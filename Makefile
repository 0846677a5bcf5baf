# Suivi SPIP — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_PASSWORD ?= spip-demo-2026
# Settings fail closed (production unless told): every target here says development.
export DJANGO_ENV ?= development

.PHONY: run test lint format typecheck e2e bench install browser migrate demo clean help purge-audit messages backup restore

help:
	@echo "make run   - installe, prépare la base et les données de démonstration, lance le site, le worker et le beat Celery"
	@echo "make test  - lint (ruff, mypy) et toute la suite de tests"
	@echo "make e2e   - les parcours navigateur seulement (Chromium)"
	@echo "make bench - mesures de performance (voir BENCHMARKS.md)"
	@echo "make backup [BACKUP=dossier] / make restore BACKUP=dossier - sauvegarde et restauration (base et fichiers)"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@# A developer's checkout says so once (settings default to production otherwise).
	@test -f .env || printf '# Local checkout: development settings (see spip/settings.py).\nDJANGO_ENV=development\n' > .env
	@touch $@

install: $(VENV)/.installed

# With DATABASE_OWNER_URL set, migrations run as the schema owner, which then grants the
# runtime role of DATABASE_URL (DATABASE_RUNTIME_ROLE) everything but UPDATE/DELETE on the
# audit trail. Without it (SQLite, development) one connection does everything.
OWNER_ENV = $(if $(DATABASE_OWNER_URL),DATABASE_URL="$(DATABASE_OWNER_URL)",)

migrate: install
	$(OWNER_ENV) $(PY) manage.py database_create
	$(OWNER_ENV) $(PY) manage.py migrate --noinput
	$(OWNER_ENV) $(PY) manage.py load_reference

# Daily in production, as the owner: the audit rows past the retention period deleted (on
# PostgreSQL whole months dropped), the audit partitions of the months ahead created.
purge-audit: install
	$(OWNER_ENV) $(PY) manage.py purge_audit

# The database and the stored files together (spip/backup.py), as the owner:
#   make backup [BACKUP=var/backups/NAME]     then, on an empty database and storage:
#   make restore BACKUP=var/backups/NAME
backup: install
	$(OWNER_ENV) $(PY) manage.py backup $(if $(BACKUP),--output "$(BACKUP)",)

restore: install
	@test -n "$(BACKUP)" || { echo "Indiquez la sauvegarde : make restore BACKUP=var/backups/…"; exit 2; }
	$(OWNER_ENV) $(PY) manage.py restore "$(BACKUP)"

demo: migrate
	$(PY) manage.py seed_demo --password "$(DEMO_PASSWORD)"

run: demo
	@PORT=$(PORT) DEMO_PASSWORD="$(DEMO_PASSWORD)" bash scripts/run.sh

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installation de Chromium (Debian)…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium absent : les tests navigateur seront ignorés (apt-get install chromium)."; fi

# The French catalogue's plural forms (GNU gettext: apt-get install gettext).
messages: install
	rm -f locale/fr/LC_MESSAGES/django.po
	$(PY) manage.py makemessages -l fr --no-obsolete -i ".venv/*" -i "var/*" -i "tests/*"
	$(PY) scripts/plural_catalog.py locale/fr/LC_MESSAGES/django.po
	msgfmt --check -o locale/fr/LC_MESSAGES/django.mo locale/fr/LC_MESSAGES/django.po

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/mypy spip cases measures partners reporting portal
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	@# Production settings pass Django's deployment checklist with no warning.
	DJANGO_ENV=production DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=spip.justice.example \
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PY) manage.py check --deploy --fail-level WARNING

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install
	$(VENV)/bin/mypy spip cases measures partners reporting portal

test: install browser lint
	DJANGO_ENV=test $(VENV)/bin/pytest

e2e: install browser
	DJANGO_ENV=test $(VENV)/bin/pytest tests/e2e

# The load test drives gunicorn with wrk (Debian's package), installed here when missing.
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
		echo "wrk absent : pas de test de charge (apt-get install wrk)."
	$(PY) scripts/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache .mypy_cache
