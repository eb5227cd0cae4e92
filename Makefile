# PressDesk: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask
export FLASK_APP := wsgi.py

.PHONY: run test install install-dev translations translations-update clean

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

run: install
	PRESSDESK_ENV_NAME=development $(FLASK) db upgrade
	PRESSDESK_ENV_NAME=development $(FLASK) demo load --if-empty
	@echo "PressDesk (DEMO data) on http://127.0.0.1:$(PORT): log in as correspondent@, officer@, leader@ or admin@example.org, password pressdesk-demo"
	PRESSDESK_ENV_NAME=development $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +
	find app/translations -name '*.mo' -delete
