import numpy as np

from tickercast.data.history import History
from tickercast.models.candidates import BAR_MODELS, INTERVAL_MODELS, POINT_MODELS, uses_bar
from tickercast.models.conformal import Conformal
from tickercast.models.fitting import close_only, interval_candidates, recalibrated
from tickercast.models.intervals import ModelQuantiles
from tickercast.models.retraining import Training


def test_every_candidate_is_fitted_and_calibrated(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    assert set(fitted.candidates) == {*POINT_MODELS, *INTERVAL_MODELS}
    for name, candidate in fitted.candidates.items():
        forecast, bounds = candidate.forecast(history, fitted.split.holdout)
        assert forecast.shape == (len(fitted.split.holdout), small_spec.horizons)
        assert np.isfinite(forecast).all()
        inner, outer = bounds[0.8], bounds[0.95]
        assert (outer[0] < inner[0]).all() and (inner[0] < forecast).all(), name
        assert (forecast < inner[1]).all() and (inner[1] < outer[1]).all(), name
        if isinstance(candidate.intervals, Conformal):
            for half in candidate.intervals.quantiles.values():
                assert half.shape == (small_spec.horizons,) and (half > 0).all()
        else:
            assert isinstance(candidate.intervals, ModelQuantiles), name
    for name in INTERVAL_MODELS:  # intervals around naive's zero return
        assert fitted.candidates[name].forecaster.name == "naive"
    assert fitted.plan.training is Training.FULL


def test_published_intervals_are_recalibrated_on_the_latest_residuals(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    candidate = fitted.candidates["naive"]
    wider = recalibrated(candidate, history, fitted.split, small_spec)
    assert wider.forecaster is candidate.forecaster
    assert not np.array_equal(wider.intervals.quantiles[0.8], candidate.intervals.quantiles[0.8])
    garch = fitted.candidates["garch"]  # its own quantiles: nothing to recalibrate
    assert recalibrated(garch, history, fitted.split, small_spec) is garch


def test_a_close_only_source_gets_the_close_only_interval_models(fitted_aapl, small_spec):
    """Without open, high and low the models of the daily bar are left out, and the
    reason names the ticker and the share of sessions with a bar."""
    history, fitted = fitted_aapl
    assert close_only(history, "AAPL") is None
    closes = History.of(history.prices.assign(open=np.nan, high=np.nan, low=np.nan))
    lstm = fitted.candidates["lstm"].forecaster
    candidates = interval_candidates(closes, fitted.split, small_spec, lstm)
    assert set(candidates) == {name for name in INTERVAL_MODELS if not uses_bar(name)}
    assert {name.removesuffix("_conformal") for name in INTERVAL_MODELS if uses_bar(name)} == set(
        BAR_MODELS
    )
    reason = close_only(closes, "AAPL")
    assert reason.startswith("AAPL: the source gives a readable open, high and low on 0% of")
    assert "without range_garch, range_gjr, har, blend" in reason
    # the close-only candidates' intervals are those of the full bar's run
    for name, candidate in candidates.items():
        full = fitted.candidates[name].forecast(history, fitted.split.holdout)[1]
        bare = candidate.forecast(closes, fitted.split.holdout)[1]
        np.testing.assert_allclose(bare[0.8][1], full[0.8][1], rtol=1e-6, err_msg=name)
