"""Forecasters behind one interface: the LSTM and the baselines it must beat.

Each predicts, for origins of a price history, the cumulative log returns of the
next H sessions, (n, H); `exp` of them times the origin's close are price forecasts.
"""

from dataclasses import dataclass
from typing import Protocol

import keras
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from tickercast.models.network import predict_scaled
from tickercast.models.scaling import Preprocessor


class Forecaster(Protocol):
    """Anything that forecasts H cumulative log returns at given origins."""

    name: str

    def predict(self, prices: pd.DataFrame, origins: np.ndarray) -> np.ndarray:
        """(n, H) forecasts at `origins` (positions in `prices`), from data up to each."""
        ...


@dataclass(frozen=True)
class NaiveForecaster:
    """Tomorrow's close = today's close: a zero return at every horizon."""

    horizons: int
    name: str = "naive"

    def predict(self, prices: pd.DataFrame, origins: np.ndarray) -> np.ndarray:
        return np.zeros((len(origins), self.horizons))


@dataclass(frozen=True)
class DriftForecaster:
    """The mean daily log return of the training sessions, h times over."""

    daily_drift: float
    horizons: int
    name: str = "drift"

    @classmethod
    def fit(cls, prices: pd.DataFrame, fit_origins: np.ndarray, horizons: int) -> "DriftForecaster":
        logs = np.log(prices["adjusted_close"].to_numpy("float64")[: fit_origins[-1] + 1])
        return cls(daily_drift=float((logs[-1] - logs[0]) / (len(logs) - 1)), horizons=horizons)

    def predict(self, prices: pd.DataFrame, origins: np.ndarray) -> np.ndarray:
        return np.tile(self.daily_drift * np.arange(1, self.horizons + 1), (len(origins), 1))


@dataclass(frozen=True)
class LinearARForecaster:
    """A ridge-regularised linear autoregression on the same scaled windows."""

    preprocessor: Preprocessor
    regression: Ridge
    name: str = "ar"

    @classmethod
    def fit(
        cls, prices: pd.DataFrame, preprocessor: Preprocessor, fit_origins: np.ndarray
    ) -> "LinearARForecaster":
        inputs = preprocessor.inputs(prices, fit_origins)
        targets = preprocessor.targets(prices, fit_origins)
        return cls(preprocessor, Ridge(alpha=1.0).fit(inputs.reshape(len(inputs), -1), targets))

    def predict(self, prices: pd.DataFrame, origins: np.ndarray) -> np.ndarray:
        inputs = self.preprocessor.inputs(prices, origins)
        scaled = self.regression.predict(inputs.reshape(len(inputs), -1))
        return self.preprocessor.to_log_returns(scaled, prices, origins)


@dataclass(frozen=True)
class LSTMForecaster:
    """The LSTM network with the preprocessor its inputs and outputs are scaled by."""

    preprocessor: Preprocessor
    network: keras.Model
    name: str = "lstm"

    def predict(self, prices: pd.DataFrame, origins: np.ndarray) -> np.ndarray:
        scaled = predict_scaled(self.network, self.preprocessor.inputs(prices, origins))
        return self.preprocessor.to_log_returns(scaled, prices, origins)
