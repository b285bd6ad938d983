"""The point candidates as configured: one `fit(history, split)` each, returning the
forecaster under the candidate's name, from what the fit origins may see alone."""

from datetime import date

import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.data.windows import select_history, split_origins
from tickercast.models.network_config import ModelConfig
from tickercast.models.point_models import LSTM, Drift, LinearAR, Naive
from tickercast.models.retraining import TrainingPlan
from tickercast.models.scaling import Preprocessor


@pytest.fixture(scope="module")
def prices(sample_aapl):
    return select_history(sample_aapl, "AAPL", date(2011, 6, 1), None, "XNYS")


def _models(history, split, spec, config):
    scalers = Preprocessor.fit(history, spec, split.fit)
    plan = TrainingPlan.full(history.as_of.date())
    return [
        Naive(spec.horizons),
        Drift(spec.horizons),
        LinearAR(scalers),
        LSTM(scalers, config, plan),
    ]


@pytest.mark.slow  # trains the LSTM twice (seconds each)
def test_every_model_fits_on_what_its_origins_see_and_nothing_later(prices, small_spec):
    config = ModelConfig(epochs=2, units=8)
    split = split_origins(len(prices), small_spec, "AAPL")
    # the LSTM stops early on the calibration origins: their targets are the last it sees
    seen = split.calibration[-1] + small_spec.horizons
    moved = prices.copy()
    moved.loc[seen + 1 :, ["open", "high", "low", "close", "adjusted_close"]] *= 1.3
    clean, storm = History.of(prices), History.of(moved)
    origins = split.fit[-5:]
    for before, after in zip(
        _models(clean, split, small_spec, config),
        _models(storm, split, small_spec, config),
        strict=True,
    ):
        fitted, refitted = before.fit(clean, split), after.fit(storm, split)
        assert fitted.name == before.name
        forecast = fitted.predict(clean, origins)
        assert forecast.shape == (len(origins), small_spec.horizons)
        np.testing.assert_array_equal(refitted.predict(clean, origins), forecast, before.name)


def test_the_drift_is_the_fit_sessions_mean_daily_log_return(prices, small_spec):
    history = History.of(prices)
    split = split_origins(len(prices), small_spec, "AAPL")
    adjusted = prices["adjusted_close"].to_numpy()[: split.fit[-1] + 1]
    daily = np.mean(np.diff(np.log(adjusted)))
    drift = Drift(small_spec.horizons).fit(history, split)
    np.testing.assert_allclose(
        drift.predict(history, split.holdout[:2]), [[daily, 2 * daily, 3 * daily]] * 2
    )
    assert not Naive(small_spec.horizons).fit(history, split).predict(history, split.fit).any()
