# The two commands of the README: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format clean-var bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

## run: install, migrate, seed the demo merchant and start web, workers, beat and the Vipps sandbox
# honcho stamps its prefix in TZ: the zone the portal logs in. On Ctrl-C it sends SIGTERM and SIGKILLs what is
# still running 5 s later, but a worker on the file-system broker needs up to ~10 s for its warm shutdown
# (celery's polling loop checks for it every 2 s, twice), so honcho is given 20 s here.
export HONCHO := import sys, honcho.manager, honcho.command; honcho.manager.KILL_WAIT = 20; sys.exit(honcho.command.main())
run: $(VENV)/.runtime-installed
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" TZ="$${TIME_ZONE:-Europe/Oslo}" $(BIN)/python -c "$$HONCHO" start -f Procfile

## test: lint, then the whole suite on SQLite + file broker, then on PostgreSQL + Redis
test:
	bash scripts/test.sh

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
