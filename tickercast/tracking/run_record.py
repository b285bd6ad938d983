"""What a run records in MLflow, named in one place for the daily run and the backtest:
parameters, tags, metrics (`<model>_<metric>_h<h>` and the headlines), plots, the
training data's lineage, and the per-epoch history.

Each function turns one stage's typed result into a `Record`; `Runs.record` writes
any record to any run. A reviewer's dashboards and the tests read these names.
"""

import math
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from tickercast.data.ingest import IngestResult
from tickercast.data.windows import TrainingSet, WindowSpec
from tickercast.evaluation import plots
from tickercast.evaluation.backtest import MODELS, Backtest
from tickercast.evaluation.champion import Choice, Evaluation
from tickercast.evaluation.scores import Scored
from tickercast.evaluation.track_record import ALARM_WINDOW, PUBLISHED, TrackRecord
from tickercast.ledger.publish import Publication
from tickercast.models.candidates import INTERVAL_MODELS
from tickercast.models.fitting import Fitted
from tickercast.models.global_network import UniverseTraining
from tickercast.models.network_config import ModelConfig
from tickercast.settings import Settings
from tickercast.tracking import run_summary
from tickercast.tracking.run_summary import SummaryRow
from tickercast.tracking.runs import Record, TrainingData

# A run's metrics are what a reviewer charts and compares across runs: the headlines
# below, about 130 at the defaults. Every candidate's every metric at every horizon
# (1,600 at the defaults, 2,400 with a live record) is in the run's tables instead
# (`HOLDOUT_TABLE`, `LIVE_TABLE`), which the MLflow UI opens from the artifacts.
HOLDOUT_TABLE = "tables/holdout_metrics.json"
LIVE_TABLE = "tables/live_track_record.json"
BACKTEST_TABLE = "tables/backtest_metrics.json"
# per horizon, for the published forecast (its point and its intervals) ...
PUBLISHED_METRICS = (
    "rmse_ratio",
    "coverage_80",
    "coverage_95",
    "interval_score_80",
    "interval_score_95",
)
# ... one session ahead, for each interval candidate (naive's own intervals included)
INTERVAL_METRICS = ("coverage_80", "coverage_95", "interval_score_80", "interval_score_95")
# the published live record over these windows, one session ahead ...
LIVE_WINDOWS = (str(ALARM_WINDOW), "all")
LIVE_PUBLISHED = (
    "forecasts",
    "rmse_ratio",
    "coverage_80",
    "kupiec_p_80",
    "coverage_95",
    "interval_score_80",
    "interval_score_95",
)
# ... and the LSTM's shadow record the shadow gate reads
LIVE_LSTM = ("forecasts", "rmse_ratio", "dm_pvalue")


def headline_metrics(scored: dict[str, Scored], published: Scored) -> dict[str, float]:
    """What a run's metrics show of its holdout: the published forecast's accuracy and
    intervals per horizon (`published_<metric>_h<h>`), each point candidate's RMSE ratio
    per horizon and Diebold-Mariano p-value one session ahead, and each interval
    candidate's coverage and interval score one session ahead.

    Args:
        scored: every candidate's holdout scores (`champion` when it was compared).
        published: the published forecast's holdout scores.

    Returns:
        The metrics by name.
    """
    metrics = {
        f"published_{metric}_h{h + 1}": row[metric]
        for h, row in enumerate(published.metrics)
        for metric in PUBLISHED_METRICS
    }
    points = [name for name in scored if name not in INTERVAL_MODELS and name != "naive"]
    for name in points:
        metrics |= {
            f"{name}_rmse_ratio_h{h + 1}": row["rmse_ratio"]
            for h, row in enumerate(scored[name].metrics)
        }
        metrics[f"{name}_dm_pvalue_h1"] = scored[name].metrics[0]["dm_pvalue"]
    for name in ("naive", *(name for name in INTERVAL_MODELS if name in scored)):
        metrics |= {
            f"{name}_{metric}_h1": scored[name].metrics[0][metric] for metric in INTERVAL_METRICS
        }
    return metrics


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


