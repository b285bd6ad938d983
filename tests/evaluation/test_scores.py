import numpy as np
import pytest

from tickercast.evaluation.scores import Scored, mase_scales, pooled, score


def test_naive_scores_a_ratio_of_one_and_its_own_mase(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    scales = mase_scales(history, fitted.split.fit, small_spec.horizons)
    naive = score(
        "naive", fitted.candidates["naive"], history, fitted.split.holdout, small_spec, scales
    )
    assert [m["rmse_ratio"] for m in naive.metrics] == [1.0, 1.0, 1.0]
    actual = history.targets(fitted.split.holdout, 3)
    np.testing.assert_allclose(naive.actual, actual)
    expected_mase = np.mean(np.abs(actual), axis=0) / scales
    np.testing.assert_allclose([m["mase"] for m in naive.metrics], expected_mase)


def test_scores_pool_point_by_point(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    scales = mase_scales(history, fitted.split.fit, 3)
    origins = fitted.split.holdout
    whole = score("lstm", fitted.candidates["lstm"], history, origins, small_spec, scales)
    halves = [
        score("lstm", fitted.candidates["lstm"], history, part, small_spec, scales)
        for part in (origins[:20], origins[20:])
    ]
    together = pooled("lstm", halves)
    for mine, theirs in zip(together.metrics, whole.metrics, strict=True):
        for key in mine:
            assert mine[key] == pytest.approx(theirs[key], nan_ok=True)


def test_coverage_counts_actuals_inside_the_bounds():
    actual = np.array([[0.0], [0.1], [-0.3], [0.25]])
    forecast = np.zeros((4, 1))
    bounds = {
        0.8: (np.full((4, 1), -0.2), np.full((4, 1), 0.2)),
        0.95: (np.full((4, 1), -0.5), np.full((4, 1), 0.5)),
    }
    scored = Scored.build(
        "m", np.ones(4), forecast, actual, bounds, np.ones((4, 1)), np.arange(4.0)
    )
    assert scored.metrics[0]["coverage_80"] == 0.5  # 0.0 and 0.1 inside, -0.3 and 0.25 out
    assert scored.metrics[0]["coverage_95"] == 1.0
