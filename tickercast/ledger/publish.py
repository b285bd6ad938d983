"""What a run publishes: the point gate's choice with the interval gate's intervals,
recalibrated on the newest residuals, as forecast rows in the as_of session's units,
with the report a reviewer reads; and for the ledger, every candidate's forecast made
the same way (its shadows), so that each earns a live record whether published or not."""

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from tickercast.data.windows import TrainingSet
from tickercast.evaluation.champion import Champion, Choice, Evaluation
from tickercast.ledger.forecasts import Published, forecast_frame, forecast_markdown
from tickercast.models.fitting import Candidate, Fitted, recalibrated
from tickercast.models.prediction import forecast_latest, with_intervals
from tickercast.models.saved_candidate import PublishedIntervals, SavedCandidate


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

    def table(self) -> list[dict[str, object]]:
        """The forecast as the Prefect table artifact shows it: one row per horizon,
        prices in cents, the narrow columns first (forecast, intervals, model, why in a
        few words); the full reasons are in the description and the forecast file."""
        p = self.published
        model = p.model + (f" v{p.model_version}" if p.model_version else "")
        return [
            {
                "h": int(row.horizon),
                "session": str(row.target_date),
                "forecast": f"{row.forecast:.2f}",
                "80 % interval": f"{row.lower_80:.2f} – {row.upper_80:.2f}",
                "95 % interval": f"{row.lower_95:.2f} – {row.upper_95:.2f}",
                "model": model,
                "intervals": p.interval_model,
                "why": p.why,
            }
            for row in self.frame.itertuples()
        ]

    def summary(self) -> str:
        """One line for the run's log."""
        p = self.published
        version = f" v{p.model_version}" if p.model_version else ""
        return (
            f"{p.ticker}: published {p.model}{version} forecast {p.forecast:.2f} "
            f"[{p.lower_80:.2f}, {p.upper_80:.2f}] ({p.interval_model}'s intervals) for "
            f"{p.target_date} (close {p.last_close:.2f} on {p.as_of})"
        )


def published_candidates(
    training: TrainingSet, fitted: Fitted, evaluation: Evaluation, champion: Champion | None
) -> dict[str, Candidate]:
    """Every candidate as it would be published: its intervals recalibrated on every
    origin no model was fitted on, the most recent included; the champion's too, when
    the evaluation compared it.

    Args:
        training: the history and split the run used.
        fitted: today's candidates.
        evaluation: the holdout scores (whether the champion was compared).
        champion: the registered champion, if any.

    Returns:
        The candidates by name.
    """
    candidates = dict(fitted.candidates)
    if "champion" in evaluation.scored:
        candidates["champion"] = champion.candidate
    return {
        name: recalibrated(candidate, training.history, fitted.split, training.spec)
        for name, candidate in candidates.items()
    }


def saved_lstm(
    training: TrainingSet, candidates: dict[str, Candidate], evaluation: Evaluation
) -> SavedCandidate:
    """Today's LSTM as it is logged (and registered, if it earns it): with the intervals
    the interval gate chose, frozen as of the session, so that the served model answers
    with the published bounds."""
    intervals = evaluation.intervals
    if intervals.own:
        return SavedCandidate(candidates["lstm"])
    chosen = candidates[intervals.model]
    frozen = replace(chosen, volatility=chosen.volatility.frozen(training.history))
    return SavedCandidate(
        candidates["lstm"], PublishedIntervals(intervals.model, training.as_of, frozen)
    )


def publication(
    training: TrainingSet,
    candidates: dict[str, Candidate],
    evaluation: Evaluation,
    versions: dict[str, str | None],
    run_id: str,
    run_url: str,
    path: Path,
    calendar: str,
    alarm: str | None = None,
) -> Publication:
    """The forecast of the candidate the gate chose, made from the latest session.

    Args:
        training: the history and split the run used.
        candidates: every candidate as published (`published_candidates`).
        evaluation: the holdout scores and the gates' decisions.
        versions: the registered version of `lstm` (if it was registered) and of
            `champion` (if it was compared).
        run_id: the ticker's MLflow run.
        run_url: where a reviewer opens that run.
        path: where the forecast file is written.
        calendar: the ticker's exchange calendar, for the target sessions.
        alarm: the track record's calibration alarm, if one is raised today.

    Returns:
        The publication.
    """
    decision = evaluation.decision
    frames = {
        name: forecast_frame(
            training.ticker,
            training.prices,
            forecast_latest(candidate, training.history, training.spec),
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
        why=decision.why,
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
