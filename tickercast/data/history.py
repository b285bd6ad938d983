"""A ticker's sessions as every model reads them, computed once per ticker and evening.

The canonical prices (positions = sessions) become the arrays that the scalers, the
forecasters, the volatility models and the scores share: the log adjusted closes
(whose differences are the targets), the daily log returns, the daily bar's range
measure and overnight gap, and whether the source gives a readable bar at all. Each
is computed here, once, and read downstream, never recomputed from the prices.

Every value at position t depends on the sessions up to t alone, so `until(t)` (a
backtest fold, a replayed evening) is the history of the prices cut after t.
"""

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from tickercast.data.daily_bar import has_bar, overnight_gap, range_measure


def daily_log_returns(adjusted_close: np.ndarray) -> np.ndarray:
    """(N,) ret[t] = log(P[t] / P[t-1]) of the adjusted close; NaN at 0 (no return)."""
    return np.diff(np.log(adjusted_close), prepend=np.nan)


@dataclass(frozen=True, eq=False)
class History:
    """A ticker's canonical prices and what the models read of them.

    Attributes:
        prices: the canonical rows (`session`, `adjusted_close`, `close`, and where the
            source gives them `open`, `high`, `low`, `volume`); positions are sessions,
            origin t knows rows 0..t.
        adjusted: (N,) adjusted closes.
        log_close: (N,) their logs: a target is log_close[t + h] - log_close[t].
        returns: (N,) daily log returns, NaN at 0.

    The daily bar's arrays (`range_measure`, `gap`, `bar`) are computed on first use,
    once: a registered model of format 1 or 2 is served sessions without an open.
    """

    prices: pd.DataFrame
    adjusted: np.ndarray
    log_close: np.ndarray
    returns: np.ndarray
    # the networks' input matrices, by (target, features): made once, read by every
    # scaler call of the evening (fit, calibration, holdout, AR, the variance head)
    _inputs: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, prices: pd.DataFrame) -> "History":
        """The history of canonical `prices` (positions = sessions)."""
        adjusted = prices["adjusted_close"].to_numpy("float64")
        return cls(prices, adjusted, np.log(adjusted), daily_log_returns(adjusted))

    def __len__(self) -> int:
        return len(self.adjusted)

    @property
    def as_of(self) -> pd.Timestamp:
        """The last session."""
        return self.prices["session"].iloc[-1]

    @cached_property
    def range_measure(self) -> np.ndarray:
        """(N,) the daily bar's range measure, squared log-return units
        (`tickercast.data.daily_bar`; the squared return where a bar is unreadable)."""
        return range_measure(self.prices)

    @cached_property
    def gap(self) -> np.ndarray:
        """(N,) the overnight log gap: the open over the previous close, adjusted."""
        return overnight_gap(self.prices)

    @cached_property
    def bar(self) -> bool:
        """Whether the source gives a readable open, high and low on enough recent
        sessions for the models of the daily bar (`daily_bar.has_bar`)."""
        return has_bar(self.prices)

    def until(self, position: int) -> "History":
        """The history as of position `position`: what an origin there knows."""
        end = position + 1
        cut = History(
            self.prices.iloc[:end], self.adjusted[:end], self.log_close[:end], self.returns[:end]
        )
        # the bar's arrays at t read sessions up to t alone: a prefix of them is the cut's
        for name in ("range_measure", "gap"):
            if name in self.__dict__:
                cut.__dict__[name] = self.__dict__[name][:end]
        return cut

    def targets(self, origins: np.ndarray, horizons: int) -> np.ndarray:
        """(n, H) cumulative log returns log(P[t+h] / P[t]), h = 1..H, at `origins`;
        NaN where t+h is past the history."""
        ahead = origins[:, None] + np.arange(1, horizons + 1)[None, :]  # (n, H)
        known = ahead < len(self.log_close)
        targets = np.full(ahead.shape, np.nan)
        start = origins[:, None].repeat(horizons, 1)
        targets[known] = self.log_close[ahead[known]] - self.log_close[start[known]]
        return targets

    def inputs(self, target: str, features: tuple[str, ...]) -> np.ndarray:
        """(N, F) unscaled per-session network inputs; row 0 has no return and holds zeros.

        Args:
            target: `price` (the adjusted close alone, whatever `features` says) or
                `returns` (the named features: `WindowSpec.features`).
            features: per-session inputs: `return`, `volume_change`, `range`, `gap`,
                `range_volatility`.
        """
        key = (target, features)
        if key not in self._inputs:
            self._inputs[key] = self._input_matrix(target, features)
        return self._inputs[key]

    def _input_matrix(self, target: str, features: tuple[str, ...]) -> np.ndarray:
        if target == "price":
            return self.adjusted[:, None].copy()
        columns = []
        for name in features:
            if name == "return":
                columns.append(self.returns)  # NaN at 0, zero below
            elif name == "volume_change":
                volume = np.log1p(self.prices["volume"].astype("float64").fillna(0.0).to_numpy())
                columns.append(np.diff(volume, prepend=volume[0]))
            elif name == "gap":
                columns.append(self.gap)
            elif name == "range_volatility":
                columns.append(np.sqrt(self.range_measure))
            else:  # range
                spread = (self.prices["high"] - self.prices["low"]) / self.prices["close"]
                columns.append(spread.fillna(0.0).to_numpy("float64"))
        return np.nan_to_num(np.column_stack(columns))
