"""The LSTM's variance head on real AAPL prices."""

import json

import numpy as np

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec
from tickercast.models.fitting import fit_candidates
from tickercast.models.network_config import ModelConfig
from tickercast.models.variance_head import LSTMHead
from tickercast.models.volatility import EWMA


def _gaussian_nll(returns: np.ndarray, sd: np.ndarray) -> float:
    return float(np.mean(np.log(sd) + 0.5 * (returns / sd) ** 2))


def test_the_head_forecasts_the_spread_of_each_horizon_out_of_sample(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    head = fitted.candidates["lstm_head"].volatility
    assert isinstance(head, LSTMHead) and head.forecaster is fitted.candidates["lstm"].forecaster
    holdout = fitted.split.holdout
    spread = head.spread(history, holdout, small_spec.horizons)
    assert spread.sd.shape == (len(holdout), small_spec.horizons)
    assert np.isfinite(spread.sd).all() and (spread.sd > 0).all() and np.isinf(spread.dof).all()
    assert (np.diff(spread.sd.mean(axis=0)) > 0).all()  # farther ahead, wider
    # on the holdout, which it never saw, its Gaussian likelihood beats one constant
    # spread per horizon fitted on the same fit origins as the head
    actual = history.targets(holdout, small_spec.horizons)
    fit_returns = history.targets(fitted.split.fit, small_spec.horizons)
    constant = np.sqrt(np.mean(fit_returns**2, axis=0))
    assert _gaussian_nll(actual, spread.sd) < _gaussian_nll(actual, constant[None, :])
    # and RiskMetrics' EWMA, one of its inputs
    ewma = EWMA().spread(history, holdout, small_spec.horizons).sd
    assert _gaussian_nll(actual, spread.sd) < _gaussian_nll(actual, ewma)


def test_the_head_reads_nothing_after_each_origin(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    head = fitted.candidates["lstm_head"].volatility
    origin = int(fitted.split.holdout[10])
    whole = head.spread(history, np.array([origin]), small_spec.horizons).sd
    known = History.of(history.prices.iloc[: origin + 1])
    cut = head.spread(known, np.array([origin]), small_spec.horizons).sd
    np.testing.assert_array_equal(whole, cut)


def test_a_window_shorter_than_the_ewma_seed_still_fits(sample_aapl):
    """Fit origins start at the window; those before the EWMA's seed are left out."""
    history = History.of(sample_aapl.iloc[-700:].reset_index(drop=True))
    fitted = fit_candidates(
        history, "AAPL", WindowSpec(window=5, horizons=2), ModelConfig(units=4, epochs=1)
    )
    assert fitted.split.fit[0] == 5
    holdout = fitted.split.holdout
    assert (fitted.candidates["lstm_head"].volatility.spread(history, holdout, 2).sd > 0).all()


def test_a_frozen_head_gives_its_spread_from_the_last_window_alone(fitted_aapl, small_spec):
    """What a registered model carries: the head's numbers and its EWMA frozen at the
    as_of, on the registered network; the recent sessions are all it reads."""
    history, fitted = fitted_aapl
    head = fitted.candidates["lstm_head"].volatility
    frozen = head.frozen(history)
    loaded = LSTMHead.from_dict(json.loads(json.dumps(frozen.as_dict())), head.forecaster)
    last = len(history) - 1
    whole = head.spread(history, np.array([last]), small_spec.horizons).sd
    recent = History.of(history.prices.tail(small_spec.window + 1).reset_index(drop=True))
    alone = loaded.spread(recent, np.array([small_spec.window]), small_spec.horizons).sd
    np.testing.assert_allclose(alone, whole, rtol=1e-9)
