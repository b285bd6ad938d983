import numpy as np
import pytest

from tickercast.models.conformal import Conformal
from tickercast.models.volatility import Spread


def _spread(scale: np.ndarray) -> Spread:
    return Spread(scale[:, None], np.full(len(scale), np.inf))


def test_intervals_cover_their_level_on_exchangeable_residuals():
    rng = np.random.default_rng(1)
    calibration = rng.standard_t(4, size=(2000, 2)) * 0.01
    conformal = Conformal.calibrate(calibration, np.ones((2000, 1)), volatility_scaled=False)
    test = rng.standard_t(4, size=(20000, 2)) * 0.01
    bounds = conformal.bounds(np.zeros_like(test), _spread(np.ones(len(test))))
    for level, (lower, upper) in bounds.items():
        covered = np.mean((test >= lower) & (test <= upper), axis=0)
        np.testing.assert_allclose(covered, level, atol=0.015)


def test_volatility_scaling_widens_intervals_in_turbulent_markets():
    rng = np.random.default_rng(2)
    volatility = np.where(np.arange(1000) % 2, 0.01, 0.03)
    residuals = rng.normal(size=(1000, 1)) * volatility[:, None]
    conformal = Conformal.calibrate(residuals, volatility[:, None])
    (calm_lower, calm_upper), (storm_lower, storm_upper) = (
        conformal.bounds(np.zeros((1, 1)), _spread(np.array([v])))[0.8] for v in (0.01, 0.03)
    )
    assert (storm_upper - storm_lower)[0, 0] == pytest.approx(3 * (calm_upper - calm_lower)[0, 0])
    assert conformal.quantiles[0.95][0] > conformal.quantiles[0.8][0]


def test_finite_sample_quantile_and_round_trip():
    residuals = np.arange(1, 10, dtype=float)[:, None]  # |r| = 1..9, n = 9
    conformal = Conformal.calibrate(residuals, np.ones((9, 1)), volatility_scaled=False)
    assert conformal.quantiles[0.8][0] == 8.0  # the ceil(10 * 0.8) = 8th smallest of 9
    assert conformal.quantiles[0.95][0] == np.inf  # ceil(10 * 0.95) = 10 > 9: unbounded
    for n in (20, 35, 299, 3000):  # the exact order statistic, whatever float rounding says
        scores = np.arange(1, n + 1, dtype=float)[:, None]
        half = Conformal.calibrate(scores, np.ones((n, 1)), volatility_scaled=False).quantiles[0.8][
            0
        ]
        assert half == np.ceil((n + 1) * 0.8)
    conformal = Conformal.calibrate(
        residuals, np.ones((9, 1)), volatility_scaled=False, levels=(0.8,)
    )
    again = Conformal.from_dict(conformal.as_dict())
    assert again.volatility_scaled is False
    np.testing.assert_array_equal(again.quantiles[0.8], conformal.quantiles[0.8])
