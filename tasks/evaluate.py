"""Stage 4: score every candidate on the holdout, decide what to publish, plot it."""

import time

from prefect import get_run_logger
from tickercast.tasks.retries import stage

from tickercast import plots
from tickercast.fitting import Fitted, usable_champion
from tickercast.gate import Evaluation, evaluate_candidates
from tickercast.settings import Settings
from tickercast.tracking import Champion, Tracker
from tickercast.windows import TrainingSet


@stage(retries=2, backoff_seconds=2)
def evaluate_model(
    training: TrainingSet,
    fitted: Fitted,
    champion: Champion | None,
    run_id: str,
    settings: Settings,
) -> Evaluation:
    """Compare the LSTM, the baselines and the champion on the holdout; log metrics and plots."""
    comparable = champion is not None and usable_champion(
        champion.candidate.forecaster, champion.as_of, training.as_of, training.spec
    )
    started = time.perf_counter()
    evaluation = evaluate_candidates(
        training.prices,
        fitted,
        champion.candidate if comparable else None,
        settings.gate_margin,
        settings.gate_significance,
    )
    seconds = time.perf_counter() - started
    decision, scored = evaluation.decision, evaluation.scored
    published = scored[decision.published]
    tracker = Tracker(settings)
    tracker.log_metrics(
        run_id,
        {
            f"{name}_{metric}_h{h + 1}": value
            for name, entry in scored.items()
            for h, row in enumerate(entry.metrics)
            for metric, value in row.items()
        },
    )
    tracker.log_metrics(
        run_id,
        {
            "rmse_ratio": scored["lstm"].metrics[0]["rmse_ratio"],
            "published_rmse_ratio": published.metrics[0]["rmse_ratio"],
            "coverage_80": published.metrics[0]["coverage_80"],
            "coverage_95": published.metrics[0]["coverage_95"],
            "evaluate_seconds": seconds,
        },
    )
    tracker.set_tags(run_id, {"published_model": decision.published, "gate": decision.reason})
    ticker = training.ticker
    holdout_sessions = training.prices["session"].to_numpy()[fitted.split.holdout]
    horizons = [f"h={h}" for h in range(1, training.spec.horizons + 1)]
    figures = {
        "plots/holdout_lstm.png": plots.forecast_bands(
            f"{ticker} holdout", holdout_sessions, scored["lstm"]
        ),
        "plots/holdout_published.png": plots.forecast_bands(
            f"{ticker} holdout, published", holdout_sessions, published
        ),
        "plots/coverage_by_horizon.png": plots.coverage_by_horizon(ticker, published),
        "plots/residuals.png": plots.residual_histogram(ticker, scored["lstm"]),
        "plots/rmse_ratio_by_horizon.png": plots.ratio_bars(
            f"{ticker}: holdout RMSE ratio by horizon",
            {name: [m["rmse_ratio"] for m in entry.metrics] for name, entry in scored.items()},
            horizons,
        ),
        "plots/training_curves.png": plots.training_curves(
            ticker, fitted.trained.history, fitted.trained.best_epoch
        ),
    }
    for path, figure in figures.items():
        tracker.log_figure(run_id, figure, path)
    get_run_logger().info(
        "%s: holdout h=1 RMSE ratio lstm %.3f, ar %.3f, drift %.3f; publishing %s: %s",
        ticker,
        scored["lstm"].metrics[0]["rmse_ratio"],
        scored["ar"].metrics[0]["rmse_ratio"],
        scored["drift"].metrics[0]["rmse_ratio"],
        decision.published,
        decision.reason,
    )
    return evaluation
