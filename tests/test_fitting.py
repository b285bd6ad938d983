import numpy as np

from tickercast.fitting import recalibrated


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


def test_published_intervals_are_recalibrated_on_the_latest_residuals(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    candidate = fitted.candidates["naive"]
    wider = recalibrated(candidate, history, fitted.split, small_spec)
    assert wider.forecaster is candidate.forecaster
    assert not np.array_equal(wider.conformal.quantiles[0.8], candidate.conformal.quantiles[0.8])