# One ticker in PLOT_SAMPLE has its figures drawn whatever it published: a sample a
# reviewer can browse. A stable hash of the symbol picks it (Python's `hash` changes from
# process to process), so the same tickers are drawn every evening and compare day to
# day; 1 in 20 is 18 of the 481 S&P 500 members in the benchmarks' data.
PLOT_SAMPLE = 20
# Where each daily run keeps its `HoldoutPlots`, drawn or not.
HOLDOUT_PLOTS = Path("plots/holdout.npz")


def reviewed(ticker: str, published: str, alarm: bool = False) -> bool:
    """Whether a reviewer will look at a ticker's figures, so that its run draws them.

    Drawing and logging a ticker's seven figures took 1.4 s of the 3.7 s a ticker that a
    480-ticker evening on 2 cores allows (issue 13, `benchmarks/ticker_overhead.py`),
    and nobody opens 3,000 figures an evening. They are drawn where someone looks: a
    published model other than naive (a claim to check), an alarm on the intervals,
    and the fixed sample (`PLOT_SAMPLE`). Every run keeps every metric and its holdout's
    plot data (`HoldoutPlots`), so any figure can be drawn later.

    Args:
        ticker: the symbol.
        published: the model published (`Choice`, or a ledger row's `model`).
        alarm: the live track record raised a calibration alarm.

    Returns:
        True when the run should draw its figures.
    """
    sampled = zlib.crc32(ticker.encode()) % PLOT_SAMPLE == 0
    return published != Choice.NAIVE or alarm or sampled


@dataclass(frozen=True)
class HoldoutPlots:
    """What a daily run's holdout figures are drawn from, kept with every run (`save`,
    60 KB at the defaults) so that the figures of a run that drew none can be drawn on demand
    (`load`, then `holdout_figures`).

    Attributes:
        ticker: the symbol.
        sessions: (n,) the holdout's origin sessions.
        lstm: the new LSTM's holdout scores.
        published: the published forecast's holdout scores (its point and intervals).
        ratios: each point model's holdout RMSE ratio per horizon.
        history: the LSTM's per-epoch `loss` and `val_loss` (empty: it was reused).
        best_epoch: the epoch whose weights were kept.
    """

    ticker: str
    sessions: np.ndarray
    lstm: Scored
    published: Scored
    ratios: dict[str, list[float]]
    history: dict[str, list[float]]
    best_epoch: int

    def save(self, path: Path) -> Path:
        """Write the arrays to an `.npz` file (no pickles) and return its path."""
        arrays = {"ticker": np.array(self.ticker), "sessions": self.sessions}
        arrays["best_epoch"] = np.array(self.best_epoch)
        for role, scored in (("lstm", self.lstm), ("published", self.published)):
            arrays[f"{role}.name"] = np.array(scored.name)
            for name in _SCORED_ARRAYS:
                arrays[f"{role}.{name}"] = getattr(scored, name)
            for level, (lower, upper) in scored.bounds.items():
                percent = round(level * 100)
                arrays[f"{role}.lower_{percent}"], arrays[f"{role}.upper_{percent}"] = lower, upper
        arrays |= {f"ratio.{name}": np.array(values) for name, values in self.ratios.items()}
        arrays |= {f"history.{name}": np.array(values) for name, values in self.history.items()}
        np.savez_compressed(path, **arrays)
        return path

    @classmethod
    def load(cls, path: Path) -> "HoldoutPlots":
        """Read what `save` wrote; the scores' metrics are computed again from the arrays."""
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}

        def scored(role: str) -> Scored:
            percents = [n.split("_")[-1] for n in arrays if n.startswith(f"{role}.lower_")]
            bounds = {
                int(p) / 100: (arrays[f"{role}.lower_{p}"], arrays[f"{role}.upper_{p}"])
                for p in percents
            }
            parts = [arrays[f"{role}.{name}"] for name in _SCORED_ARRAYS]
            current, forecast, actual, scales, volatility = parts
            name = str(arrays[f"{role}.name"])
            return Scored.build(name, current, forecast, actual, bounds, scales, volatility)

        def named(prefix: str) -> dict[str, list[float]]:
            return {
                name.removeprefix(prefix): arrays[name].tolist()
                for name in arrays
                if name.startswith(prefix)
            }

        return cls(
            ticker=str(arrays["ticker"]),
            sessions=arrays["sessions"],
            lstm=scored("lstm"),
            published=scored("published"),
            ratios=named("ratio."),
            history=named("history."),
            best_epoch=int(arrays["best_epoch"]),
        )


