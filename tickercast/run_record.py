"""What a run records in MLflow, named in one place for the daily run and the backtest:
parameters, tags, metrics (`<model>_<metric>_h<h>` and the headlines), plots, the
training data's lineage, and the per-epoch history.

Each function turns one stage's typed result into a `Record`; `Tracker.record` writes
any record to any run. A reviewer's dashboards and the tests read these names.
"""

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from tickercast import plots
from tickercast.backtest import MODELS, Backtest
from tickercast.champion import Evaluation
from tickercast.evaluate import Scored
from tickercast.fitting import INTERVAL_MODELS, Fitted
from tickercast.global_model import UniverseTraining
from tickercast.ingest import IngestResult
from tickercast.model_config import ModelConfig
from tickercast.publish import Publication
from tickercast.settings import Settings
from tickercast.track_record import ALARM_WINDOW, PUBLISHED, TrackRecord
from tickercast.windows import TrainingSet, WindowSpec


@dataclass(frozen=True)
class TrainingData:
    """The stored prices a run trained on, as MLflow shows a run's dataset.

    Attributes:
        name: `<TICKER> prices`.
        path: the ticker's Parquet partition.
        data_sha256: hash of the sessions and closes used.
        sessions: how many sessions, from `first_session` to `last_session`.
    """

    name: str
    path: Path
    data_sha256: str
    sessions: int
    first_session: str
    last_session: str


@dataclass(frozen=True)
class Record:
    """What one stage logs to a run; empty parts are skipped."""

    params: dict[str, object] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    # artifact path (under the run) -> figure
    figures: dict[str, Figure] = field(default_factory=dict)
    # per-epoch series (`loss`, `val_loss`), logged with the epoch as the step
    history: dict[str, list[float]] = field(default_factory=dict)
    training_data: TrainingData | None = None


def model_metrics(scored: dict[str, Scored]) -> dict[str, float]:
    """Every model's metrics per horizon, as `<model>_<metric>_h<h>`."""
    return {
        f"{name}_{metric}_h{h + 1}": value
        for name, entry in scored.items()
        for h, row in enumerate(entry.metrics)
        for metric, value in row.items()
    }


def ticker_run(
    training: TrainingSet,
    config: ModelConfig,
    ingested: IngestResult,
    settings: Settings,
    prices_file: Path,
    flow_run_id: str,
) -> Record:
    """A ticker's daily run as it opens: parameters, data hashes, ingest and lineage."""
    spec, prices = training.spec, training.prices
    sessions = prices["session"].dt.date
    return Record(
        params={
            "source": ingested.source,
            "window": spec.window,
            "horizons": spec.horizons,
            "target": spec.target,
            "features": ",".join(spec.feature_names),
            "holdout": spec.holdout,
            "calibration_fraction": spec.calibration_fraction,
            "sessions": len(prices),
            "gate_margin": settings.gate_margin,
            "gate_significance": settings.gate_significance,
            "interval_significance": settings.interval_significance,
            "shadow_forecasts": settings.shadow_forecasts,
            **training.split.sessions(sessions.to_numpy()),
            **config.as_params(),
        },
        tags={
            "data_sha256": training.data_sha256,
            "prefect_flow_run_id": flow_run_id,
            "source": ingested.source,
            # The manifest record of the ingest this run trained on.
            "ingest_id": ingested.ingest_id,
            "ingest_data_sha256": ingested.data_sha256,
        },
        training_data=TrainingData(
            name=f"{training.ticker} prices",
            path=prices_file,
            data_sha256=training.data_sha256,
            sessions=len(prices),
            first_session=str(sessions.iloc[0]),
            last_session=str(sessions.iloc[-1]),
        ),
    )


def training(fitted: Fitted, seconds: float) -> Record:
    """How the LSTM was trained (afresh, fine-tuned or reused, and why) and how it went."""
    trained, plan = fitted.trained, fitted.plan
    return Record(
        metrics={
            "best_epoch": trained.best_epoch,
            "fit_seconds": trained.fit_seconds,
            "train_seconds": seconds,
        },
        tags={
            "training": str(plan.training),
            "training_reason": plan.reason,
            "full_as_of": plan.full_as_of.isoformat(),
        },
        history=trained.history,
    )


