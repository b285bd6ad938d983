"""Scaling inputs and targets: fitted on what the fit origins see, saved as plain data."""

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec, select_history, split_origins
from tickercast.models.scaling import Preprocessor

RETURNS = WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50)
PRICE = WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50, target="price")
BAR = WindowSpec(
    window=20,
    horizons=3,
    holdout=40,
    min_fit_origins=50,
    features=("return", "volume_change", "range", "gap", "range_volatility"),
)


@pytest.fixture(scope="module")
def prices(sample_aapl) -> pd.DataFrame:
    """Real AAPL from 2011-06 to 2013-03-01 (about 440 sessions)."""
    return select_history(sample_aapl, "AAPL", date(2011, 6, 1), None, "XNYS")


@pytest.fixture(scope="module")
def history(prices) -> History:
    return History.of(prices)


def _last_seen(spec: WindowSpec, fit: np.ndarray) -> int:
    """The last session the fit origins see: the last fit origin's last target."""
    return int(fit[-1]) + spec.horizons


def test_returns_are_standardized_with_the_mean_and_deviation_of_the_fit_sessions(prices, history):
    fit = split_origins(len(history), RETURNS, "AAPL").fit
    preprocessor = Preprocessor.fit(history, RETURNS, fit)

    # derived from the prices alone: the daily log returns of the sessions from the
    # first fit window's first day to the last fit target's day
    logs = np.log(prices["adjusted_close"].to_numpy("float64"))
    returns = logs[1:] - logs[:-1]  # returns[i] ends on session i + 1
    seen = returns[fit[0] - RETURNS.window : _last_seen(RETURNS, fit)]
    np.testing.assert_allclose(preprocessor.input_scaler.mean_, [seen.mean()], rtol=1e-12)
    np.testing.assert_allclose(preprocessor.input_scaler.scale_, [seen.std()], rtol=1e-12)
    # targets per horizon: log(P[t+h] / P[t]) over the fit origins
    targets = np.column_stack([logs[fit + h] - logs[fit] for h in (1, 2, 3)])
    np.testing.assert_allclose(preprocessor.target_scaler.mean_, targets.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(preprocessor.target_scaler.scale_, targets.std(axis=0), rtol=1e-9)

    # an input window is the origin's last 20 returns, standardized with those figures
    origin = fit[-1]
    window = preprocessor.inputs(history, np.array([origin]))[0, :, 0]
    expected = (returns[origin - RETURNS.window : origin] - seen.mean()) / seen.std()
    np.testing.assert_allclose(window, expected, rtol=1e-5, atol=1e-6)


def test_price_levels_are_scaled_by_the_lowest_and_highest_close_the_fit_sessions_see(
    prices, history
):
    fit = split_origins(len(history), PRICE, "AAPL").fit
    preprocessor = Preprocessor.fit(history, PRICE, fit)
    seen = prices["adjusted_close"].to_numpy("float64")[
        fit[0] - PRICE.window + 1 : _last_seen(PRICE, fit) + 1
    ]
    assert preprocessor.target_scaler is None  # targets are scaled as the inputs are
    assert preprocessor.input_scaler.data_min_.tolist() == [seen.min()]
    assert preprocessor.input_scaler.data_max_.tolist() == [seen.max()]
    # a target is the close h sessions ahead, on the scale of those extremes
    adjusted = prices["adjusted_close"].to_numpy("float64")
    ahead = np.column_stack([adjusted[fit + h] for h in (1, 2, 3)])
    expected = (ahead - seen.min()) / (seen.max() - seen.min())
    np.testing.assert_allclose(preprocessor.targets(history, fit), expected, rtol=1e-5)


@pytest.mark.parametrize("spec", [RETURNS, PRICE, BAR], ids=["returns", "price", "daily bar"])
def test_a_price_after_the_last_fit_target_leaves_the_fitted_scalers_unchanged(
    prices, history, spec
):
    fit = split_origins(len(history), spec, "AAPL").fit
    clean = Preprocessor.fit(history, spec, fit)
    last_seen = _last_seen(spec, fit)

    def changed_at(position: int) -> Preprocessor:
        changed = prices.copy()
        for column in ("open", "high", "low", "close", "adjusted_close"):
            changed.loc[position, column] *= 3.0
        changed.loc[position, "volume"] *= 5
        return Preprocessor.fit(History.of(changed), spec, fit)

    later = changed_at(last_seen + 1)  # the first session no fit origin sees
    assert later.as_dict() == clean.as_dict()
    # the boundary is exact: the same change on the last session they see does move them
    assert changed_at(last_seen).as_dict() != clean.as_dict()


@pytest.mark.parametrize("spec", [RETURNS, PRICE, BAR], ids=["returns", "price", "daily bar"])
def test_saved_scalers_round_trip_through_json_to_identical_transforms(history, spec):
    split = split_origins(len(history), spec, "AAPL")
    fitted = Preprocessor.fit(history, spec, split.fit)
    saved = json.dumps(fitted.as_dict())  # plain data: no object json cannot write
    loaded = Preprocessor.from_dict(json.loads(saved))
    assert loaded.spec == spec
    assert loaded.as_dict() == fitted.as_dict()
    assert type(loaded.input_scaler) is type(fitted.input_scaler)
    origins = np.concatenate([split.calibration, split.holdout])
    np.testing.assert_array_equal(loaded.inputs(history, origins), fitted.inputs(history, origins))
    scaled = fitted.targets(history, origins)
    np.testing.assert_array_equal(loaded.targets(history, origins), scaled)
    np.testing.assert_array_equal(
        loaded.to_log_returns(scaled, history, origins),
        fitted.to_log_returns(scaled, history, origins),
    )
