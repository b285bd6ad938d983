"""Figures for reviewers: forecasts with their intervals, coverage, residuals, ratios."""

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tickercast.evaluation.scores import Scored

# Figures are built as `Figure` objects, not through pyplot: no backend to choose, no
# global figure registry, nothing to close. `figure.savefig` renders them (Agg for PNG).


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A new figure of `width` x `height` inches and its single axis."""
    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def forecast_bands(title: str, sessions: np.ndarray, scored: Scored, horizon: int = 1) -> Figure:
    """Actual closes, one model's h-step forecasts, its 80 % and 95 % intervals, and naive.

    Args:
        title: the figure's title.
        sessions: (n,) the target session of each point.
        scored: the model's scores on those points.
        horizon: which horizon to draw, h.

    Returns:
        The figure (the caller saves it).
    """
    h = horizon - 1
    current = scored.current
    figure, axis = _figure(11, 5)
    for level, alpha in ((0.95, 0.15), (0.8, 0.3)):
        lower, upper = scored.bounds[level]
        axis.fill_between(
            sessions,
            current * np.exp(lower[:, h]),
            current * np.exp(upper[:, h]),
            color="tab:blue",
            alpha=alpha,
            linewidth=0,
            label=f"{level:.0%} interval",
        )
    axis.plot(
        sessions,
        current * np.exp(scored.actual[:, h]),
        color="black",
        linewidth=1.1,
        label="actual",
    )
    axis.plot(
        sessions,
        current * np.exp(scored.forecast[:, h]),
        color="tab:blue",
        linewidth=1.0,
        label=scored.name,
    )
    # dashed and on top: a forecast close to naive's would hide it otherwise
    axis.plot(
        sessions,
        current,
        color="tab:orange",
        linestyle="--",
        linewidth=0.9,
        zorder=3,
        label="naive (close at origin)",
    )
    axis.set_title(f"{title} (h={horizon}, RMSE ratio {scored.metrics[h]['rmse_ratio']:.3f})")
    axis.set_ylabel("adjusted close")
    _legend_outside(axis)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def _legend_outside(axis: Axes) -> None:
    """The legend right of the plot, where it covers no data."""
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def forecast_fan(
    title: str, sessions: np.ndarray, closes: np.ndarray, forecast: pd.DataFrame
) -> Figure:
    """The published forecast after the recent closes: its point and its 80 % and 95 %
    intervals fanning out over the next sessions.

    Args:
        title: the figure's title.
        sessions: (n,) the recent sessions, as_of last.
        closes: (n,) their closes, in the as_of session's units (as the forecast).
        forecast: the published rows (`target_date`, `forecast`, `lower_80`, ...).

    Returns:
        The figure (the caller saves it).
    """
    figure, axis = _figure(11, 5)
    targets = np.concatenate([sessions[-1:], pd.to_datetime(forecast["target_date"]).to_numpy()])

    def ahead(column: str) -> np.ndarray:  # from the last close, so that the fan opens there
        return np.concatenate([closes[-1:], forecast[column].to_numpy()])

    for level, alpha in ((95, 0.15), (80, 0.3)):
        axis.fill_between(
            targets,
            ahead(f"lower_{level}"),
            ahead(f"upper_{level}"),
            color="tab:blue",
            alpha=alpha,
            linewidth=0,
            label=f"{level} % interval",
        )
    axis.plot(sessions, closes, color="black", linewidth=1.1, label="close")
    axis.plot(
        targets, ahead("forecast"), color="tab:blue", marker="o", markersize=3, label="forecast"
    )
    axis.set_title(title)
    axis.set_ylabel("close, in the as_of session's units")
    _legend_outside(axis)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def coverage_by_horizon(title: str, scored: Scored) -> Figure:
    """Empirical coverage of the 80 % and 95 % intervals per horizon, with the nominal."""
    figure, axis = _figure(7, 4)
    horizons = np.arange(1, len(scored.metrics) + 1)
    for offset, level in ((-0.15, 80), (0.15, 95)):
        axis.bar(
            horizons + offset,
            [m[f"coverage_{level}"] for m in scored.metrics],
            width=0.3,
            label=f"{level} % interval",
        )
        axis.axhline(level / 100, color="tab:gray", linestyle="--", linewidth=0.8)
    axis.set_ylim(0, 1)
    axis.set_xlabel("horizon (sessions ahead)")
    axis.set_ylabel("share of actuals inside")
    axis.set_title(f"{title}: coverage of {scored.name}'s intervals")
    _legend_outside(axis)
    figure.tight_layout()
    return figure


def residual_histogram(title: str, scored: Scored, horizon: int = 1) -> Figure:
    """Distribution of log(actual / forecast) at one horizon."""
    h = horizon - 1
    figure, axis = _figure(7, 4)
    axis.hist(scored.actual[:, h] - scored.forecast[:, h], bins=40, color="tab:blue", alpha=0.8)
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel(f"log(actual / forecast), h={horizon}")
    axis.set_ylabel("count")
    axis.set_title(f"{title}: residuals of {scored.name}")
    figure.tight_layout()
    return figure


def ratio_bars(title: str, ratios: dict[str, list[float]], labels: list[str]) -> Figure:
    """RMSE ratio against naive per group (horizon or fold) for each model; 1 is naive.

    Bars start at 1 and the axis is centred on it: the ratios differ from naive by a few
    percent, which bars from 0 would show as the same height.
    """
    figure, axis = _figure(10, 4)
    width = 0.8 / len(ratios)
    positions = np.arange(len(labels))
    for index, (name, values) in enumerate(ratios.items()):
        heights = np.asarray(values, dtype="float64") - 1.0
        axis.bar(positions + index * width, heights, width=width, bottom=1.0, label=name)
    finite = np.abs(np.concatenate([np.asarray(v, dtype="float64") for v in ratios.values()]) - 1)
    reach = 1.15 * max(float(np.nanmax(finite)) if np.isfinite(finite).any() else 0.0, 0.01)
    axis.set_ylim(1 - reach, 1 + reach)
    axis.axhline(1.0, color="black", linewidth=0.8)
    axis.set_xticks(positions + width * (len(ratios) - 1) / 2, labels)
    axis.set_ylabel("RMSE / naive RMSE (below 1 beats naive)")
    axis.set_title(title)
    _legend_outside(axis)
    figure.tight_layout()
    return figure


def training_curves(ticker: str, history: dict[str, list[float]], best_epoch: int) -> Figure:
    """Per-epoch training and validation loss, with the kept epoch marked.

    Args:
        ticker: for the title.
        history: `loss` and `val_loss` per epoch.
        best_epoch: 1-based epoch whose weights were kept.

    Returns:
        The figure (the caller saves it).
    """
    figure, axis = _figure(7, 4)
    epochs = np.arange(1, len(history["loss"]) + 1)
    axis.plot(epochs, history["loss"], marker="o", label="train loss")
    axis.plot(epochs, history["val_loss"], marker="o", label="validation loss")
    axis.axvline(best_epoch, color="tab:gray", linestyle="--", label=f"kept epoch {best_epoch}")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("MSE (scaled)")
    axis.set_title(f"{ticker}: training curves")
    _legend_outside(axis)
    figure.tight_layout()
    return figure


def track_record(ticker: str, recent: pd.DataFrame, rolling: int = 20) -> Figure:
    """The last published forecasts one session ahead, their intervals and the realized
    closes (top), and the intervals' coverage over a rolling window (bottom).

    Args:
        ticker: the symbol, for the title.
        recent: scored forecasts (`SCORE_SCHEMA` rows), oldest first.
        rolling: forecasts per coverage window.

    Returns:
        The figure (the caller saves it).
    """
    figure = Figure(figsize=(11, 7))
    prices, coverage = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    sessions = pd.to_datetime(recent["target_date"]).to_numpy()
    for level, alpha in ((95, 0.15), (80, 0.3)):
        prices.fill_between(
            sessions,
            recent[f"lower_{level}"],
            recent[f"upper_{level}"],
            step="mid",
            color="tab:blue",
            alpha=alpha,
            linewidth=0,
            label=f"{level} % interval",
        )
    prices.plot(sessions, recent["forecast"], color="tab:blue", linewidth=1.0, label="forecast")
    prices.plot(sessions, recent["realized_close"], color="black", linewidth=1.1, label="realized")
    prices.set_title(f"{ticker}: the last {len(recent)} published forecasts, one session ahead")
    prices.set_ylabel("close, in each as_of's units")
    _legend_outside(prices)
    for level, color in ((80, "tab:blue"), (95, "tab:green")):
        held = recent[f"inside_{level}"].astype(float).rolling(rolling, min_periods=rolling).mean()
        coverage.plot(sessions, held, color=color, label=f"{level} % interval")
        coverage.axhline(level / 100, color=color, linestyle="--", linewidth=0.8)
    coverage.set_ylabel(f"coverage, last {rolling}")
    coverage.set_ylim(0, 1.05)
    _legend_outside(coverage)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
