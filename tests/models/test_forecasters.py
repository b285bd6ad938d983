import numpy as np
import pytest

from tickercast.data.windows import cumulative_log_returns
from tickercast.models.forecasters import DriftForecaster, LinearARForecaster, NaiveForecaster
from tickercast.models.scaling import Preprocessor


def test_naive_and_drift_are_what_they_say(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    origins = fitted.split.holdout
    assert not NaiveForecaster(3).predict(history, origins).any()
    drift = DriftForecaster.fit(history, fitted.split.fit, 3)
    logs = np.log(history["adjusted_close"].to_numpy())
    assert drift.daily_drift == pytest.approx(
        (logs[fitted.split.fit[-1]] - logs[0]) / fitted.split.fit[-1]
    )
    np.testing.assert_allclose(
        drift.predict(history, origins[:2]), [[drift.daily_drift * h for h in (1, 2, 3)]] * 2
    )


def test_linear_ar_fits_a_linear_signal(sample_aapl, small_spec):
    """On a series whose returns follow an exact AR(1), the regression recovers it."""
    history = sample_aapl.head(600).copy()
    rng = np.random.default_rng(0)
    returns = np.zeros(600)
    for t in range(1, 600):
        returns[t] = 0.6 * returns[t - 1] + rng.normal(0, 0.01)
    history["adjusted_close"] = 100 * np.exp(np.cumsum(returns))
    from tickercast.data.windows import split_origins

    split = split_origins(len(history), small_spec, "X")
    preprocessor = Preprocessor.fit(history, small_spec, split.fit)
    ar = LinearARForecaster.fit(history, preprocessor, split.fit)
    forecast = ar.predict(history, split.holdout)
    actual = cumulative_log_returns(history["adjusted_close"].to_numpy(), split.holdout, 3)
    naive_error = np.mean(actual[:, 0] ** 2)
    assert np.mean((actual[:, 0] - forecast[:, 0]) ** 2) < 0.8 * naive_error
