"""A fitted candidate's forecast of the sessions after the latest: in adjusted units,
in the as_of session's own price units, and with another candidate's intervals."""

import numpy as np
import pandas as pd

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec
from tickercast.models.conformal import LEVELS
from tickercast.models.fitting import Candidate

BOUND_COLUMNS = [f"{side}_{round(level * 100)}" for level in LEVELS for side in ("lower", "upper")]


def forecast_latest(candidate: Candidate, history: History, spec: WindowSpec) -> pd.DataFrame:
    """Forecast the H sessions after the last one in `history`, in its adjusted units.

    Args:
        candidate: forecaster and intervals.
        history: the sessions up to the origin; at least a window long.
        spec: windows (H, volatility lookback).

    Returns:
        One row per horizon: `horizon`, `forecast`, `lower_80`, `upper_80`,
        `lower_95`, `upper_95`.
    """
    origin = np.array([len(history) - 1])
    forecast, bounds = candidate.forecast(history, origin)  # (1, H) log returns
    current = float(history.adjusted[-1])
    rows = {"horizon": np.arange(1, spec.horizons + 1), "forecast": current * np.exp(forecast[0])}
    for level, (lower, upper) in bounds.items():
        rows[f"lower_{round(level * 100)}"] = current * np.exp(lower[0])
        rows[f"upper_{round(level * 100)}"] = current * np.exp(upper[0])
    return pd.DataFrame(rows)


def in_as_of_units(latest: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """`forecast_latest`'s rows in the as_of session's own price units.

    The models forecast adjusted closes; they are reported in the as_of session's
    own price units (close / adjusted close of that day), so that they compare with
    the close a user sees, whatever corporate actions later rescale history. The
    published forecast and the registered model both answer through this function.

    Args:
        latest: `forecast_latest`'s rows.
        prices: the history the forecast was made from (the last row is as_of).

    Returns:
        One row per horizon: `horizon`, `last_close` (the as_of close), `forecast`,
        `lower_80`, `upper_80`, `lower_95`, `upper_95`.
    """
    last_close = float(prices["close"].iloc[-1])
    to_raw = last_close / float(prices["adjusted_close"].iloc[-1])
    return pd.DataFrame(
        {
            "horizon": latest["horizon"].to_numpy(),
            "last_close": last_close,
            **{
                column: latest[column].to_numpy() * to_raw
                for column in ["forecast", *BOUND_COLUMNS]
            },
        }
    )


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
