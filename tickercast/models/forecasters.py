"""Fitted forecasters behind one interface: the LSTM and the baselines it must beat
(each fitted by its model in `tickercast.models.point_models`).

Each predicts, for origins of a price history, the cumulative log returns of the
next H sessions, (n, H); `exp` of them times the origin's close are price forecasts.
"""

from dataclasses import dataclass, field
from typing import Protocol

import keras
import numpy as np
from sklearn.linear_model import Ridge

from tickercast.data.history import History
from tickercast.models.network import TrainedModel, predict_scaled
from tickercast.models.scaling import Preprocessor


class Forecaster(Protocol):
    """Anything that forecasts H cumulative log returns at given origins."""

    name: str

    def predict(self, history: History, origins: np.ndarray) -> np.ndarray:
        """(n, H) forecasts at `origins` (positions in `history`), from data up to each."""
        ...


@dataclass(frozen=True)
class NaiveForecaster:
    """Tomorrow's close = today's close: a zero return at every horizon."""

    horizons: int
    name: str = "naive"

    def predict(self, history: History, origins: np.ndarray) -> np.ndarray:
        return np.zeros((len(origins), self.horizons))


@dataclass(frozen=True)
class DriftForecaster:
    """The mean daily log return of the training sessions, h times over."""

    daily_drift: float
    horizons: int
    name: str = "drift"

    def predict(self, history: History, origins: np.ndarray) -> np.ndarray:
        return np.tile(self.daily_drift * np.arange(1, self.horizons + 1), (len(origins), 1))


@dataclass(frozen=True)
class LinearARForecaster:
    """A ridge-regularised linear autoregression on the same scaled windows."""

    preprocessor: Preprocessor
    regression: Ridge
    name: str = "ar"

    def predict(self, history: History, origins: np.ndarray) -> np.ndarray:
        inputs = self.preprocessor.inputs(history, origins)
        scaled = self.regression.predict(inputs.reshape(len(inputs), -1))
        return self.preprocessor.to_log_returns(scaled, history, origins)


@dataclass(frozen=True)
class LSTMForecaster:
    """The LSTM network with the preprocessor its inputs and outputs are scaled by."""

    preprocessor: Preprocessor
    network: keras.Model
    # how the network was trained this evening (epochs, losses, time); None when loaded
    trained: TrainedModel | None = field(default=None, compare=False, repr=False)
    name: str = "lstm"

    def predict(self, history: History, origins: np.ndarray) -> np.ndarray:
        scaled = predict_scaled(self.network, self.preprocessor.inputs(history, origins))
        return self.preprocessor.to_log_returns(scaled, history, origins)
