"""The log-HAR on the range measure: its regressions, its scale, its horizons."""

import numpy as np
import pandas as pd
import pytest

from tickercast.data.history import History
from tickercast.errors import InputError
from tickercast.models.har import FrozenHar, LogHar, fit_har, regressors

TRUE = np.array([-1.0, 0.35, 0.35, 0.2])  # intercept, day, week, month (logs)


def _simulated(sessions: int, seed: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """(N,) range measures from a log-HAR with coefficients `TRUE`, and (N,) returns
    whose variance is the measure of their session; both NaN at position 0."""
    rng = np.random.default_rng(seed)
    log_measure = np.full(sessions, -9.0)
    for t in range(22, sessions - 1):
        day, week, month = log_measure[t], log_measure[t - 4 : t + 1], log_measure[t - 21 : t + 1]
        mean = TRUE @ [1, day, np.log(np.exp(week).mean()), np.log(np.exp(month).mean())]
        log_measure[t + 1] = mean + 0.9 * np.log(10.0) / 4 * rng.standard_normal()  # ~-9 +- 0.5
    measure = np.exp(log_measure)
    returns = np.sqrt(measure) * rng.standard_normal(sessions)
    measure[0] = returns[0] = np.nan
    return measure, returns


def test_each_horizon_regression_recovers_the_process():
    measure, returns = _simulated(3000)
    fit = fit_har(measure[1:].tobytes(), returns[1:].tobytes(), 5)
    np.testing.assert_allclose(fit.coefficients[0], TRUE, atol=0.12)
    # in the window, the h=1 forecast is scaled so that standardized returns have variance 1
    origins = np.arange(21, len(measure) - 2)  # the fit's own, in the window's positions
    variance = fit.variance(measure[1:], origins, 5)
    assert np.mean(returns[1:][origins + 1] ** 2 / variance[:, 0]) == pytest.approx(1, rel=1e-9)
    assert (np.diff(variance, axis=1) > 0).all()  # more sessions, more variance
    # normal given the true variance, but the forecast misses its log-normal noise: the
    # standardized returns are a scale mixture, fat-tailed
    assert 3 < fit.nu < 15


def test_the_regressors_are_a_day_a_week_and_a_month_of_logs():
    measure = np.arange(30, dtype="float64") + 1
    row = regressors(measure, np.array([25]), floor=0.0)[0]
    expected = [1, np.log(26), np.log(np.mean(measure[21:26])), np.log(np.mean(measure[4:26]))]
    np.testing.assert_allclose(row, expected)
    # a flat day without a readable bar (a measure of 0) enters at the window's floor
    measure[25] = 0.0
    assert regressors(measure, np.array([25]), floor=0.5)[0][1] == np.log(0.5)


def test_a_har_needs_a_hundred_returns_and_a_frozen_one_its_session(sample_aapl):
    prices = sample_aapl.head(400).reset_index(drop=True)
    history = History.of(prices)
    with pytest.raises(InputError, match="needs at least 100"):
        LogHar().spread(history, np.array([99]), 5)
    frozen = LogHar().frozen(History.of(prices.iloc[:300]))
    assert isinstance(frozen, FrozenHar) and frozen.session == prices["session"][299].date()
    with pytest.raises(InputError, match="no spread before"):
        frozen.spread(history, np.array([298]), 5)
    with pytest.raises(InputError, match="fitted for 5 horizons"):
        frozen.spread(history, np.array([300]), 6)
    copied = History.of(pd.DataFrame(prices))
    assert frozen.spread(copied, np.array([300, 310]), 5).sd.shape == (2, 5)


def test_a_frozen_har_answers_every_horizon_of_its_run(sample_aapl):
    """A run of 7 horizons freezes 7 regressions: the served model answers all of them,
    as the full model does at the frozen session."""
    history = History.of(sample_aapl.head(400).reset_index(drop=True))
    model = LogHar(horizons=7)
    frozen = model.frozen(history)
    last = np.array([len(history) - 1])
    np.testing.assert_allclose(
        frozen.spread(history, last, 7).sd, model.spread(history, last, 7).sd, rtol=1e-12
    )