def evaluation(
    training: TrainingSet, fitted: Fitted, evaluation: Evaluation, seconds: float
) -> Record:
    """Every candidate's holdout metrics, the headlines, the gate's decision, the plots."""
    ticker, scored, published = training.ticker, evaluation.scored, evaluation.published
    holdout_sessions = training.prices["session"].to_numpy()[fitted.split.holdout]
    horizons = [f"h={h}" for h in range(1, training.spec.horizons + 1)]
    return Record(
        metrics={
            **model_metrics(scored),
            "rmse_ratio": scored["lstm"].metrics[0]["rmse_ratio"],
            "published_rmse_ratio": published.metrics[0]["rmse_ratio"],
            "coverage_80": published.metrics[0]["coverage_80"],
            "coverage_95": published.metrics[0]["coverage_95"],
            **{
                f"interval_score_ratio_{name}": ratio
                for name, ratio in evaluation.intervals.scores.items()
            },
            "evaluate_seconds": seconds,
        },
        tags={
            "published_model": str(evaluation.decision.published),
            "gate": evaluation.decision.reason,
            "interval_model": evaluation.intervals.model,
            "interval_gate": evaluation.intervals.reason,
        },
        figures={
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
                {
                    name: [m["rmse_ratio"] for m in entry.metrics]
                    for name, entry in scored.items()
                    if name not in INTERVAL_MODELS  # naive's points, every one
                },
                horizons,
            ),
        }
        | training_figures(ticker, fitted),
    )


def training_figures(ticker: str, fitted: Fitted) -> dict[str, Figure]:
    """The training curves, when the LSTM trained this evening (a reused or global
    network has none)."""
    trained = fitted.trained
    if not trained.history["loss"]:
        return {}
    curves = plots.training_curves(ticker, trained.history, trained.best_epoch)
    return {"plots/training_curves.png": curves}


def lstm_tags(training: TrainingSet, fitted: Fitted) -> dict[str, str]:
    """The tags of the day's logged LSTM: whose it is, as of when, and how it was
    trained; the next evening's retrain plan reads them (`Tracker.latest_network`)."""
    return {
        "ticker": training.ticker,
        "as_of": training.as_of.isoformat(),
        "full_as_of": fitted.plan.full_as_of.isoformat(),
        "training": str(fitted.plan.training),
    }


def lstm_metrics(evaluation: Evaluation) -> dict[str, float]:
    """The logged LSTM's holdout metrics per horizon, as `<metric>_h<h>`."""
    return {
        f"{metric}_h{h + 1}": value
        for h, row in enumerate(evaluation.scored["lstm"].metrics)
        for metric, value in row.items()
    }


def publication(publication: Publication, model_id: str, registered_version: str | None) -> Record:
    """The run's description (the forecast and why), the LSTM it logged, and the
    version it registered, if it registered one."""
    registered = {"registered_version": registered_version} if registered_version else {}
    return Record(
        tags={"mlflow.note.content": publication.report, "lstm_model_id": model_id, **registered}
    )


# what the ticker's run shows of its live track record, per model, horizon and window
LIVE_METRICS = (
    "forecasts",
    "rmse_ratio",
    "dm_pvalue",
    "coverage_80",
    "kupiec_p_80",
    "coverage_95",
    "kupiec_p_95",
    "interval_score_80",
    "interval_score_95",
    "christoffersen_p_95",
)


def live_track_record(track: TrackRecord) -> Record:
    """The live track record on the ticker's run: `live_<model>_<metric>_h<h>_<window>`
    (published: every window; shadows: the last 60), and its plot."""
    rows = [r for r in track.rows if r.model == PUBLISHED or r.window == str(ALARM_WINDOW)]
    metrics = {
        f"live_{r.model}_{metric}_h{r.horizon}_{r.window}": float(getattr(r, metric))
        for r in rows
        for metric in LIVE_METRICS
    }
    figures = (
        {"plots/track_record.png": plots.track_record(track.ticker, track.recent)}
        if len(track.recent)
        else {}
    )
    return Record(
        metrics={name: value for name, value in metrics.items() if math.isfinite(value)},
        tags={"live_alarm": track.alarm.message()} if track.alarm else {},
        figures=figures,
    )


