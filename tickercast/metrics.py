"""Point-forecast metrics, always next to the naive forecast "next close = last close"."""

import numpy as np


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(predicted)) ** 2)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(predicted))))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error, in percent (prices are positive)."""
    actual = np.asarray(actual)
    return float(100.0 * np.mean(np.abs((actual - np.asarray(predicted)) / actual)))


def directional_accuracy(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> float:
    """Share of sessions where the forecast moved the same way as the price.

    Args:
        actual: (n,) realised closes.
        predicted: (n,) forecasts.
        previous: (n,) the close each forecast was made from.

    Returns:
        The share, over the sessions where the price moved (unchanged closes have no
        direction to get right); NaN when it never moved.
    """
    moved = np.sign(np.asarray(actual) - previous)
    called = np.sign(np.asarray(predicted) - previous)
    mask = moved != 0
    return float(np.mean(moved[mask] == called[mask])) if mask.any() else float("nan")


def forecast_metrics(
    actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray
) -> dict[str, float]:
    """The model's test metrics beside the naive forecast's.

    Args:
        actual: (n,) realised closes of the test sessions.
        predicted: (n,) the model's forecasts of them.
        previous: (n,) the close of the session before each: the naive forecast.

    Returns:
        `test_rmse`, `test_mae`, `test_mape`, `directional_accuracy`, `naive_rmse`,
        `naive_mae` and `rmse_ratio` = test_rmse / naive_rmse (below 1 beats naive).
    """
    test_rmse = rmse(actual, predicted)
    naive_rmse = rmse(actual, previous)
    return {
        "test_rmse": test_rmse,
        "test_mae": mae(actual, predicted),
        "test_mape": mape(actual, predicted),
        "directional_accuracy": directional_accuracy(actual, predicted, previous),
        "naive_rmse": naive_rmse,
        "naive_mae": mae(actual, previous),
        "rmse_ratio": test_rmse / naive_rmse if naive_rmse > 0 else float("nan"),
    }
