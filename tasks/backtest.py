"""Walk-forward backtests: every model refitted per fold, scored against the baselines."""

from datetime import UTC, date, datetime
from pathlib import Path

from prefect import get_run_logger
from prefect.runtime import flow_run
from tickercast.tasks.retries import stage

from tickercast import plots
from tickercast.backtest import MODELS, Backtest, run_backtest
from tickercast.model import ModelConfig
from tickercast.prices import prices_sha256
from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tracking import Tracker
from tickercast.windows import WindowSpec, select_history


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
    history = select_history(
        Store(settings.home).read_prices(ticker), ticker, start, end, settings.calendar_for(ticker)
    )
    backtest = run_backtest(
        history,
        ticker,
        spec,
        config,
        folds,
        settings.gate_margin,
        warm_start=warm_start,
        significance=settings.gate_significance,
    )
    tracker = Tracker(settings)
    run_id = tracker.start_run(
        ticker,
        history["session"].iloc[-1].date(),
        {
            "data_sha256": prices_sha256(history),
            "prefect_flow_run_id": str(flow_run.get_id()),
        },
        {
            "folds": folds,
            "warm_start": warm_start,
            "target": spec.target,
            "horizons": spec.horizons,
            "window": spec.window,
            "fold_sessions": spec.holdout,
            **config.as_params(),
        },
        kind="backtest",
    )
    pooled = backtest.pooled()
    tracker.log_metrics(
        run_id,
        {
            f"{name}_{metric}_h{h + 1}": value
            for name in MODELS
            for h, row in enumerate(pooled[name].metrics)
            for metric, value in row.items()
        },
    )
    folds_labels = [f"fold {fold.number}" for fold in backtest.folds]
    sessions = history["session"].to_numpy()
    figures = {
        "plots/rmse_ratio_by_fold.png": plots.ratio_bars(
            f"{ticker}: h=1 RMSE ratio by fold",
            {n: [f.scored[n].metrics[0]["rmse_ratio"] for f in backtest.folds] for n in MODELS},
            folds_labels,
        ),
        "plots/coverage_by_horizon.png": plots.coverage_by_horizon(ticker, pooled["published"]),
        "plots/residuals.png": plots.residual_histogram(ticker, pooled["lstm"]),
    }
    for fold in backtest.folds:
        first = int(history.index[history["session"].dt.date == fold.first_origin][0])
        fold_sessions = sessions[first : first + len(fold.scored["lstm"].current)]
        figures[f"plots/fold_{fold.number}_lstm.png"] = plots.forecast_bands(
            f"{ticker} fold {fold.number}", fold_sessions, fold.scored["lstm"]
        )
    for path, figure in figures.items():
        tracker.log_figure(run_id, figure, path)
    tracker.end_run(run_id, succeeded=True)
    get_run_logger().info(
        "%s: %d folds; pooled h=1 RMSE ratio lstm %.3f, ar %.3f, drift %.3f, published %.3f; "
        "coverage 80/95 of published %.2f/%.2f",
        ticker,
        folds,
        pooled["lstm"].metrics[0]["rmse_ratio"],
        pooled["ar"].metrics[0]["rmse_ratio"],
        pooled["drift"].metrics[0]["rmse_ratio"],
        pooled["published"].metrics[0]["rmse_ratio"],
        pooled["published"].metrics[0]["coverage_80"],
        pooled["published"].metrics[0]["coverage_95"],
    )
    return backtest


@stage(retries=2, backoff_seconds=2)
def write_backtest_report(backtests: list[Backtest], settings: Settings) -> Path:
    """Write every ticker's backtest rows to reports/backtest/latest.json and a dated copy."""
    rows = [row for backtest in backtests for row in backtest.rows()]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Store(settings.home).write_backtest_report(rows, stamp)
