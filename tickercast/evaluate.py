"""Scoring candidates on origins with known targets: metrics per horizon, coverage."""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tickercast.fitting import Candidate
from tickercast.metrics import horizon_metrics
from tickercast.windows import WindowSpec, cumulative_log_returns, realized_volatility


@dataclass(frozen=True)
class Scored:
    """One candidate's forecasts on some origins, and how good they were.

    Attributes:
        name: the candidate (`lstm`, `naive`, `drift`, `ar`, `champion`, `published`).
        current: (n,) adjusted close at each origin.
        forecast: (n, H) forecast cumulative log returns.
        actual: (n, H) realised cumulative log returns.
        bounds: `{level: (lower, upper)}`, (n, H) each, in log returns.
        scales: (n, H) MASE denominator of each point: the mean absolute h-session
            log return of its fold's fit origins.
        metrics: one dict per horizon (see `horizon_metrics`), with `mase`,
            `coverage_80` and `coverage_95`.
    """

    name: str
    current: np.ndarray
    forecast: np.ndarray
    actual: np.ndarray
    bounds: dict[float, tuple[np.ndarray, np.ndarray]]
    scales: np.ndarray
    metrics: list[dict[str, float]]

    @property
    def mean_rmse_ratio(self) -> float:
        """RMSE over naive, averaged over horizons: the gate's score (below 1 beats naive)."""
        return float(np.mean([m["rmse_ratio"] for m in self.metrics]))

    @classmethod
    def build(cls, name, current, forecast, actual, bounds, scales) -> "Scored":
        """Compute the metrics of forecasts against what happened, per horizon."""
        metrics = []
        for h in range(forecast.shape[1]):
            row = horizon_metrics(
                current * np.exp(actual[:, h]), current * np.exp(forecast[:, h]), current, h + 1
            )
            # MASE on log returns: scale-free where prices trend over the years
            row["mase"] = float(np.mean(np.abs(actual[:, h] - forecast[:, h]) / scales[:, h]))
            for level, (lower, upper) in bounds.items():
                inside = (actual[:, h] >= lower[:, h]) & (actual[:, h] <= upper[:, h])
                row[f"coverage_{round(level * 100)}"] = float(np.mean(inside))
            metrics.append(row)
        return cls(name, current, forecast, actual, bounds, scales, metrics)

    def renamed(self, name: str) -> "Scored":
        return replace(self, name=name)


def pooled(name: str, parts: list[Scored]) -> Scored:
    """One candidate's scores over several folds, pooled point by point."""
    levels = parts[0].bounds
    return Scored.build(
        name,
        np.concatenate([p.current for p in parts]),
        np.concatenate([p.forecast for p in parts]),
        np.concatenate([p.actual for p in parts]),
        {
            level: tuple(np.concatenate([p.bounds[level][side] for p in parts]) for side in (0, 1))
            for level in levels
        },
        np.concatenate([p.scales for p in parts]),
    )


def mase_scales(prices: pd.DataFrame, fit_origins: np.ndarray, horizons: int) -> np.ndarray:
    """(H,) mean absolute h-session log return over the fit origins (the naive's error)."""
    adjusted = prices["adjusted_close"].to_numpy("float64")
    return np.mean(np.abs(cumulative_log_returns(adjusted, fit_origins, horizons)), axis=0)


def score(
    name: str,
    candidate: Candidate,
    prices: pd.DataFrame,
    origins: np.ndarray,
    spec: WindowSpec,
    scales: np.ndarray,
) -> Scored:
    """Forecast at `origins` with `candidate` and score against what happened.

    Args:
        name: the label to score under.
        candidate: forecaster and intervals.
        prices: a history covering every origin's window and targets.
        origins: positions whose H targets are all in `prices`.
        spec: windows (for H and the volatility lookback).
        scales: (H,) MASE denominators (`mase_scales`).

    Returns:
        The scored forecasts.
    """
    adjusted = prices["adjusted_close"].to_numpy("float64")
    forecast = candidate.forecaster.predict(prices, origins)
    volatility = realized_volatility(adjusted, origins, spec.volatility_lookback)
    return Scored.build(
        name,
        adjusted[origins],
        forecast,
        cumulative_log_returns(adjusted, origins, spec.horizons),
        candidate.conformal.bounds(forecast, volatility),
        np.tile(scales, (len(origins), 1)),
    )
