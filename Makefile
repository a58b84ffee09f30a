# Two commands do all the set-up:
#   make demo   installs, seeds 20,000 customers, loads them, makes one user per role (passwords
#               printed once) and serves http://localhost:8501
#   make test   installs, runs the linter (make lint) and every test (browser tests skip with a message
#               without Chromium)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CUSTOMERS ?= 20000
PORT ?= 8501

.PHONY: install demo data users app test lint bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

data: install
	$(PY) -m seed --customers $(CUSTOMERS) --out data/raw
	$(PY) -m etl --raw data/raw --db data/crm.duckdb

users: install
	$(PY) -m crm360 users demo

# server.py serves dashboard.py with the routes of the sign-in cookie (a refresh stays signed in).
app: install
	$(PY) -m streamlit run server.py --server.port $(PORT) --server.headless true

demo: data users app

test: lint
	$(PY) -m pytest -q -rs

lint: install
	$(PY) -m ruff check .

bench: install
	$(PY) -m bench --customers 100000

clean:
	rm -rf data/raw data/bench data/*.duckdb* data/.duckdb_tmp bench/results
	@echo "kept: data/*.sqlite (users, audit log, campaigns, duplicate decisions)"
