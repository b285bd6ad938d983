import math

import numpy as np
import pytest

from tickercast.metrics import (
    binomial_pvalue,
    diebold_mariano_pvalue,
    directional_accuracy,
    forecast_metrics,
    horizon_metrics,
    mae,
    mape,
    rmse,
)

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


def test_binomial_pvalue_against_a_coin_flip():
    assert binomial_pvalue(5, 10) == pytest.approx(0.623046875)  # P(X >= 5), X ~ Bin(10, 0.5)
    assert binomial_pvalue(10, 10) == pytest.approx(0.5**10)
    assert math.isnan(binomial_pvalue(0, 0))


def test_diebold_mariano_tells_better_from_equal():
    rng = np.random.default_rng(0)
    naive_errors = rng.normal(0, 1.0, 500)
    assert diebold_mariano_pvalue(naive_errors * 0.5, naive_errors, 1) < 1e-6
    same = diebold_mariano_pvalue(rng.normal(0, 1.0, 500), naive_errors, 1)
    assert 0.01 < same <= 1.0
    assert math.isnan(diebold_mariano_pvalue(naive_errors, naive_errors, 1))


def test_horizon_metrics_against_hand_computed_values():
    metrics = horizon_metrics(ACTUAL, PREDICTED, PREVIOUS, horizon=1)
    assert metrics["rmse"] == pytest.approx(rmse(ACTUAL, PREDICTED))
    assert metrics["rmse_ratio"] == pytest.approx(rmse(ACTUAL, PREDICTED) / 1.0)
    # calls: up, flat (no call), up, down; moves: up, up, up, down -> 3 of 3 called right
    assert metrics["directional_accuracy"] == 1.0
    assert metrics["da_pvalue"] == pytest.approx(0.125)
    naive = horizon_metrics(ACTUAL, PREVIOUS, PREVIOUS, horizon=1)
    assert naive["rmse_ratio"] == 1.0 and math.isnan(naive["directional_accuracy"])
