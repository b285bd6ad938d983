from datetime import date

import numpy as np

from tickercast.fitting import warm_start_from
from tickercast.windows import WindowSpec


def test_every_candidate_is_fitted_and_calibrated(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    assert set(fitted.candidates) == {"lstm", "naive", "drift", "ar"}
    for candidate in fitted.candidates.values():
        forecast = candidate.forecaster.predict(history, fitted.split.holdout)
        assert forecast.shape == (len(fitted.split.holdout), small_spec.horizons)
        assert np.isfinite(forecast).all()
        for half in candidate.conformal.quantiles.values():
            assert half.shape == (small_spec.horizons,) and (half > 0).all()
        assert (candidate.conformal.quantiles[0.95] > candidate.conformal.quantiles[0.8]).all()
    assert not fitted.warm_started


def test_warm_starts_happen_within_a_week_with_the_same_windows(fitted_aapl, small_spec):
    _, fitted = fitted_aapl
    lstm = fitted.candidates["lstm"].forecaster
    monday, wednesday, next_monday = date(2013, 2, 25), date(2013, 2, 27), date(2013, 3, 4)
    assert warm_start_from(lstm, monday, wednesday, small_spec, True) is lstm
    assert (
        warm_start_from(lstm, monday, next_monday, small_spec, True) is None
    )  # weekly full retrain
    assert warm_start_from(lstm, monday, wednesday, small_spec, False) is None
    assert warm_start_from(lstm, monday, wednesday, WindowSpec(window=30), True) is None
    assert warm_start_from(None, None, wednesday, small_spec, True) is None
