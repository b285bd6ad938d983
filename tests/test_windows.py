from datetime import date

import numpy as np
import pytest

from tickercast.errors import InputError, InsufficientHistoryError
from tickercast.prices import clip_sessions
from tickercast.windows import WindowSpec, build_windows, select_history


@pytest.fixture
def history(sample_aapl, short_history):
    return clip_sessions(sample_aapl, *short_history)


def test_shapes_and_chronological_splits(history):
    windows = build_windows(history, "AAPL", WindowSpec(window=20))
    n = len(history) - 20
    n_train, n_val, n_test = WindowSpec(window=20).split_sizes(n)
    assert windows.x_train.shape == (n_train, 20, 1) and windows.y_train.shape == (n_train, 1)
    assert windows.x_val.shape == (n_val, 20, 1) and windows.x_test.shape == (n_test, 20, 1)
    assert windows.latest.shape == (1, 20, 1)
    assert n_test == int(n * 0.2) and n_val == int(n * 0.1)
    splits = windows.split_sessions
    assert splits["train_end"] < splits["validation_start"] <= splits["validation_end"]
    assert splits["validation_end"] < splits["test_start"] <= splits["test_end"] == "2013-03-01"
    assert windows.as_of == date(2013, 3, 1)


def test_each_target_is_the_session_after_its_window(history):
    windows = build_windows(history, "AAPL", WindowSpec(window=20))
    prices = history["adjusted_close"].to_numpy()
    # first training window: sessions 0..19, target 20
    np.testing.assert_allclose(windows.to_prices(windows.x_train[0]), prices[:20], rtol=1e-5)
    np.testing.assert_allclose(windows.to_prices(windows.y_train[0]), prices[20:21], rtol=1e-5)
    np.testing.assert_allclose(windows.to_prices(windows.y_test), windows.test_actual, rtol=1e-5)
    np.testing.assert_allclose(
        windows.to_prices(windows.x_test[:, -1, 0]), windows.test_previous_close, rtol=1e-5
    )
    np.testing.assert_allclose(windows.to_prices(windows.latest), prices[-20:], rtol=1e-5)
    assert windows.test_sessions[-1] == np.datetime64("2013-03-01")


def test_no_validation_or_test_price_reaches_the_scaler(history):
    spec = WindowSpec(window=20)
    clean = build_windows(history, "AAPL", spec)
    n_train = len(clean.y_train)
    poisoned = history.copy()
    # every session after the last training target becomes absurd
    poisoned.loc[poisoned.index[n_train + spec.window :], "adjusted_close"] *= 1000.0
    leaked = build_windows(poisoned, "AAPL", spec)
    assert leaked.scaler.data_max_ == clean.scaler.data_max_
    assert leaked.scaler.data_min_ == clean.scaler.data_min_
    np.testing.assert_array_equal(leaked.x_train, clean.x_train)
    np.testing.assert_array_equal(leaked.y_train, clean.y_train)
    assert (
        clean.scaler.data_max_[0] == history["adjusted_close"].iloc[: n_train + spec.window].max()
    )


def test_too_little_history_says_how_much_is_needed(history):
    spec = WindowSpec(window=60)
    with pytest.raises(InsufficientHistoryError) as error:
        build_windows(history.head(80), "AAPL", spec)
    assert error.value.needed == spec.min_sessions == 110
    assert error.value.found == 80
    assert "AAPL: too little history: needs at least 110 sessions" in str(error.value)
    build_windows(history.head(spec.min_sessions), "AAPL", spec)  # just enough


def test_select_history_honours_start_and_as_of(sample_aapl):
    selected = select_history(sample_aapl, "AAPL", date(2012, 1, 1), date(2012, 12, 31), "XNYS")
    assert selected["session"].iloc[0].date() == date(2012, 1, 3)
    assert selected["session"].iloc[-1].date() == date(2012, 12, 31)
    # a Saturday as_of uses Friday's session
    assert select_history(sample_aapl, "AAPL", None, date(2012, 12, 29), "XNYS")["session"].iloc[
        -1
    ].date() == date(2012, 12, 28)


def test_select_history_refuses_an_as_of_past_the_stored_prices(sample_aapl):
    with pytest.raises(
        InputError,
        match="AAPL: as_of 2014-01-10 asks for the session of 2014-01-10, "
        "but the stored prices end on 2013-03-01",
    ):
        select_history(sample_aapl, "AAPL", None, date(2014, 1, 10), "XNYS")