def backtest_run(
    backtest: Backtest,
    config: ModelConfig,
    warm_start: bool,
    data_sha256: str,
    flow_run_id: str,
    settings: Settings,
) -> Record:
    """A ticker's backtest run as it opens: its parameters (the gates' too) and data hash."""
    spec = backtest.spec
    return Record(
        params={
            "folds": len(backtest.folds),
            "gate_margin": settings.gate_margin,
            "gate_significance": settings.gate_significance,
            "interval_significance": settings.interval_significance,
            "shadow_forecasts": settings.shadow_forecasts,
            "warm_start": warm_start,
            "target": spec.target,
            "horizons": spec.horizons,
            "window": spec.window,
            "fold_sessions": spec.holdout,
            **config.as_params(),
        },
        tags={"data_sha256": data_sha256, "prefect_flow_run_id": flow_run_id},
    )


def backtest_results(backtest: Backtest, history: pd.DataFrame) -> Record:
    """Every model's pooled metrics per horizon, and the backtest's plots.

    Args:
        backtest: the folds.
        history: the backtested prices (positions = sessions), to date the folds.
    """
    ticker, pooled = backtest.ticker, backtest.pooled()
    folds = backtest.folds
    figures = {
        "plots/rmse_ratio_by_fold.png": plots.ratio_bars(
            f"{ticker}: h=1 RMSE ratio by fold",
            {
                n: [f.scored[n].metrics[0]["rmse_ratio"] for f in folds]
                for n in MODELS
                if n not in INTERVAL_MODELS
            },
            [f"fold {fold.number}" for fold in folds],
        ),
        "plots/coverage_by_horizon.png": plots.coverage_by_horizon(ticker, pooled["published"]),
        "plots/residuals.png": plots.residual_histogram(ticker, pooled["lstm"]),
    }
    sessions = history["session"].to_numpy()
    for fold in folds:
        first = int(history.index[history["session"].dt.date == fold.first_origin][0])
        fold_sessions = sessions[first : first + len(fold.scored["lstm"].current)]
        figures[f"plots/fold_{fold.number}_lstm.png"] = plots.forecast_bands(
            f"{ticker} fold {fold.number}", fold_sessions, fold.scored["lstm"]
        )
    return Record(metrics=model_metrics(pooled), figures=figures)


def flow_run(rows: list[tuple[str, str, str]], summary_markdown: str) -> Record:
    """A flow run's parent run as it closes: tickers published and failed, the summary."""
    published = sum(status == "published" for _, status, _ in rows)
    return Record(
        metrics={"tickers_published": published, "tickers_failed": len(rows) - published},
        tags={"mlflow.note.content": summary_markdown},
    )


def global_training(training: UniverseTraining, config: ModelConfig, spec: WindowSpec) -> Record:
    """The global network's run: what it was trained on, how its training went, and
    the tickers left out."""
    model, trained = training.model, training.trained
    skipped = "\n".join(f"- {reason}" for reason in training.skipped.values())
    return Record(
        params={
            **config.as_params(),
            "window": spec.window,
            "horizons": spec.horizons,
            "target": spec.target,
            "features": ",".join(spec.feature_names),
            "tickers": len(model.tickers),
            "fit_windows": training.windows[0],
            "calibration_windows": training.windows[1],
        },
        metrics={
            "best_epoch": trained.best_epoch,
            "fit_seconds": trained.fit_seconds,
            "val_loss": min(trained.history["val_loss"]),
            "tickers_skipped": len(training.skipped),
        },
        tags={
            "as_of": model.as_of.isoformat(),
            "mlflow.note.content": f"{training.summary()}\n\n{skipped}",
        },
        history=trained.history,
    )
