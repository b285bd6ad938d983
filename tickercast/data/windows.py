"""Supervised windows: inputs and multi-horizon targets at each forecast origin.

An *origin* is a session t at which a forecast is made, knowing sessions 0..t. Its
input is the window of the `window` sessions t-window+1..t; its targets are the
cumulative log returns log(P[t+h] / P[t]) of the adjusted close for h = 1..H.
Every model, whatever it predicts internally, reports forecasts in that unit, so
that they compare on the same scale and map back to prices as P[t] * exp(y).

Origins are split in time: *fit* (training), *calibration* (early stopping and
conformal residuals) and *holdout* (the most recent origins whose targets are
known: the window on which models are compared). Scalers are fitted on the fit
origins only; no calibration or holdout price shapes them (`tickercast.models.scaling`).
"""

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tickercast.data.calendar import session_on_or_before
from tickercast.data.history import History
from tickercast.data.prices import clip_sessions, prices_sha256
from tickercast.errors import InputError, InsufficientHistoryError

TARGETS = ("returns", "price")
FEATURES = ("return", "volume_change", "range", "gap", "range_volatility")


@dataclass(frozen=True)
class WindowSpec:
    """How inputs and targets are cut, and how origins are split.

    Attributes:
        window: sessions per input window (the tutorial's 60).
        horizons: sessions ahead forecast directly, H (1..H).
        target: `returns` (log returns in, cumulative log returns out) or `price`
            (the tutorial's scaled price levels in and out).
        features: per-session inputs for `returns`: `return` (log return of the
            adjusted close), `volume_change` (log change of volume), `range`
            ((high - low) / close), `gap` (the overnight log gap) and `range_volatility`
            (the square root of the daily bar's range measure: `tickercast.data.daily_bar`).
            `price` always uses the adjusted close alone.
        holdout: most recent origins held out to compare models (about half a year).
        calibration_fraction: share of the remaining origins, the latest, for early
            stopping and conformal calibration.
        min_fit_origins: the fewest training origins accepted.
        volatility_lookback: sessions of returns behind the volatility that scales
            conformal intervals.
    """

    window: int = 60
    horizons: int = 5
    target: str = "returns"
    features: tuple[str, ...] = ("return",)
    holdout: int = 126
    calibration_fraction: float = 0.15
    min_fit_origins: int = 100
    volatility_lookback: int = 20

    @classmethod
    def from_dict(cls, data: dict) -> "WindowSpec":
        """The spec that `dataclasses.asdict` wrote (JSON made its tuple a list)."""
        return cls(**{**data, "features": tuple(data["features"])})

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise InputError(f"unknown target {self.target!r}: use one of {TARGETS}")
        unknown = set(self.features) - set(FEATURES)
        if unknown or not self.features:
            raise InputError(f"unknown features {sorted(unknown)}: use some of {FEATURES}")

    @property
    def feature_names(self) -> tuple[str, ...]:
        return ("adjusted_close",) if self.target == "price" else self.features

    @property
    def min_sessions(self) -> int:
        """Sessions needed for `min_fit_origins` training origins, calibration and holdout."""
        fit_and_calibration = math.ceil(self.min_fit_origins / (1 - self.calibration_fraction))
        # origins start at `window`; each block gives up H sessions to keep targets apart
        return self.window + fit_and_calibration + self.holdout + 3 * self.horizons


@dataclass(frozen=True)
class Split:
    """Origin session positions of each block (ascending integer arrays)."""

    fit: np.ndarray
    calibration: np.ndarray
    holdout: np.ndarray

    def sessions(self, sessions: np.ndarray) -> dict[str, str]:
        """First and last session of each block, for run parameters."""
        return {
            f"{name}_{end}": str(sessions[block[index]])
            for name, block in (
                ("fit", self.fit),
                ("calibration", self.calibration),
                ("holdout", self.holdout),
            )
            for end, index in (("start", 0), ("end", -1))
        }


