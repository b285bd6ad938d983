from datetime import date

import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.data.windows import (
    WindowSpec,
    origin_windows,
    realized_volatility,
    select_history,
    split_origins,
    training_set,
)
from tickercast.errors import InputError, InsufficientHistoryError
from tickercast.models.scaling import Preprocessor

SPEC = WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50)


@pytest.fixture
def prices(sample_aapl, short_history):
    return select_history(sample_aapl, "AAPL", *short_history, "XNYS")


def test_split_blocks_are_ordered_and_their_targets_do_not_overlap(prices):
    split = split_origins(len(prices), SPEC, "AAPL")
    last = len(prices) - 1
    assert split.holdout[-1] == last - SPEC.horizons  # the last origin with all targets known
    assert len(split.holdout) == SPEC.holdout
    assert split.fit[0] == SPEC.window
    assert split.fit[-1] + SPEC.horizons <= split.calibration[0]
    assert split.calibration[-1] + SPEC.horizons <= split.holdout[0]
    assert len(split.calibration) == pytest.approx(
        0.15 * (split.calibration[-1] - SPEC.window + 1), abs=1
    )


def test_inputs_and_targets_line_up_with_the_sessions(prices):
    adjusted = prices["adjusted_close"].to_numpy()
    origins = np.array([30, 100])
    history = History.of(prices)
    features = history.inputs(SPEC.target, SPEC.features)  # (N, 1) log returns
    windows = origin_windows(features, SPEC.window, origins)  # (2, 20, 1)
    assert windows.shape == (2, 20, 1)
    np.testing.assert_allclose(windows[0, -1, 0], np.log(adjusted[30] / adjusted[29]))
    np.testing.assert_allclose(windows[0, 0, 0], np.log(adjusted[11] / adjusted[10]))
    targets = history.targets(origins, 3)  # (2, 3)
    np.testing.assert_allclose(targets[1], np.log(adjusted[101:104] / adjusted[100]))
    assert np.isnan(history.targets(np.array([len(adjusted) - 2]), 3)[0, 1:]).all()


def test_volatility_uses_only_returns_up_to_the_origin(prices):
    adjusted = prices["adjusted_close"].to_numpy()
    volatility = realized_volatility(History.of(prices).returns, np.array([100]), 20)
    returns = np.diff(np.log(adjusted))
    np.testing.assert_allclose(volatility[0], np.std(returns[80:100], ddof=1))


def test_no_calibration_or_holdout_price_reaches_the_scalers(prices):
    for spec in (
        SPEC,
        WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50, target="price"),
        # the daily bar's gap and range: no later bar shapes their scaling either
        WindowSpec(
            window=20,
            holdout=40,
            min_fit_origins=50,
            features=("return", "gap", "range_volatility"),
        ),
    ):
        split = split_origins(len(prices), spec, "AAPL")
        history = History.of(prices)
        clean = Preprocessor.fit(history, spec, split.fit)
        poisoned = prices.copy()
        after_fit = split.fit[-1] + spec.horizons + 1
        storm = np.linspace(1, 50, len(poisoned) - after_fit)
        poisoned.loc[after_fit:, "adjusted_close"] *= storm
        poisoned.loc[after_fit:, "high"] *= storm * 1.5  # wider days, too
        poisoned_history = History.of(poisoned)
        leaked = Preprocessor.fit(poisoned_history, spec, split.fit)
        assert vars(leaked.input_scaler).keys() == vars(clean.input_scaler).keys()
        for name, value in vars(clean.input_scaler).items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(getattr(leaked.input_scaler, name), value)
        np.testing.assert_array_equal(
            leaked.inputs(poisoned_history, split.fit), clean.inputs(history, split.fit)
        )
        if clean.target_scaler is not None:
            np.testing.assert_array_equal(leaked.target_scaler.mean_, clean.target_scaler.mean_)
            np.testing.assert_array_equal(leaked.target_scaler.scale_, clean.target_scaler.scale_)


def test_scaled_targets_map_back_to_log_returns(prices):
    history = History.of(prices)
    for target in ("returns", "price"):
        spec = WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50, target=target)
        split = split_origins(len(prices), spec, "AAPL")
        preprocessor = Preprocessor.fit(history, spec, split.fit)
        origins = split.holdout
        scaled = preprocessor.targets(history, origins)
        expected = history.targets(origins, 3)
        np.testing.assert_allclose(
            preprocessor.to_log_returns(scaled, history, origins), expected, atol=1e-5
        )


def test_extra_features_and_bad_specs(prices):
    spec = WindowSpec(window=20, features=("return", "volume_change", "range"))
    history = History.of(prices)
    assert history.inputs(spec.target, spec.features).shape == (len(prices), 3)
    bar_spec = WindowSpec(features=("gap", "range_volatility"))
    bar = history.inputs(bar_spec.target, bar_spec.features)
    assert bar.shape == (len(prices), 2) and (bar[0] == 0).all()  # no session before the first
    assert np.isfinite(bar).all() and (bar[1:, 1] > 0).all()
    with pytest.raises(InputError, match="unknown target 'level'"):
        WindowSpec(target="level")
    with pytest.raises(InputError, match="unknown features"):
        WindowSpec(features=("sentiment",))


def test_too_little_history_says_how_much_is_needed(prices):
    with pytest.raises(InsufficientHistoryError) as error:
        training_set(prices.head(200), "AAPL", WindowSpec())
    assert error.value.needed == WindowSpec().min_sessions
    assert error.value.found == 200
    assert f"AAPL: too little history: needs at least {WindowSpec().min_sessions} sessions" in str(
        error.value
    )
    training_set(prices.head(SPEC.min_sessions), "AAPL", SPEC)  # just enough


def test_select_history_honours_start_and_as_of(sample_aapl):
    selected = select_history(sample_aapl, "AAPL", date(2012, 1, 1), date(2012, 12, 31), "XNYS")
    assert selected["session"].iloc[0].date() == date(2012, 1, 3)
    assert selected["session"].iloc[-1].date() == date(2012, 12, 31)
    assert selected.index[0] == 0
    saturday = select_history(sample_aapl, "AAPL", None, date(2012, 12, 29), "XNYS")
    assert saturday["session"].iloc[-1].date() == date(2012, 12, 28)
    with pytest.raises(InputError, match="as_of 2014-01-10 asks for the session of 2014-01-10"):
        select_history(sample_aapl, "AAPL", None, date(2014, 1, 10), "XNYS")


def test_training_set_hashes_its_sessions(prices):
    training = training_set(prices, "AAPL", SPEC)
    assert training.as_of == date(2013, 3, 1)
    assert len(training.data_sha256) == 64