# the arrays of a `Scored` that `HoldoutPlots` keeps (its metrics follow from them)
_SCORED_ARRAYS = ("current", "forecast", "actual", "scales", "volatility")


def holdout_plots(training: TrainingSet, fitted: Fitted, evaluation: Evaluation) -> HoldoutPlots:
    """The day's holdout as its figures show it."""
    scored = evaluation.scored
    return HoldoutPlots(
        ticker=training.ticker,
        sessions=training.prices["session"].to_numpy()[fitted.split.holdout],
        lstm=scored["lstm"],
        published=evaluation.published,
        ratios={
            name: [m["rmse_ratio"] for m in entry.metrics]
            for name, entry in scored.items()
            if name not in INTERVAL_MODELS  # naive's points, every one
        },
        history=fitted.trained.history,
        best_epoch=fitted.trained.best_epoch,
    )


def holdout_figures(holdout: HoldoutPlots) -> dict[str, Figure]:
    """The daily run's holdout figures, by artifact path; the training curves only when
    the LSTM trained that evening (a reused or global network has none).

    Args:
        holdout: what they are drawn from (the day's, or a run's saved `HoldoutPlots`).

    Returns:
        Each figure by its path under the run's artifacts.
    """
    ticker, sessions = holdout.ticker, holdout.sessions
    horizons = [f"h={h}" for h in range(1, holdout.lstm.forecast.shape[1] + 1)]
    figures = {
        "plots/holdout_lstm.png": plots.forecast_bands(f"{ticker} holdout", sessions, holdout.lstm),
        "plots/holdout_published.png": plots.forecast_bands(
            f"{ticker} holdout, published", sessions, holdout.published
        ),
        "plots/coverage_by_horizon.png": plots.coverage_by_horizon(ticker, holdout.published),
        "plots/residuals.png": plots.residual_histogram(ticker, holdout.lstm),
        "plots/rmse_ratio_by_horizon.png": plots.ratio_bars(
            f"{ticker}: holdout RMSE ratio by horizon", holdout.ratios, horizons
        ),
    }
    if holdout.history["loss"]:
        figures["plots/training_curves.png"] = plots.training_curves(
            ticker, holdout.history, holdout.best_epoch
        )
    return figures


def evaluation(holdout: HoldoutPlots, evaluation: Evaluation, seconds: float) -> Record:
    """Every candidate's holdout metrics, the headlines, the gate's decision, and the
    holdout's figures when a reviewer will look at them (`reviewed`)."""
    scored, published = evaluation.scored, holdout.published
    decision = evaluation.decision
    return Record(
        metrics={
            **headline_metrics(scored, published),
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
            "published_model": str(decision.published),
            "gate": decision.reason,
            "interval_model": evaluation.intervals.model,
            "interval_gate": evaluation.intervals.reason,
        },
        figures=holdout_figures(holdout) if reviewed(holdout.ticker, decision.published) else {},
        tables={HOLDOUT_TABLE: evaluation.metrics_table()},
    )


def lstm_tags(training: TrainingSet, fitted: Fitted) -> dict[str, str]:
    """The tags of the day's logged LSTM: whose it is, as of when, and how it was
    trained; the next evening's retrain plan reads them (`ModelStore.latest_network`)."""
    return {
        "ticker": training.ticker,
        "as_of": training.as_of.isoformat(),
        "full_as_of": fitted.plan.full_as_of.isoformat(),
        "training": str(fitted.plan.training),
    }


def lstm_metrics(evaluation: Evaluation) -> dict[str, float]:
    """The logged LSTM's holdout headlines, which its LoggedModel page shows (and its
    run, which MLflow logs them to as well): the RMSE ratio per horizon as
    `rmse_ratio_h<h>`, and one session ahead its Diebold-Mariano p-value and its own
    intervals' coverage and interval scores; the rest is in the run's table."""
    rows = evaluation.scored["lstm"].metrics
    metrics = {f"rmse_ratio_h{h + 1}": row["rmse_ratio"] for h, row in enumerate(rows)}
    one_step = ("dm_pvalue", *INTERVAL_METRICS)
    return metrics | {f"{metric}_h1": rows[0][metric] for metric in one_step}


# Sessions of history the published forecast's fan chart shows before it.
FAN_SESSIONS = 120


