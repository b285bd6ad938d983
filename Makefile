# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TICKERCAST_HOME ?= $(HOME)/.tickercast
# A temporary Prefect server would otherwise try to send usage telemetry (no network here).
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: install run test lint mlflow-ui prefect-server serve clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# Headless Chromium for the MLflow UI test (Debian's package; root only, best effort)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium not installed: the MLflow UI test will be skipped"
	touch $@

# One flow run on the offline sample prices (real AAPL and MSFT, 2000-2013).
run: install
	$(BIN)/tickercast run --source sample --tickers AAPL,MSFT

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The MLflow UI on the local store under TICKERCAST_HOME, at http://127.0.0.1:5000.
mlflow-ui: install
	$(BIN)/mlflow ui --host 127.0.0.1 --port 5000 \
		--backend-store-uri sqlite:///$(TICKERCAST_HOME)/mlflow.db \
		--default-artifact-root $(TICKERCAST_HOME)/mlartifacts

prefect-server: install
	$(BIN)/prefect server start --host 127.0.0.1

serve: install
	$(BIN)/python deployments/serve.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
