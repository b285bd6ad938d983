"""The published forecast: the next H sessions' closes with their intervals, as the
forecast file's rows, its record, and its Markdown artifact."""

from dataclasses import dataclass
from datetime import date

import pandas as pd

from tickercast.data.calendar import sessions_after
from tickercast.data.storage import FORECAST_SCHEMA
from tickercast.models.candidates import INTERVAL_MODELS
from tickercast.models.prediction import in_as_of_units


def forecast_frame(
    ticker: str,
    prices: pd.DataFrame,
    latest: pd.DataFrame,
    calendar: str,
    model: str,
    model_version: str | None,
    reason: str,
    run_id: str,
    data_sha256: str,
) -> pd.DataFrame:
    """The forecast as rows of `FORECAST_SCHEMA`, one per horizon, in the as_of units
    (`in_as_of_units`).

    Args:
        ticker: the symbol.
        prices: the history the forecast was made from (the last row is as_of).
        latest: `forecast_latest`'s rows.
        calendar: exchange calendar code, for the target sessions.
        model: the candidate (`lstm`, `naive`, ...), whose intervals these are too.
        model_version: the registered version behind it (None for naive).
        reason: why the gate published this model (and its intervals).
        run_id: the MLflow run that trained and evaluated it.
        data_sha256: hash of the history it was made from.

    Returns:
        A frame whose columns are `FORECAST_SCHEMA.names`.
    """
    as_of = prices["session"].iloc[-1].date()
    frame = pd.DataFrame(
        {
            "ticker": ticker,
            "as_of": as_of,
            "target_date": sessions_after(as_of, len(latest), calendar),
            **in_as_of_units(latest, prices).to_dict("series"),
            "model": model,
            "model_version": model_version,
            "reason": reason,
            "interval_model": model,
            "interval_reason": reason,
            "mlflow_run_id": run_id,
            "data_sha256": data_sha256,
        }
    )
    return frame[FORECAST_SCHEMA.names]


@dataclass(frozen=True)
class Published:
    """A forecast as published, with where to find it and how it was chosen."""

    ticker: str
    as_of: date
    target_date: date
    last_close: float
    forecast: float
    lower_80: float
    upper_80: float
    model: str
    model_version: str | None
    reason: str
    interval_model: str
    interval_reason: str
    # the gate's reason in a few words, for narrow tables
    why: str
    rmse_ratio: float
    mlflow_run_id: str
    mlflow_run_url: str
    path: str
    # the live track record's calibration alarm, when today's scoring raised one
    calibration_alarm: str | None = None


def forecast_markdown(published: Published, frame: pd.DataFrame, metrics: pd.DataFrame) -> str:
    """The run report a reviewer reads in Prefect: forecasts, the gate's choice, metrics.

    Args:
        published: the headline (horizon 1) of the published forecast.
        frame: every horizon's forecast row.
        metrics: holdout metrics, one row per candidate and horizon.

    Returns:
        Markdown text.
    """
    forecasts = "\n".join(
        f"| {row.horizon} | {row.target_date} | {row.forecast:.2f} | "
        f"{row.lower_80:.2f} – {row.upper_80:.2f} | {row.lower_95:.2f} – {row.upper_95:.2f} |"
        for row in frame.itertuples()
    )
    table = metrics[metrics["horizon"] == 1].drop(columns="horizon")
    scores = "\n".join(
        f"| {row.model} | {row.rmse_ratio:.3f} | {row.mase:.3f} | {row.directional_accuracy:.3f} |"
        for row in table.itertuples()
        if row.model not in INTERVAL_MODELS
    )
    intervals = "\n".join(
        f"| {row.model} | {row.coverage_80:.2f} ({row.kupiec_p_80:.2g}) | "
        f"{row.coverage_95:.2f} ({row.kupiec_p_95:.2g}) | {row.christoffersen_p_95:.2g} | "
        f"{row.interval_score_80:.2f} | {row.interval_score_95:.2f} |"
        for row in table.itertuples()
    )
    version = f" version {published.model_version}" if published.model_version else ""
    short = f" v{published.model_version}" if published.model_version else ""
    alarm = f"**Alarm**: {published.calibration_alarm}\n\n" if published.calibration_alarm else ""
    # the first line is what MLflow's runs list and run page show of the description
    return (
        f"# {published.ticker} {published.target_date}: {published.forecast:.2f}, 80 % "
        f"{published.lower_80:.2f} – {published.upper_80:.2f} ({published.model}{short})\n\n"
        f"{alarm}Forecast as of {published.as_of} for the next session, {published.target_date}. "
        f"Published model: **{published.model}**{version}, because {published.reason}.\n\n"
        f"Intervals of **{published.interval_model}**, because {published.interval_reason}.\n\n"
        f"Close on {published.as_of}: **{published.last_close:.2f}**.\n\n"
        "| h | session | forecast | 80 % interval | 95 % interval |\n|---|---|---|---|---|\n"
        f"{forecasts}\n\n"
        "Holdout, horizon 1 (RMSE ratio below 1 beats naive):\n\n"
        "| model | rmse_ratio | mase | directional accuracy |\n"
        f"|---|---|---|---|\n{scores}\n\n"
        "Holdout intervals, horizon 1 (coverage with Kupiec's p; Christoffersen's p of the "
        "95 % misses; interval score: lower is better):\n\n"
        "| model | coverage 80 | coverage 95 | Christoffersen p 95 | interval score 80 | "
        "interval score 95 |\n"
        f"|---|---|---|---|---|---|\n{intervals}\n\n"
        f"MLflow run: [{published.mlflow_run_id}]({published.mlflow_run_url})  \n"
        f"Forecast file: `{published.path}`\n"
    )
