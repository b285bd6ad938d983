"""What a run publishes: the point gate's choice with the interval gate's intervals,
recalibrated on the newest residuals, as forecast rows in the as_of session's units,
with the report a reviewer reads; and for the ledger, every candidate's forecast made
the same way (its shadows), so that each earns a live record whether published or not."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tickercast.champion import Champion, Choice, Evaluation
from tickercast.fitting import Candidate, Fitted, recalibrated
from tickercast.forecast import (
    BOUND_COLUMNS,
    Published,
    forecast_frame,
    forecast_latest,
    forecast_markdown,
)
from tickercast.windows import TrainingSet


@dataclass(frozen=True)
class Publication:
    """A forecast ready to be written.

    Attributes:
        published: its headline (horizon 1), where it is and how it was chosen.
        frame: one row per horizon, `FORECAST_SCHEMA`'s columns.
        report: markdown for the run's description and the Prefect artifact.
        ledger: the rows the ledger keeps: `frame` (`shadow` False) and every
            candidate's own forecast (`shadow` True, `model` naming it).
    """

    published: Published
    frame: pd.DataFrame
    report: str
    ledger: pd.DataFrame

    def summary(self) -> str:
        """One line for the run's log."""
        p = self.published
        version = f" v{p.model_version}" if p.model_version else ""
        return (
            f"{p.ticker}: published {p.model}{version} forecast {p.forecast:.2f} "
            f"[{p.lower_80:.2f}, {p.upper_80:.2f}] ({p.interval_model}'s intervals) for "
            f"{p.target_date} (close {p.last_close:.2f} on {p.as_of})"
        )


def registered_lstm(training: TrainingSet, fitted: Fitted) -> Candidate:
    """Today's LSTM as it is registered (and published, if chosen): its intervals
    recalibrated on every origin no model was fitted on, the most recent included."""
    return recalibrated(fitted.candidates["lstm"], training.prices, fitted.split, training.spec)


def publication(
    training: TrainingSet,
    fitted: Fitted,
    evaluation: Evaluation,
    champion: Champion | None,
    lstm: Candidate,
    lstm_version: str | None,
    run_id: str,
    run_url: str,
    path: Path,
    calendar: str,
    alarm: str | None = None,
) -> Publication:
    """The forecast of the candidate the gate chose, made from the latest session.

    Args:
        training: the history and split the run used.
        fitted: today's candidates.
        evaluation: the holdout scores and the gate's decision.
        champion: the registered champion, when one was compared.
        lstm: `registered_lstm(training, fitted)`.
        lstm_version: its registered model version, if it was registered.
        run_id: the ticker's MLflow run.
        run_url: where a reviewer opens that run.
        path: where the forecast file is written.
        calendar: the ticker's exchange calendar, for the target sessions.
        alarm: the track record's calibration alarm, if one is raised today.

    Returns:
        The publication.
    """
    decision = evaluation.decision
    # every candidate as it would be published: intervals on the latest residuals too
    candidates = {
        name: recalibrated(candidate, training.prices, fitted.split, training.spec)
        for name, candidate in fitted.candidates.items()
        if name != "lstm"
    } | {"lstm": lstm}
    versions = {"lstm": lstm_version}
    if "champion" in evaluation.scored:
        candidates["champion"] = recalibrated(
            champion.candidate, training.prices, fitted.split, training.spec
        )
        versions["champion"] = champion.version
    frames = {
        name: forecast_frame(
            training.ticker,
            training.prices,
            forecast_latest(candidate, training.prices, training.spec),
            calendar,
            name,
            versions.get(name),
            "shadow",
            run_id,
            training.data_sha256,
        )
        for name, candidate in candidates.items()
    }
    chosen = str(decision.published)  # the Choice values name the candidates
    model, version = ("lstm" if chosen == Choice.CHAMPION else chosen), versions.get(chosen)
    intervals = evaluation.intervals
    frame = with_intervals(frames[chosen], None if intervals.own else frames[intervals.model])
    frame = frame.assign(
        model=model,
        reason=decision.reason,
        interval_model=model if intervals.own else intervals.model,
        interval_reason=intervals.reason,
    )
    ledger = pd.concat(
        [frame.assign(shadow=False), *(shadow.assign(shadow=True) for shadow in frames.values())],
        ignore_index=True,
    )
    first = frame.iloc[0]
    published = Published(
        ticker=training.ticker,
        as_of=first["as_of"],
        target_date=first["target_date"],
        last_close=float(first["last_close"]),
        forecast=float(first["forecast"]),
        lower_80=float(first["lower_80"]),
        upper_80=float(first["upper_80"]),
        model=model,
        model_version=version,
        reason=decision.reason,
        interval_model=str(first["interval_model"]),
        interval_reason=intervals.reason,
        rmse_ratio=evaluation.scored[chosen].metrics[0]["rmse_ratio"],
        mlflow_run_id=run_id,
        mlflow_run_url=run_url,
        path=str(path),
        calibration_alarm=alarm,
    )
    report = forecast_markdown(published, frame, evaluation.metrics_table())
    return Publication(published, frame, report, ledger)


def with_intervals(point: pd.DataFrame, intervals: pd.DataFrame | None) -> pd.DataFrame:
    """A forecast's rows with another candidate's intervals, moved onto its forecast
    (the same ratios to the forecast: the same offsets in log returns).

    Args:
        point: the published candidate's rows.
        intervals: the interval candidate's rows (same as_of and horizons); None keeps
            the point's own intervals.

    Returns:
        The rows with the new bounds.
    """
    if intervals is None:
        return point
    ratios = intervals[BOUND_COLUMNS].to_numpy() / intervals[["forecast"]].to_numpy()
    bounds = point[["forecast"]].to_numpy() * ratios  # (H, 4)
    return point.assign(**dict(zip(BOUND_COLUMNS, bounds.T, strict=True)))
