import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.models.forecasters import NaiveForecaster
from tickercast.models.point_models import Drift, LinearAR
from tickercast.models.scaling import Preprocessor


def test_naive_and_drift_are_what_they_say(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    origins = fitted.split.holdout
    assert not NaiveForecaster(3).predict(history, origins).any()
    drift = Drift(3).fit(history, fitted.split)
    logs = np.log(history.prices["adjusted_close"].to_numpy())
    assert drift.daily_drift == pytest.approx(
        (logs[fitted.split.fit[-1]] - logs[0]) / fitted.split.fit[-1]
    )
    np.testing.assert_allclose(
        drift.predict(history, origins[:2]), [[drift.daily_drift * h for h in (1, 2, 3)]] * 2
    )


def test_linear_ar_fits_a_linear_signal(sample_aapl, small_spec):
    """On a series whose returns follow an exact AR(1), the regression recovers it."""
    prices = sample_aapl.head(600).copy()
    rng = np.random.default_rng(0)
    returns = np.zeros(600)
    for t in range(1, 600):
        returns[t] = 0.6 * returns[t - 1] + rng.normal(0, 0.01)
    prices["adjusted_close"] = 100 * np.exp(np.cumsum(returns))
    history = History.of(prices)
    from tickercast.data.windows import split_origins

    split = split_origins(len(history), small_spec, "X")
    preprocessor = Preprocessor.fit(history, small_spec, split.fit)
    ar = LinearAR(preprocessor).fit(history, split)
    forecast = ar.predict(history, split.holdout)
    actual = history.targets(split.holdout, 3)
    naive_error = np.mean(actual[:, 0] ** 2)
    assert np.mean((actual[:, 0] - forecast[:, 0]) ** 2) < 0.8 * naive_error
