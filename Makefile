# Two commands set everything up: `make run` (site with demo data) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Loopback only unless HOST is set (HOST=0.0.0.0 serves the network; even then
# DEBUG's technical pages go to this machine only: core/middleware.py).
HOST ?= 127.0.0.1
PORT ?= 8000
# Two workers: the machines here have two cores.
PYTEST_ARGS ?= -n 2 --dist loadfile

# Django 6.1 needs Python 3.12 or newer: take the first suitable interpreter from
# PATH or from pyenv's versions.
PYTHON ?= $(shell for c in python3.13 python3.12 python3 \
	$$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  if command -v $$c >/dev/null 2>&1 && PYENV_VERSION= $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v $$c; break; fi; done)

.PHONY: help run test bench voice-wer system-packages migrate demo clean

help:
	@echo "make run    set up (virtualenv, database, demo data, admin) and serve on http://$(HOST):$(PORT)/"
	@echo "make test   set up and run the whole test suite"
	@echo "make bench  speed and memory targets (bench/run.py)"
	@echo "make voice-wer  the voice recogniser's word error rate on synthesised patients (bench/voice_wer.py)"
	@echo "make clean  remove the virtualenv, the SQLite database and uploaded media"

define install
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Python 3.12 or newer is needed (Django 6.1). Install it, or run: make PYTHON=/path/to/python3.12 ..."; exit 1; fi
	@test -x $(PY) || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(1)
	@touch $@
endef

$(VENV)/.installed-run: requirements.txt
	$(call install,requirements.txt)

$(VENV)/.installed-test: requirements.txt requirements-dev.txt
	$(call install,requirements-dev.txt)

# createcachetable makes the rate limits' table when the cache is the database
# (production without REDIS_URL); with any other cache it does nothing.
migrate: $(VENV)/.installed-run
	$(PY) manage.py migrate --no-input
	$(PY) manage.py createcachetable

demo: migrate
	$(PY) manage.py seed_demo

# The background worker (staff e-mails, rescoring) runs beside the web server and
# stops with it.
run: demo
	@echo "Site: http://$(HOST):$(PORT)/   Back office: http://$(HOST):$(PORT)/admin/  (user admin, password admin)"
	@$(PY) manage.py db_worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Debian packages the tests use for real: chromium (browser tests), espeak-ng and
# sox (spoken test recordings), redis-server (two web servers sharing one Redis).
# Installed when missing and we are root.
SYSTEM_TOOLS := chromium espeak-ng sox redis-server
system-packages:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "The tests need these Debian packages:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

test: $(VENV)/.installed-test system-packages
	$(PY) -m pytest $(PYTEST_ARGS)

# Speed and memory targets (bench/run.py), on a throwaway database; not part of make test.
bench: $(VENV)/.installed-run
	$(PY) bench/run.py

# Word error rate of the voice recogniser on the labelled set's held-out half
# (HALF=tune to tune on the other half; needs espeak-ng and sox).
HALF ?= test
voice-wer: $(VENV)/.installed-run system-packages
	$(PY) bench/voice_wer.py --half $(HALF)

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles test-artifacts
