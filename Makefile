# PressDesk: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
HOST ?= 127.0.0.1
DEV_MAIL_PORT ?= 8025
BIN := $(VENV)/bin
FLASK := $(BIN)/flask
export FLASK_APP := wsgi.py

.PHONY: run demo-reset test bench install install-dev translations translations-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

# Compiled catalogues (.mo) are build output, not kept in git.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d app/translations --statistics 2>&1 | grep -v "^compiling" || true
	@test -f app/translations/vi/LC_MESSAGES/messages.mo

# After adding strings: extract them and merge into both catalogues, then translate vi.
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d app/translations --width 100
	rm -f messages.pot

# `make run` serves three processes, stopped together by Ctrl-C (the traps below): the site
# (`flask run`), the mail worker (`flask outbox worker`, as in production) and a local SMTP catcher
# (`flask devmail serve`, read at /dev/mail/). HOST=0.0.0.0 serves the local network and sets the
# public address (email links, permit QR codes) to this machine's LAN address, for a phone.
run: install
	PRESSDESK_ENV_NAME=development $(FLASK) privacy init-key
	PRESSDESK_ENV_NAME=development $(FLASK) db upgrade
	@export PRESSDESK_ENV_NAME=development PRESSDESK_MAIL_SERVER=127.0.0.1 PRESSDESK_MAIL_PORT=$(DEV_MAIL_PORT) \
	    PRESSDESK_MAIL_USE_TLS=false PRESSDESK_MAIL_USE_SSL=false PRESSDESK_MAIL_USERNAME=null; \
	address="$(HOST)"; \
	if [ "$(HOST)" = "0.0.0.0" ]; then \
	    address=$$($(FLASK) devmail lan-address) || { echo "No LAN address found: links use 127.0.0.1."; address=127.0.0.1; }; \
	fi; \
	export PRESSDESK_BASE_URL="http://$$address:$(PORT)"; \
	$(FLASK) demo load --if-empty || exit 1; \
	$(BIN)/python -c "import socket; socket.create_server(('127.0.0.1', $(DEV_MAIL_PORT))).close()" 2>/dev/null || \
	    { echo "Port $(DEV_MAIL_PORT) for the mail catcher is in use (another make run?): try make run DEV_MAIL_PORT=8026."; exit 1; }; \
	$(FLASK) devmail serve --port $(DEV_MAIL_PORT) & catcher=$$!; \
	$(FLASK) outbox worker --poll-seconds 1 & worker=$$!; \
	trap 'kill -TERM $$catcher $$worker 2>/dev/null; wait $$catcher $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	echo "PressDesk (DEMO data) on $$PRESSDESK_BASE_URL: log in as correspondent@, officer@, leader@ or admin@example.org, password pressdesk-demo"; \
	if [ "$(HOST)" = "0.0.0.0" ]; then echo "On a phone on the same network: $$PRESSDESK_BASE_URL"; fi; \
	echo "Mail the site sends is caught, not delivered: read it at $$PRESSDESK_BASE_URL/dev/mail/"; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Start again from fresh DEMO data (the SQLite database, uploads, permit keys and caught mail of
# instance/), for instance to print the demo permits for another address (make run HOST=0.0.0.0).
demo-reset:
	rm -rf instance/pressdesk.db instance/pressdesk.db-wal instance/pressdesk.db-shm instance/uploads \
	    instance/permit-keys instance/dev-mail

# Both cores: each xdist worker has its own SMTP server, database and live server (tests/conftest.py).
TEST_WORKERS ?= auto
test: install-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Seeds the large data set once (bench/.cache/ and a pressdesk_bench_seed_* PostgreSQL database, kept
# between runs), runs every benchmark on it, prints one table and writes bench/latest.md
# (bench/README.md keeps the latest table). BENCH_ARGS="--registrations 2000 --quick" for a short try.
BENCH_ARGS ?=
bench: install-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +
	find app/translations -name '*.mo' -delete