def publication(
    publication: Publication, model_id: str, registered_version: str | None, training: TrainingSet
) -> Record:
    """The run's description (the forecast and why), the LSTM it logged, the version it
    registered, if it registered one, and the published forecast's fan chart (drawn for
    every run, naive or not: it is what a reviewer opens first)."""
    registered = {"registered_version": registered_version} if registered_version else {}
    recent = training.prices.tail(FAN_SESSIONS)
    last = training.prices.iloc[-1]
    # the adjusted closes in the as_of session's own units, as the forecast is
    closes = recent["adjusted_close"].to_numpy() * (last["close"] / last["adjusted_close"])
    published = publication.published
    fan = plots.forecast_fan(
        f"{training.ticker}: {published.model} forecast as of {published.as_of}, "
        f"intervals of {published.interval_model}",
        recent["session"].to_numpy(),
        closes,
        publication.frame,
    )
    return Record(
        tags={"mlflow.note.content": publication.report, "lstm_model_id": model_id, **registered},
        figures={"plots/forecast.png": fan},
    )


def registered_description(training: TrainingSet, evaluation: Evaluation, promoted: bool) -> str:
    """Why a registered version was registered, with the figures: its registry page."""
    lstm, decision = evaluation.scored["lstm"].metrics[0], evaluation.decision
    what = "promoted to champion" if promoted else "published, not promoted"
    return (
        f"{training.ticker} LSTM trained as of {training.as_of}, {what}: {decision.reason}. "
        f"Holdout one session ahead: rmse_ratio {lstm['rmse_ratio']:.3f} "
        f"(Diebold-Mariano p {lstm['dm_pvalue']:.2g}). Served with the intervals of "
        f"{evaluation.intervals.model}: {evaluation.intervals.reason}."
    )


def registered_tags(training: TrainingSet, evaluation: Evaluation) -> dict[str, str]:
    """What a reviewer filters registered versions by."""
    return {
        "ticker": training.ticker,
        "as_of": training.as_of.isoformat(),
        "interval_model": "lstm" if evaluation.intervals.own else evaluation.intervals.model,
        "data_sha256": training.data_sha256,
        "rmse_ratio_h1": f"{evaluation.scored['lstm'].metrics[0]['rmse_ratio']:.4f}",
    }


def live_track_record(track: TrackRecord) -> Record:
    """The live track record on the ticker's run: the published record one session ahead
    over the last 60 and since inception, and the LSTM's shadow record
    (`live_<model>_<metric>_h1_<window>`); every model, horizon and window in its table;
    and its plot when a reviewer will look at it (`reviewed`: its latest publication,
    its alarm); else `plots.track_record` draws it on demand from the stored scores
    (`stored_track_record(...).recent`)."""
    shown = {(PUBLISHED, window): LIVE_PUBLISHED for window in LIVE_WINDOWS}
    shown[("lstm", str(ALARM_WINDOW))] = LIVE_LSTM
    metrics = {
        f"live_{r.model}_{metric}_h1_{r.window}": float(getattr(r, metric))
        for r in track.rows
        if r.horizon == 1 and (r.model, r.window) in shown
        for metric in shown[(r.model, r.window)]
    }
    drawn = len(track.recent) and reviewed(
        track.ticker, track.recent["model"].iloc[-1], alarm=track.alarm is not None
    )
    figures = (
        {"plots/track_record.png": plots.track_record(track.ticker, track.recent)} if drawn else {}
    )
    return Record(
        metrics={name: value for name, value in metrics.items() if math.isfinite(value)},
        tags={"live_alarm": track.alarm.message()} if track.alarm else {},
        figures=figures,
        tables={LIVE_TABLE: pd.DataFrame([asdict(row) for row in track.rows])}
        if track.rows
        else {},
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
    return Record(
        metrics=headline_metrics(pooled, pooled["published"]),
        figures=figures,
        tables={BACKTEST_TABLE: pd.DataFrame(backtest.rows())},
    )


def flow_run(rows: list[SummaryRow]) -> Record:
    """A flow run's parent run as it closes: tickers published and failed, the summary."""
    published = sum(row.published for row in rows)
    return Record(
        metrics={"tickers_published": published, "tickers_failed": len(rows) - published},
        tags={"mlflow.note.content": run_summary.markdown(rows)},
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
