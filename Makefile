# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TICKERCAST_HOME ?= $(HOME)/.tickercast
# A temporary Prefect server would otherwise try to send usage telemetry (no network here).
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

TICKER ?= AAPL

.PHONY: install run test test-fast lint mlflow-ui prefect-server serve serve-model constraints clean

install: $(VENV)/.installed

# constraints.txt pins every distribution to the versions the test suite ran with: CI and
# a new user get those, not whatever PyPI resolves to today (`make constraints` renews it).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	@# Headless Chromium for the MLflow UI test (Debian's package; root only, best effort)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium not installed: the MLflow UI test will be skipped"
	touch $@

# One flow run on the offline sample prices (real AAPL and MSFT, 2000-2013).
run: install
	$(BIN)/tickercast run --source sample --tickers AAPL,MSFT

# Everything, as CI runs it: real servers, the browser and the long runs included, on
# two worker processes (pytest-xdist; `$(BIN)/python -m pytest FILE` runs one file in one).
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2

# The quick loop while editing: no server processes, no browser, no long training.
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -m "not server and not browser and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The MLflow UI on the local store under TICKERCAST_HOME, at http://127.0.0.1:5000
# (another port: `make mlflow-ui PORT=5050`).
mlflow-ui: install
	$(BIN)/mlflow ui --host 127.0.0.1 --port $(or $(PORT),5000) \
		--backend-store-uri sqlite:///$(TICKERCAST_HOME)/mlflow.db \
		--default-artifact-root $(TICKERCAST_HOME)/mlartifacts

# Prefect's server and UI at http://127.0.0.1:4200 (another port: `make prefect-server
# PORT=4300`; the UI then asks that port's API).
prefect-server: install
	PREFECT_UI_API_URL=http://127.0.0.1:$(or $(PORT),4200)/api \
		$(BIN)/prefect server start --host 127.0.0.1 --port $(or $(PORT),4200)

serve: install
	$(BIN)/python deployments/serve.py

# Serve a ticker's champion model over HTTP (`make serve-model TICKER=MSFT`).
serve-model: install
	$(BIN)/tickercast serve-model $(TICKER)

# Renew constraints.txt from the environment in $(VENV), once the whole suite passed in it
# (docs/development.md: upgrade, run pytest, `make constraints`, commit the file).
constraints:
	{ echo "# What \`make install\` installs (pip install -c constraints.txt): the versions the whole"; \
	  echo "# test suite passed with. Regenerate: make constraints, i.e. pip freeze --all"; \
	  echo "# --exclude-editable without pip (README, \"Development\")."; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^pip=='; } > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
