"""The daily bar's volatility signal: the overnight gap and the day's range.

A close-to-close return is one noisy draw of the day's variance; the bar holds two
more: how far the price jumped overnight (the open against yesterday's close) and how
far it ranged within the day (high, low, open, close: Garman and Klass 1980). Their
sum, the *range measure*

    rm[t] = gap[t]**2 + gk[t],
    gap[t] = log(open[t] / close[t-1]),
    gk[t] = 0.5 * log(high[t] / low[t])**2 - (2 log 2 - 1) * log(close[t] / open[t])**2,

estimates the variance of ret[t] = log(close[t] / close[t-1]) with several times less
noise than ret[t]**2. Prices are adjusted as the adjusted close is: the open, high and
low of a session are scaled by its adjusted_close / close, so a split or a dividend
between two sessions is no overnight gap. gk[t] >= 0 whenever open and close lie
within [low, high].

Where a session's bar cannot be read, its range measure is ret[t]**2, the close-only
estimate of the same variance: the open, high or low missing, a bar with no range
(high == low), or a stale bar (open, high, low, close and volume all those of the
session before: a feed that repeated yesterday). A bar whose high or low does not
bracket its open and close is repaired: the high is taken as max(open, high, close)
and the low as min(open, low, close). `tickercast.data.quality` reports the same sessions.

As elsewhere, positions are sessions and session t's measure is known at its close.
"""

import numpy as np
import pandas as pd

# Garman-Klass's weight of the squared open-to-close move
_GK_CLOSE_WEIGHT = 2 * np.log(2) - 1
# A ticker whose last `BAR_SESSIONS` have a readable bar on fewer than this share of
# them is forecast with the close-only models: a range model fitted mostly on ret**2 is
# a GARCH with one more parameter to estimate, not a range model.
MIN_BAR_SHARE = 0.9
# the sessions a range model's fit window holds (`Garch.window`, `LogHar.window`)
BAR_SESSIONS = 1000


def stale_bars(prices: pd.DataFrame) -> np.ndarray:
    """(N,) whether a session repeats the one before: open, high, low, close and volume
    (or its absence) all equal, as a feed that re-sent yesterday's bar."""
    bar = prices[["open", "high", "low", "close"]].to_numpy("float64")
    volume = prices["volume"].to_numpy("float64", na_value=np.nan)
    stale = np.zeros(len(prices), dtype=bool)
    stale[1:] = (bar[1:] == bar[:-1]).all(axis=1) & (
        (volume[1:] == volume[:-1]) | (np.isnan(volume[1:]) & np.isnan(volume[:-1]))
    )
    return stale


def unreadable_bars(prices: pd.DataFrame) -> np.ndarray:
    """(N,) whether each session's bar is missing, has no range or is stale.

    Args:
        prices: canonical prices (open, high, low may be NaN).
    """
    bar = prices[["open", "high", "low", "close"]].to_numpy("float64")
    missing = ~np.isfinite(bar).all(axis=1) | (bar <= 0).any(axis=1)
    no_range = bar[:, 1] == bar[:, 2]
    return missing | no_range | stale_bars(prices)


def inconsistent_bars(prices: pd.DataFrame, tolerance: float = 1e-6) -> np.ndarray:
    """(N,) whether the high or low fails to bracket the open and close (by more than
    `tolerance`, relative): the sessions `range_measure` repairs."""
    body_high = prices[["open", "close"]].max(axis=1)
    body_low = prices[["open", "close"]].min(axis=1)
    slack = 1 + tolerance
    return ((prices["high"] * slack < body_high) | (prices["low"] > body_low * slack)).to_numpy()


def overnight_gap(prices: pd.DataFrame) -> np.ndarray:
    """(N,) gap[t] = log(open[t] / close[t-1]), both adjusted; NaN at position 0 and
    where the open is missing."""
    adjusted = prices["adjusted_close"].to_numpy("float64")
    factor = adjusted / prices["close"].to_numpy("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        adjusted_open = np.log(prices["open"].to_numpy("float64") * factor)
        return adjusted_open - np.log(np.concatenate([[np.nan], adjusted[:-1]]))


def range_measure(prices: pd.DataFrame) -> np.ndarray:
    """(N,) the range measure rm[t] of each session (NaN at position 0, which has no
    close before it), in squared log-return units.

    Args:
        prices: canonical prices.
    """
    close = prices["close"].to_numpy("float64")
    open_ = prices["open"].to_numpy("float64")
    high = np.fmax(prices["high"].to_numpy("float64"), np.fmax(open_, close))
    low = np.fmin(prices["low"].to_numpy("float64"), np.fmin(open_, close))
    returns = np.diff(np.log(prices["adjusted_close"].to_numpy("float64")), prepend=np.nan)
    gap = overnight_gap(prices)  # the high, low, open and close of a day share one factor
    with np.errstate(invalid="ignore", divide="ignore"):
        gk = 0.5 * np.log(high / low) ** 2 - _GK_CLOSE_WEIGHT * np.log(close / open_) ** 2
    measure = gap**2 + gk
    unreadable = unreadable_bars(prices) | ~np.isfinite(measure)
    return np.where(unreadable, returns**2, measure)


def bar_share(prices: pd.DataFrame, sessions: int = BAR_SESSIONS) -> float:
    """The share of the last `sessions` sessions whose bar is readable (0 to 1)."""
    recent = prices.iloc[-sessions:]
    return float(1 - unreadable_bars(recent).mean()) if len(recent) else 0.0


def has_bar(prices: pd.DataFrame) -> bool:
    """Whether the range models may be fitted: enough of the last `BAR_SESSIONS` have a
    readable bar."""
    return bar_share(prices) >= MIN_BAR_SHARE