def split_origins(sessions: int, spec: WindowSpec, ticker: str) -> Split:
    """Split the origins of a history of `sessions` sessions (the last one is as_of).

    Each block's targets end at or before the next block's first origin, so no
    training target lies beyond the price a later block forecasts from.

    Raises:
        InsufficientHistoryError: fewer than `spec.min_sessions` sessions.
    """
    if sessions < spec.min_sessions:
        raise InsufficientHistoryError(
            ticker,
            needed=spec.min_sessions,
            found=sessions,
            detail=f"window {spec.window}, {spec.min_fit_origins} training origins, "
            f"calibration, a holdout of {spec.holdout} and horizons of {spec.horizons}",
        )
    horizon = spec.horizons
    last_known = sessions - 1 - horizon  # the last origin whose targets are all known
    holdout = np.arange(last_known - spec.holdout + 1, last_known + 1)
    trainable = np.arange(spec.window, holdout[0] - horizon + 1)
    calibration_count = math.ceil(len(trainable) * spec.calibration_fraction)
    calibration = trainable[-calibration_count:]
    fit = trainable[trainable <= calibration[0] - horizon]
    if len(fit) < spec.min_fit_origins:
        raise InsufficientHistoryError(
            ticker,
            needed=sessions + spec.min_fit_origins - len(fit),
            found=sessions,
            detail=f"{spec.min_fit_origins} training origins; these sessions give {len(fit)}",
        )
    return Split(fit=fit, calibration=calibration, holdout=holdout)


def origin_windows(features: np.ndarray, window: int, origins: np.ndarray) -> np.ndarray:
    """(n, window, F) inputs: for each origin t, the rows t-window+1..t of `features`."""
    framed = sliding_window_view(features, window, axis=0)  # (N - window + 1, F, window)
    return np.ascontiguousarray(framed[origins - window + 1].transpose(0, 2, 1))


def realized_volatility(returns: np.ndarray, origins: np.ndarray, lookback: int) -> np.ndarray:
    """(n,) standard deviation of the `lookback` daily log returns up to each origin.

    Args:
        returns: (N,) daily log returns, NaN at 0 (`History.returns`).
        origins: positions.
        lookback: returns per origin.
    """
    framed = sliding_window_view(returns, lookback)  # (N - lookback + 1, lookback)
    volatility = np.nanstd(framed[np.maximum(origins - lookback + 1, 0)], axis=1, ddof=1)
    return np.maximum(np.nan_to_num(volatility, nan=1e-4), 1e-4)


def select_history(
    prices: pd.DataFrame, ticker: str, start: date | None, as_of: date | None, calendar: str
) -> pd.DataFrame:
    """The sessions a model trained as of `as_of` may see: `start <= session <= as_of`.

    Args:
        prices: the ticker's stored canonical prices.
        ticker: the symbol, for messages.
        start: first session to train on; None uses the whole history.
        as_of: last session to use; None uses the last stored one.
        calendar: exchange calendar code, to know which session `as_of` asks for.

    Returns:
        The selected rows, with a fresh index (positions are session positions).

    Raises:
        InputError: `as_of` asks for a session that is not stored (a replay past the
            data, or a session whose bar is not final yet).
    """
    selected = clip_sessions(prices, start, as_of)
    if as_of is not None and len(selected):
        wanted = session_on_or_before(as_of, calendar)
        last = selected["session"].iloc[-1].date()
        if last < wanted:
            raise InputError(
                f"{ticker}: as_of {as_of} asks for the session of {wanted}, but the stored "
                f"prices end on {last}"
            )
    return selected.reset_index(drop=True)


@dataclass(frozen=True)
class TrainingSet:
    """The history a run trains on, checked to be long enough for its split."""

    ticker: str
    history: History
    spec: WindowSpec
    split: Split
    data_sha256: str

    @property
    def prices(self) -> pd.DataFrame:
        return self.history.prices

    @property
    def as_of(self) -> date:
        return self.history.as_of.date()

    def summary(self) -> str:
        """One line for the run's log: as_of, sessions, origins per block, data hash."""
        split = self.split
        return (
            f"{self.ticker}: as_of {self.as_of}, {len(self.prices)} sessions, "
            f"{len(split.fit)}/{len(split.calibration)}/{len(split.holdout)} "
            f"fit/calibration/holdout origins, data_sha256 {self.data_sha256[:12]}"
        )


def training_set(prices: pd.DataFrame, ticker: str, spec: WindowSpec) -> TrainingSet:
    """Check and describe the history a run trains on.

    Args:
        prices: `select_history`'s rows (positions = sessions).
        ticker: the symbol.
        spec: windows and split.

    Returns:
        The training set, with its split and the hash of its sessions and closes.

    Raises:
        InsufficientHistoryError: too few sessions for the split.
    """
    split = split_origins(len(prices), spec, ticker)
    return TrainingSet(ticker, History.of(prices), spec, split, prices_sha256(prices))
