"""Walk-forward backtests: every model refitted per fold, scored against the baselines."""

from datetime import UTC, date, datetime
from pathlib import Path

from prefect import get_run_logger
from prefect.runtime import flow_run

from tickercast.data.history import History
from tickercast.data.prices import prices_sha256
from tickercast.data.storage import Store
from tickercast.data.windows import WindowSpec, select_history
from tickercast.evaluation.backtest import Backtest, run_backtest
from tickercast.models.fit_store import kept_in
from tickercast.models.network_config import ModelConfig
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking import run_record
from tickercast.tracking.runs import BACKTEST, runs_for


@stage(retries=1, backoff_seconds=10)
def backtest_ticker(
    ticker: str,
    start: date | None,
    end: date | None,
    spec: WindowSpec,
    config: ModelConfig,
    folds: int,
    warm_start: bool,
    settings: Settings,
) -> Backtest:
    """Backtest one ticker over its last folds and log the results and plots to MLflow."""
    store = Store(settings.home)
    stored = store.read_prices(ticker)
    prices = select_history(stored, ticker, start, end, settings.calendar_for(ticker))
    gate = {
        "margin": settings.gate_margin,
        "significance": settings.gate_significance,
        "live_required": settings.shadow_forecasts,
        "interval_significance": settings.interval_significance,
    }
    with kept_in(store.fits_folder):
        backtest = run_backtest(
            History.of(prices), ticker, spec, config, folds, warm_start=warm_start, **gate
        )
    runs = runs_for(settings)
    opened = run_record.backtest_run(
        backtest, config, warm_start, prices_sha256(prices), str(flow_run.get_id()), settings
    )
    as_of = prices["session"].iloc[-1].date()
    run_id = runs.start_run(ticker, as_of, opened, kind=BACKTEST)
    runs.record(run_id, run_record.backtest_results(backtest, prices))
    runs.end_run(run_id, succeeded=True)
    logger = get_run_logger()
    logger.info(backtest.summary())
    if backtest.close_only:
        logger.warning(backtest.close_only)
    return backtest


@stage(retries=2, backoff_seconds=2)
def write_backtest_report(backtests: list[Backtest], settings: Settings) -> Path:
    """Write every ticker's backtest rows to reports/backtest/latest.json and a dated copy."""
    rows = [row for backtest in backtests for row in backtest.rows()]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Store(settings.home).write_backtest_report(rows, stamp)
