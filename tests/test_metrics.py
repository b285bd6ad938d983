import math

import numpy as np
import pytest

from tickercast.metrics import directional_accuracy, forecast_metrics, mae, mape, rmse

ACTUAL = np.array([10.0, 11.0, 12.0, 11.0])
PREVIOUS = np.array([9.0, 10.0, 11.0, 12.0])  # the naive forecast
PREDICTED = np.array([10.5, 10.0, 12.5, 11.5])


def test_errors_against_hand_computed_values():
    # errors: -0.5, 1.0, -0.5, -0.5
    assert rmse(ACTUAL, PREDICTED) == pytest.approx(math.sqrt((0.25 + 1 + 0.25 + 0.25) / 4))
    assert mae(ACTUAL, PREDICTED) == pytest.approx(2.5 / 4)
    assert mape(ACTUAL, PREDICTED) == pytest.approx(
        100 * (0.5 / 10 + 1 / 11 + 0.5 / 12 + 0.5 / 11) / 4
    )


def test_directional_accuracy_counts_moves_only():
    # moves: up, up, up, down; calls: up, flat(0), up, down -> 3 of 4 right
    assert directional_accuracy(ACTUAL, PREDICTED, PREVIOUS) == pytest.approx(0.75)
    unchanged = np.array([10.0, 10.0])
    assert math.isnan(directional_accuracy(unchanged, np.array([11.0, 9.0]), unchanged))
    assert (
        directional_accuracy(np.array([10.0, 11.0]), np.array([9.0, 12.0]), np.array([10.0, 10.0]))
        == 1.0
    )


def test_forecast_metrics_compare_with_naive():
    metrics = forecast_metrics(ACTUAL, PREDICTED, PREVIOUS)
    naive_rmse = math.sqrt((1 + 1 + 1 + 1) / 4)
    assert metrics["naive_rmse"] == pytest.approx(naive_rmse)
    assert metrics["naive_mae"] == pytest.approx(1.0)
    assert metrics["rmse_ratio"] == pytest.approx(metrics["test_rmse"] / naive_rmse)
    assert set(metrics) == {
        "test_rmse",
        "test_mae",
        "test_mape",
        "directional_accuracy",
        "naive_rmse",
        "naive_mae",
        "rmse_ratio",
    }


def test_the_naive_forecast_scores_a_ratio_of_one():
    assert forecast_metrics(ACTUAL, PREVIOUS, PREVIOUS)["rmse_ratio"] == pytest.approx(1.0)
