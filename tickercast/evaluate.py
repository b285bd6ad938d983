"""Evaluation of a trained model on the held-out test windows."""

import time
from dataclasses import dataclass

import numpy as np

from tickercast.metrics import forecast_metrics
from tickercast.model import TrainedModel, predict_scaled
from tickercast.windows import Windows


@dataclass(frozen=True)
class Evaluation:
    """Test-period forecasts and their metrics.

    Attributes:
        metrics: see `tickercast.metrics.forecast_metrics`.
        predicted: (n_test,) forecasts, in adjusted closes.
        predict_seconds: wall time inside `predict`.
    """

    metrics: dict[str, float]
    predicted: np.ndarray
    predict_seconds: float


def evaluate_model(windows: Windows, trained: TrainedModel) -> Evaluation:
    """Forecast every test session from its window and score it against naive.

    Args:
        windows: the ticker's windows; only the test part is used.
        trained: the fitted network.

    Returns:
        The metrics and the forecasts behind them.
    """
    started = time.perf_counter()
    scaled = predict_scaled(trained.network, windows.x_test)  # (n_test,)
    predict_seconds = time.perf_counter() - started
    predicted = windows.to_prices(scaled)
    metrics = forecast_metrics(windows.test_actual, predicted, windows.test_previous_close)
    return Evaluation(metrics=metrics, predicted=predicted, predict_seconds=predict_seconds)
