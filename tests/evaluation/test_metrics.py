import math

import numpy as np
import pytest
from scipy.stats import chi2

from tickercast.evaluation.metrics import (
    binomial_pvalue,
    christoffersen_pvalue,
    diebold_mariano_pvalue,
    horizon_metrics,
    interval_metrics,
    interval_score,
    kupiec_pvalue,
    loss_pvalue,
    mae,
    pinball_loss,
    rmse,
)

ACTUAL = np.array([10.0, 11.0, 12.0, 11.0])
PREVIOUS = np.array([9.0, 10.0, 11.0, 12.0])  # the naive forecast
PREDICTED = np.array([10.5, 10.0, 12.5, 11.5])


def test_errors_against_hand_computed_values():
    # errors: -0.5, 1.0, -0.5, -0.5
    assert rmse(ACTUAL, PREDICTED) == pytest.approx(math.sqrt((0.25 + 1 + 0.25 + 0.25) / 4))
    assert mae(ACTUAL, PREDICTED) == pytest.approx(2.5 / 4)


def test_binomial_pvalue_against_a_coin_flip():
    assert binomial_pvalue(5, 10) == pytest.approx(0.623046875)  # P(X >= 5), X ~ Bin(10, 0.5)
    assert binomial_pvalue(10, 10) == pytest.approx(0.5**10)
    assert math.isnan(binomial_pvalue(0, 0))


def test_diebold_mariano_tells_better_from_equal():
    rng = np.random.default_rng(0)
    naive_errors = rng.normal(0, 1.0, 500)
    assert diebold_mariano_pvalue(naive_errors * 0.5, naive_errors, 1) < 1e-6
    assert (
        diebold_mariano_pvalue(naive_errors * 2.0, naive_errors, 1) > 1 - 1e-6
    )  # worse: one-sided
    assert diebold_mariano_pvalue(naive_errors * 0.9, naive_errors, 5) < 0.05
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


def test_kupiec_against_a_hand_computed_likelihood_ratio():
    # 60 forecasts, 20 outside an 80 % interval (12 expected)
    inside = np.array([True] * 40 + [False] * 20)
    ratio = -2 * (
        40 * math.log(0.8) + 20 * math.log(0.2) - 40 * math.log(40 / 60) - 20 * math.log(20 / 60)
    )
    from scipy.stats import chi2

    assert kupiec_pvalue(inside, 0.8) == pytest.approx(chi2.sf(ratio, 1))
    assert kupiec_pvalue(np.array([True] * 48 + [False] * 12), 0.8) == pytest.approx(1.0)
    assert kupiec_pvalue(np.ones(60, bool), 0.8) < 1e-5  # never outside: too wide
    assert math.isnan(kupiec_pvalue(np.array([], bool), 0.8))


def test_interval_score_and_pinball_loss_by_hand():
    # inside, below by 1, above by 4; width 4; alpha 0.2 -> 2/alpha = 10
    actual = np.array([3.0, 1.0, 10.0])
    scores = interval_score(actual, np.full(3, 2.0), np.full(3, 6.0), 0.8)
    assert scores.tolist() == pytest.approx([4.0, 14.0, 44.0])
    assert pinball_loss(actual, np.full(3, 2.0), 0.1).tolist() == pytest.approx([0.1, 0.9, 0.8])


def test_christoffersen_against_hand_computed_transitions():
    # misses: F F T T F F F T F F -> transitions 00: 4, 01: 2, 10: 2, 11: 1
    inside = ~np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    pi0, pi1, pi = 2 / 6, 1 / 3, 3 / 9

    def log_l(p, stays, moves):
        return stays * math.log(1 - p) + moves * math.log(p)

    separate = log_l(pi0, 4, 2) + log_l(pi1, 2, 1)
    together = log_l(pi, 6, 3)
    expected = 1 - chi2.cdf(-2 * (together - separate), 1)
    assert christoffersen_pvalue(inside) == pytest.approx(expected)
    clustered = np.r_[np.ones(200, bool), np.zeros(20, bool), np.ones(200, bool)]
    assert christoffersen_pvalue(clustered) < 1e-6  # misses in one block
    assert christoffersen_pvalue(np.ones(50, bool)) == 1.0  # no miss: nothing clusters
    assert math.isnan(christoffersen_pvalue(np.ones(1, bool)))


def test_interval_metrics_score_and_split_coverage_by_volatility():
    actual = np.array([0.0, 2.0, -3.0, 0.5, 0.1, 5.0])
    lower, upper = np.full(6, -1.0), np.full(6, 1.0)
    volatility = np.array([1.0, 1.1, 2.0, 2.1, 3.0, 3.1])  # terciles: pairs
    metrics = interval_metrics(actual, lower, upper, 0.8, volatility)
    assert metrics["coverage_80"] == 0.5
    # width 2, plus 2 / 0.2 = 10 times the misses 1, 2 and 4
    assert metrics["interval_score_80"] == pytest.approx(2 + 10 * 7 / 6)
    assert metrics["coverage_80_low_vol"] == 0.5
    assert metrics["coverage_80_mid_vol"] == 0.5
    assert metrics["coverage_80_high_vol"] == 0.5
    assert metrics["pinball_lower_80"] == pytest.approx(np.mean(pinball_loss(actual, lower, 0.1)))
    assert metrics["kupiec_p_80"] == kupiec_pvalue((actual >= -1) & (actual <= 1), 0.8)
    assert {"christoffersen_p_80", "pinball_upper_80"} <= set(metrics)


def test_loss_pvalue_is_the_diebold_mariano_test_on_any_loss():
    rng = np.random.default_rng(3)
    errors, naive = rng.normal(size=300), rng.normal(size=300) * 1.3
    assert loss_pvalue(errors**2, naive**2, 2) == diebold_mariano_pvalue(errors, naive, 2)
    narrow, wide = np.full(300, 1.0) + rng.random(300), np.full(300, 1.2) + rng.random(300)
    assert loss_pvalue(narrow, wide, 1) < 0.01 < 0.99 < loss_pvalue(wide, narrow, 1)
