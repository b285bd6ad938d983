"""Supervised windows from a price series, split in time, scaled without peeking.

A series of N sessions gives M = N - window windows: window i holds the adjusted
closes of sessions i .. i+window-1 and its target is session i+window. Windows are
split in time (train, then validation, then test), and the scaler is fitted only on
the sessions the training windows see, so no validation or test price shapes the
inputs the model is trained on (the tutorial fitted it on everything).
"""

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MinMaxScaler

from tickercast.calendar import session_on_or_before
from tickercast.errors import InputError, InsufficientHistoryError
from tickercast.prices import clip_sessions, prices_sha256


@dataclass(frozen=True)
class WindowSpec:
    """How windows are cut and split.

    Attributes:
        window: sessions per input window (the tutorial's 60).
        validation_fraction: share of windows, after the training ones, for early stopping.
        test_fraction: share of the most recent windows held out for evaluation.
        min_split_windows: the fewest windows any split may have.
    """

    window: int = 60
    validation_fraction: float = 0.1
    test_fraction: float = 0.2
    min_split_windows: int = 5

    def split_sizes(self, windows: int) -> tuple[int, int, int]:
        """Windows in (train, validation, test) for `windows` windows in all."""
        validation = int(windows * self.validation_fraction)
        test = int(windows * self.test_fraction)
        return windows - validation - test, validation, test

    @property
    def min_sessions(self) -> int:
        """Sessions needed so that every split gets `min_split_windows` windows."""
        smallest = min(
            self.validation_fraction,
            self.test_fraction,
            1.0 - self.validation_fraction - self.test_fraction,
        )
        return self.window + math.ceil(self.min_split_windows / smallest)


@dataclass(frozen=True)
class Windows:
    """Scaled model inputs for one ticker, with what is needed to map back to prices.

    Shapes, for n windows of a split: `x_*` is (n, window, 1) float32 scaled closes,
    `y_*` is (n, 1) float32 scaled next closes; `latest` is (1, window, 1), the window
    ending at `as_of`, from which the published forecast is made.
    """

    ticker: str
    spec: WindowSpec
    sessions: np.ndarray  # (N,) datetime64[D]
    adjusted_close: np.ndarray  # (N,) float64
    last_close: float  # raw close of the as_of session
    scaler: MinMaxScaler
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    latest: np.ndarray
    data_sha256: str
    split_sessions: dict[str, str] = field(default_factory=dict)

    @property
    def as_of(self) -> date:
        return pd.Timestamp(self.sessions[-1]).date()

    @property
    def test_sessions(self) -> np.ndarray:
        """(n_test,) target sessions of the test windows."""
        return self.sessions[len(self.sessions) - len(self.y_test) :]

    @property
    def test_previous_close(self) -> np.ndarray:
        """(n_test,) adjusted close of the session before each test target: the naive forecast."""
        return self.adjusted_close[len(self.sessions) - len(self.y_test) - 1 : -1]

    @property
    def test_actual(self) -> np.ndarray:
        """(n_test,) adjusted close of each test target."""
        return self.adjusted_close[len(self.sessions) - len(self.y_test) :]

    def to_prices(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled closes of any shape back to adjusted closes, flattened to (n,)."""
        return self.scaler.inverse_transform(np.asarray(scaled, "float64").reshape(-1, 1)).ravel()


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
        The selected rows.

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
    return selected


def build_windows(prices: pd.DataFrame, ticker: str, spec: WindowSpec) -> Windows:
    """Cut, split and scale the windows of a canonical price frame.

    Args:
        prices: canonical prices sorted by session (`tickercast.prices`), already
            clipped to the sessions the model may see (up to and including as_of).
        ticker: the symbol, for messages.
        spec: window length and split fractions.

    Returns:
        The windows, scaled by a MinMaxScaler fitted on the training sessions only.

    Raises:
        InsufficientHistoryError: fewer than `spec.min_sessions` sessions.
    """
    sessions_found = len(prices)
    if sessions_found < spec.min_sessions:
        raise InsufficientHistoryError(
            ticker,
            needed=spec.min_sessions,
            found=sessions_found,
            detail=f"window {spec.window} + {spec.min_sessions - spec.window} windows so that "
            f"each split has at least {spec.min_split_windows}",
        )
    adjusted_close = prices["adjusted_close"].to_numpy("float64")  # (N,)
    sessions = prices["session"].to_numpy("datetime64[D]")  # (N,)
    n_train, n_val, n_test = spec.split_sizes(sessions_found - spec.window)

    # The training windows see sessions 0 .. n_train + window - 1 (inputs and targets).
    scaler = MinMaxScaler().fit(adjusted_close[: n_train + spec.window].reshape(-1, 1))
    scaled = scaler.transform(adjusted_close.reshape(-1, 1)).ravel().astype("float32")  # (N,)
    framed = sliding_window_view(scaled, spec.window + 1)  # (M, window + 1): inputs, target
    inputs = framed[:, : spec.window, np.newaxis]  # (M, window, 1)
    targets = framed[:, spec.window :]  # (M, 1)
    bounds = np.cumsum([0, n_train, n_val, n_test])

    def target_day(index: int) -> str:
        return str(sessions[spec.window + index])

    return Windows(
        ticker=ticker,
        spec=spec,
        sessions=sessions,
        adjusted_close=adjusted_close,
        last_close=float(prices["close"].iloc[-1]),
        scaler=scaler,
        x_train=np.ascontiguousarray(inputs[bounds[0] : bounds[1]]),
        y_train=np.ascontiguousarray(targets[bounds[0] : bounds[1]]),
        x_val=np.ascontiguousarray(inputs[bounds[1] : bounds[2]]),
        y_val=np.ascontiguousarray(targets[bounds[1] : bounds[2]]),
        x_test=np.ascontiguousarray(inputs[bounds[2] : bounds[3]]),
        y_test=np.ascontiguousarray(targets[bounds[2] : bounds[3]]),
        latest=scaled[-spec.window :].reshape(1, spec.window, 1),
        data_sha256=prices_sha256(prices),
        split_sessions={
            "history_start": str(sessions[0]),
            "train_end": target_day(bounds[1] - 1),
            "validation_start": target_day(bounds[1]),
            "validation_end": target_day(bounds[2] - 1),
            "test_start": target_day(bounds[2]),
            "test_end": target_day(bounds[3] - 1),
        },
    )
