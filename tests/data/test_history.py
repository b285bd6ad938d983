"""A ticker's history, computed once: what each array holds, that a cut of it is the
history of the cut prices, and a source without the daily bar."""

from datetime import date

import numpy as np
import pytest

from tickercast.data.daily_bar import overnight_gap, range_measure
from tickercast.data.history import History, daily_log_returns
from tickercast.data.windows import select_history


@pytest.fixture(scope="module")
def prices(sample_aapl):
    return select_history(sample_aapl, "AAPL", date(2011, 1, 3), None, "XNYS")


def test_the_arrays_are_the_adjusted_closes_their_logs_and_daily_returns(prices):
    history = History.of(prices)
    adjusted = prices["adjusted_close"].to_numpy()
    np.testing.assert_array_equal(history.adjusted, adjusted)
    np.testing.assert_allclose(np.exp(history.log_close), adjusted)
    assert np.isnan(history.returns[0])
    np.testing.assert_allclose(history.returns[1:], np.log(adjusted[1:] / adjusted[:-1]))
    np.testing.assert_array_equal(daily_log_returns(adjusted), history.returns)
    assert history.as_of.date() == date(2013, 3, 1) and len(history) == len(prices)


def test_targets_are_the_cumulative_log_returns_ahead_and_nan_past_the_end(prices):
    history = History.of(prices)
    adjusted = prices["adjusted_close"].to_numpy()
    last = len(prices) - 1
    targets = history.targets(np.array([10, last - 1]), 3)  # (2, 3)
    np.testing.assert_allclose(targets[0], np.log(adjusted[11:14] / adjusted[10]))
    np.testing.assert_allclose(targets[1, 0], np.log(adjusted[last] / adjusted[last - 1]))
    assert np.isnan(targets[1, 1:]).all()


def test_a_cut_is_the_history_of_the_prices_cut_after_the_origin(prices):
    lazy, whole = History.of(prices), History.of(prices)
    # computed on the whole history, the bar's arrays are sliced by the cut; else the
    # cut computes its own
    assert len(whole.range_measure) == len(whole.gap) == len(prices)
    for position, source in ((150, whole), (400, lazy), (len(prices) - 1, whole)):
        cut, fresh = source.until(position), History.of(prices.iloc[: position + 1])
        for name in ("adjusted", "log_close", "returns", "range_measure", "gap"):
            np.testing.assert_array_equal(getattr(cut, name), getattr(fresh, name), name)
        assert cut.bar == fresh.bar and cut.as_of == fresh.as_of
        spec = ("returns", ("return", "gap", "range_volatility"))
        np.testing.assert_array_equal(cut.inputs(*spec), fresh.inputs(*spec))


def test_the_bar_arrays_are_the_daily_bar_measures_and_network_inputs_are_made_once(prices):
    history = History.of(prices)
    np.testing.assert_array_equal(history.range_measure, range_measure(prices))
    np.testing.assert_array_equal(history.gap, overnight_gap(prices))
    assert history.bar
    inputs = history.inputs("returns", ("return", "range_volatility"))  # (N, 2)
    assert inputs is history.inputs("returns", ("return", "range_volatility"))
    assert inputs[0, 0] == 0.0  # the first session has no return
    np.testing.assert_array_equal(inputs[1:, 0], history.returns[1:])
    np.testing.assert_array_equal(inputs[:, 1], np.nan_to_num(np.sqrt(history.range_measure)))
    prices_in = history.inputs("price", ("return",))
    np.testing.assert_array_equal(prices_in[:, 0], history.adjusted)


def test_a_source_without_the_bar_reads_as_closes_alone(prices):
    # what a registered model of format 1 or 2 is served: no open, high or low
    closes = prices[["session", "adjusted_close", "close", "volume"]]
    history = History.of(closes)
    returns = np.diff(np.log(prices["adjusted_close"].to_numpy()))
    np.testing.assert_allclose(history.returns[1:], returns)
    with pytest.raises(KeyError, match="open"):
        _ = history.range_measure
    flat = prices.assign(open=np.nan, high=np.nan, low=np.nan)
    assert not History.of(flat).bar
    np.testing.assert_allclose(History.of(flat).range_measure[1:], returns**2)
