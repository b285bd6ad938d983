"""A fitted candidate's forecast of the next sessions: its price units and its intervals."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickercast.data.history import History
from tickercast.data.windows import select_history
from tickercast.models.prediction import (
    BOUND_COLUMNS,
    forecast_latest,
    in_as_of_units,
    with_intervals,
)


def test_naive_forecasts_the_last_close_inside_its_intervals(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    latest = forecast_latest(fitted.candidates["naive"], history, small_spec)
    assert latest["horizon"].tolist() == [1, 2, 3]
    last = history.prices["adjusted_close"].iloc[-1]
    np.testing.assert_allclose(latest["forecast"], last)
    assert (latest["lower_95"] < latest["lower_80"]).all() and (latest["lower_80"] < last).all()
    assert (latest["upper_80"] < latest["upper_95"]).all()
    widths = (latest["upper_80"] - latest["lower_80"]).to_numpy()
    assert widths[0] < widths[-1]  # uncertainty grows with the horizon


def test_the_drift_forecast_grows_the_last_adjusted_close_by_the_mean_daily_return(
    fitted_aapl, small_spec
):
    history, fitted = fitted_aapl
    drift = fitted.candidates["drift"]
    latest = forecast_latest(drift, history, small_spec)

    # derived from the prices alone: the mean daily log return of the fit sessions,
    # and the realized volatility of the last 20 returns that spreads the intervals
    logs = np.log(history.prices["adjusted_close"].to_numpy("float64"))
    last_fit = fitted.split.fit[-1]
    daily = (logs[last_fit] - logs[0]) / last_fit
    horizons = np.arange(1, small_spec.horizons + 1)
    expected = history.prices["adjusted_close"].iloc[-1] * np.exp(daily * horizons)
    np.testing.assert_allclose(latest["forecast"], expected, rtol=1e-12)
    volatility = np.std(np.diff(logs)[-small_spec.volatility_lookback :], ddof=1)
    for level, half_widths in drift.intervals.quantiles.items():
        spread = np.exp(half_widths * volatility)
        name = round(level * 100)
        np.testing.assert_allclose(latest[f"upper_{name}"], expected * spread, rtol=1e-12)
        np.testing.assert_allclose(latest[f"lower_{name}"], expected / spread, rtol=1e-12)


def test_forecasts_are_reported_in_the_units_of_the_as_of_session_not_of_today(
    fitted_aapl, small_spec, sample_aapl
):
    _, fitted = fitted_aapl
    naive = fitted.candidates["naive"]
    # AAPL split 2:1 in 2005: a forecast as of 2004 is in that year's prices, not in
    # the units of the sample's adjusted closes (which later splits and dividends set)
    for as_of, close in ((date(2004, 6, 2), 28.92), (date(2013, 3, 1), 430.47)):
        prices = select_history(sample_aapl, "AAPL", date(2003, 1, 2), as_of, "XNYS")
        assert prices["close"].iloc[-1] == close  # the close a user saw that day
        latest = forecast_latest(naive, History.of(prices), small_spec)
        shown = in_as_of_units(latest, prices)
        assert list(shown.columns) == ["horizon", "last_close", "forecast", *BOUND_COLUMNS]
        assert shown["horizon"].tolist() == [1, 2, 3]
        assert (shown["last_close"] == close).all()
        np.testing.assert_allclose(shown["forecast"], close)  # naive: the close itself
        # every bound keeps its ratio to the forecast: the same interval, other units
        for bound in BOUND_COLUMNS:
            np.testing.assert_allclose(
                shown[bound] / shown["forecast"], latest[bound] / latest["forecast"]
            )


def test_another_candidates_intervals_keep_their_ratios_around_the_published_forecast(
    fitted_aapl, small_spec
):
    history, fitted = fitted_aapl
    point, garch = (
        in_as_of_units(
            forecast_latest(fitted.candidates[name], history, small_spec), history.prices
        )
        for name in ("lstm", "garch")
    )
    before = point.copy()
    moved = with_intervals(point, garch)
    pd.testing.assert_frame_equal(point, before)  # the point's own rows are left as they were
    pd.testing.assert_series_equal(moved["forecast"], point["forecast"])
    pd.testing.assert_series_equal(moved["last_close"], point["last_close"])
    for bound in BOUND_COLUMNS:
        np.testing.assert_allclose(
            moved[bound] / moved["forecast"], garch[bound] / garch["forecast"], rtol=1e-12
        )
    # in log returns: the same offsets from the forecast as GARCH's from its own
    np.testing.assert_allclose(
        np.log(moved["upper_95"] / moved["forecast"]),
        np.log(garch["upper_95"] / garch["forecast"]),
    )
    order = moved[["lower_95", "lower_80", "forecast", "upper_80", "upper_95"]].to_numpy()
    assert (np.diff(order, axis=1) > 0).all()


def test_without_another_candidate_the_forecast_keeps_its_own_intervals(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    point = forecast_latest(fitted.candidates["lstm"], history, small_spec)
    assert with_intervals(point, None) is point


def test_the_bound_columns_are_both_levels_lower_then_upper():
    assert BOUND_COLUMNS == ["lower_80", "upper_80", "lower_95", "upper_95"]


@pytest.mark.parametrize("name", ["ar", "lstm", "static", "gjr_conformal"])
def test_every_candidate_forecasts_each_horizon_inside_its_intervals(fitted_aapl, small_spec, name):
    history, fitted = fitted_aapl
    latest = forecast_latest(fitted.candidates[name], history, small_spec)
    assert latest["horizon"].tolist() == [1, 2, 3]
    order = latest[["lower_95", "lower_80", "forecast", "upper_80", "upper_95"]].to_numpy()
    assert np.isfinite(order).all() and (np.diff(order, axis=1) > 0).all()
