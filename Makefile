# GreenFin: two commands on a fresh machine.
#   make demo   - .venv, install, migrate SQLite, seed the demo district, serve at http://127.0.0.1:5000
#   make test   - the whole suite: SQLite (+ browser), then PostgreSQL + Redis when they answer
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app greenfin
CATALOGUES := $(wildcard */translations/*/LC_MESSAGES/messages.po greenfin/*/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
APT_PACKAGES := chromium zbar-tools libzbar0 poppler-utils fonts-wqy-microhei fonts-noto-cjk
WORKERS ?= 4
RQ_WORKERS ?= 2
PUBLIC_WORKERS ?= 0
PUBLIC_BIND ?= 127.0.0.1:8001
PROMETHEUS_DIR ?= $(CURDIR)/instance/prometheus

.PHONY: demo test install install-dev translations system-deps serve messages bench clean

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile -f -i $< -o $@ -l $(notdir $(patsubst %/LC_MESSAGES/,%,$(dir $<)))

translations: $(COMPILED)

# Debian packages the suite and the PDFs use (Chromium, zbar, poppler, CJK fonts); installed only when missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: install translations
	@dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || $(MAKE) --no-print-directory system-deps || echo "warning: CJK font missing; PDFs fall back to a non-embedded font"
	$(FLASK) db upgrade heads
	$(FLASK) seed-demo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev translations system-deps
	$(BIN)/python -m pytest -q
	@if $(BIN)/python -c "import socket; [socket.create_connection(('127.0.0.1', p), 2).close() for p in (5432, 6379)]" 2>/dev/null; then \
	  echo "== PostgreSQL + Redis pass"; \
	  GREENFIN_TEST_DB=postgresql GREENFIN_TEST_REDIS=1 $(BIN)/python -m pytest -q -m "not browser"; \
	else echo "== PostgreSQL or Redis not answering on 127.0.0.1: that pass is skipped"; fi

# Production-style run: gunicorn, rq workers and the scheduler (greenfin/schedule.py) against DATABASE_URL and REDIS_URL. Both log one
# JSON object a line unless LOG_FORMAT says otherwise (gunicorn.conf.py does the same for gunicorn).
# Two database roles (docs/deploy.md): migrations run as the tables' owner (MIGRATION_DATABASE_URL),
# which then grants the application's role (the user of DATABASE_URL) what it needs and no more.
serve: install translations
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" -a -n "$$MIGRATION_DATABASE_URL" || { \
	  echo "set DATABASE_URL (application role), MIGRATION_DATABASE_URL (owner role) and REDIS_URL"; exit 2; }
	DATABASE_URL="$$MIGRATION_DATABASE_URL" $(FLASK) db upgrade heads
	rm -rf "$(PROMETHEUS_DIR)" && mkdir -p "$(PROMETHEUS_DIR)"  # multiprocess metrics start from zero
	DATABASE_URL="$$MIGRATION_DATABASE_URL" $(FLASK) db grant-app-role \
	  "$${APP_ROLE:-$$(echo "$$DATABASE_URL" | sed -E 's|^[^/]*//([^:@/]*).*|\1|')}"
	export PROMETHEUS_MULTIPROC_DIR="$(PROMETHEUS_DIR)"; \
	for i in $$(seq $(RQ_WORKERS)); do LOG_FORMAT=$${LOG_FORMAT:-json} $(FLASK) rq worker high default low & done; \
	LOG_FORMAT=$${LOG_FORMAT:-json} $(FLASK) schedule run & \
	if [ "$(PUBLIC_WORKERS)" -gt 0 ]; then \
	  $(BIN)/gunicorn -c gunicorn.conf.py -w $(PUBLIC_WORKERS) --threads 1 -b $(PUBLIC_BIND) "greenfin:create_app()" & fi; \
	$(BIN)/gunicorn -c gunicorn.conf.py -w $(WORKERS) "greenfin:create_app()"; kill $$(jobs -p) 2>/dev/null || true

messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o /tmp/greenfin-messages.pot .
	@echo "extracted to /tmp/greenfin-messages.pot; merge into the package catalogues with pybabel update"

bench: install-dev
	$(BIN)/python -m pip install -q -r requirements-bench.txt
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) instance/greenfin.sqlite $(COMPILED)
