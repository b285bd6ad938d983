"""Scoring candidates on origins with known targets: point metrics per horizon, and
the intervals' proper scores and calibration tests."""

from dataclasses import dataclass, replace

import numpy as np

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec, realized_volatility
from tickercast.evaluation.metrics import horizon_metrics, interval_metrics, interval_score
from tickercast.models.fitting import Candidate


@dataclass(frozen=True)
class Scored:
    """One candidate's forecasts on some origins, and how good they were.

    Attributes:
        name: the candidate (`POINT_MODELS`, `INTERVAL_MODELS`, `champion`, `published`).
        current: (n,) adjusted close at each origin.
        forecast: (n, H) forecast cumulative log returns.
        actual: (n, H) realised cumulative log returns.
        bounds: `{level: (lower, upper)}`, (n, H) each, in log returns.
        scales: (n, H) MASE denominator of each point: the mean absolute h-session
            log return of its fold's fit origins.
        volatility: (n,) realized volatility at each origin (for coverage by tercile).
        metrics: one dict per horizon (see `horizon_metrics`), with `mase` and each
            level's `interval_metrics` (coverage, interval score, pinball losses,
            Kupiec and Christoffersen p-values, coverage by volatility tercile), in prices.
    """

    name: str
    current: np.ndarray
    forecast: np.ndarray
    actual: np.ndarray
    bounds: dict[float, tuple[np.ndarray, np.ndarray]]
    scales: np.ndarray
    volatility: np.ndarray
    metrics: list[dict[str, float]]

    @property
    def mean_rmse_ratio(self) -> float:
        """RMSE over naive, averaged over horizons: the gate's score (below 1 beats naive)."""
        return float(np.mean([m["rmse_ratio"] for m in self.metrics]))

    @classmethod
    def build(cls, name, current, forecast, actual, bounds, scales, volatility) -> "Scored":
        """Compute the metrics of forecasts against what happened, per horizon."""
        metrics = []
        price_bounds = {
            level: (current[:, None] * np.exp(lower), current[:, None] * np.exp(upper))
            for level, (lower, upper) in bounds.items()
        }
        for h in range(forecast.shape[1]):
            realized = current * np.exp(actual[:, h])
            row = horizon_metrics(realized, current * np.exp(forecast[:, h]), current, h + 1)
            # MASE on log returns: scale-free where prices trend over the years
            row["mase"] = float(np.mean(np.abs(actual[:, h] - forecast[:, h]) / scales[:, h]))
            for level, (lower, upper) in price_bounds.items():
                row |= interval_metrics(realized, lower[:, h], upper[:, h], level, volatility)
            metrics.append(row)
        return cls(name, current, forecast, actual, bounds, scales, volatility, metrics)

    def renamed(self, name: str) -> "Scored":
        return replace(self, name=name)

    def interval_scores(self, level: float) -> np.ndarray:
        """(n, H) each forecast's interval (Winkler) score at `level`, in prices."""
        lower, upper = self.bounds[level]
        realized, current = np.exp(self.actual), self.current[:, None]
        return interval_score(
            current * realized, current * np.exp(lower), current * np.exp(upper), level
        )

    def with_intervals(self, name: str, intervals: "Scored") -> "Scored":
        """These point forecasts with another candidate's intervals, moved from its point
        forecast onto these (the same offsets in log returns) and scored again.

        Args:
            name: the label to score under.
            intervals: another candidate's scores on the same origins.

        Returns:
            The combined scores.
        """
        moved = {
            level: (
                lower - intervals.forecast + self.forecast,
                upper - intervals.forecast + self.forecast,
            )
            for level, (lower, upper) in intervals.bounds.items()
        }
        return Scored.build(
            name, self.current, self.forecast, self.actual, moved, self.scales, self.volatility
        )


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
        np.concatenate([p.volatility for p in parts]),
    )


def mase_scales(history: History, fit_origins: np.ndarray, horizons: int) -> np.ndarray:
    """(H,) mean absolute h-session log return over the fit origins (the naive's error)."""
    return np.mean(np.abs(history.targets(fit_origins, horizons)), axis=0)


def score(
    name: str,
    candidate: Candidate,
    history: History,
    origins: np.ndarray,
    spec: WindowSpec,
    scales: np.ndarray,
) -> Scored:
    """Forecast at `origins` with `candidate` and score against what happened.

    Args:
        name: the label to score under.
        candidate: forecaster and intervals.
        history: a history covering every origin's window and targets.
        origins: positions whose H targets are all in `history`.
        spec: windows (for H and the volatility lookback).
        scales: (H,) MASE denominators (`mase_scales`).

    Returns:
        The scored forecasts.
    """
    forecast, bounds = candidate.forecast(history, origins)
    return Scored.build(
        name,
        history.adjusted[origins],
        forecast,
        history.targets(origins, spec.horizons),
        bounds,
        np.tile(scales, (len(origins), 1)),
        realized_volatility(history.returns, origins, spec.volatility_lookback),
    )
