from datetime import date

import numpy as np

from tickercast.fitting import recalibrated, usable_champion, warm_start_from
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


def test_a_champion_is_compared_only_when_older_and_alike(fitted_aapl, small_spec):
    _, fitted = fitted_aapl
    lstm = fitted.candidates["lstm"].forecaster
    as_of = date(2013, 3, 1)
    assert usable_champion(lstm, date(2013, 2, 28), as_of, small_spec)
    assert not usable_champion(lstm, as_of, as_of, small_spec)  # trained on today's data
    assert not usable_champion(lstm, date(2014, 1, 2), as_of, small_spec)  # a replay
    assert not usable_champion(lstm, date(2013, 2, 28), as_of, WindowSpec(horizons=5))
    assert not usable_champion(None, None, as_of, small_spec)


def test_published_intervals_are_recalibrated_on_the_latest_residuals(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    candidate = fitted.candidates["naive"]
    wider = recalibrated(candidate, history, fitted.split, small_spec)
    assert wider.forecaster is candidate.forecaster
    assert not np.array_equal(wider.conformal.quantiles[0.8], candidate.conformal.quantiles[0.8])
