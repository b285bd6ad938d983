import json
import logging
import time

import numpy as np
import pytest
from arch import arch_model

from tickercast.data.history import History
from tickercast.data.windows import realized_volatility
from tickercast.errors import InputError
from tickercast.models.har import Blend, LogHar, fit_har, saved_volatility
from tickercast.models.volatility import (
    EWMA,
    ConstantScale,
    Garch,
    RealizedVolatility,
    Spread,
    fit_garch,
    fit_range_garch,
)

# a short window keeps each fit fast; refits at multiples of 21
WINDOW, REFIT, H = 300, 21, 5


@pytest.fixture
def prices(sample_aapl):
    """The first ~1000 sessions of real AAPL from 2000-03 (the dot-com crash included)."""
    return sample_aapl.head(1000).reset_index(drop=True)


@pytest.fixture
def history(prices):
    return History.of(prices)


@pytest.fixture
def cold_cache():
    """Empty fit caches, emptied again after the test (no fit of it leaks to another)."""
    _clear_fits()
    yield
    _clear_fits()


def _clear_fits() -> None:
    for fit in (fit_garch, fit_range_garch, fit_har):
        fit.cache_clear()


def _returns(history) -> np.ndarray:
    return np.diff(np.log(history.prices["adjusted_close"].to_numpy()), prepend=np.nan)


def test_half_width_uses_normal_or_unit_variance_student_quantiles():
    sd = np.array([[1.0, 2.0], [1.0, 2.0]])
    spread = Spread(sd, np.array([np.inf, 5.0]))
    # t(5) quantiles 1.475884 (90 %) and 2.570582 (97.5 %) times sqrt(3 / 5)
    np.testing.assert_allclose(
        spread.half_width(0.8), [[1.281552, 2.563103], [1.143215, 2.286430]], atol=1e-5
    )
    np.testing.assert_allclose(
        spread.half_width(0.95), [[1.959964, 3.919928], [1.991164, 3.982328]], atol=1e-5
    )


def test_ewma_is_the_riskmetrics_recursion_and_grows_like_sqrt_h(history):
    origins = np.array([250, 20, 21, 777])
    spread = EWMA().spread(history, origins, H)
    returns = _returns(history)
    expected = []
    for origin in origins:
        variance = np.mean(returns[1:21] ** 2)  # sigma2[21|20]
        for s in range(21, origin + 1):
            variance = 0.94 * variance + 0.06 * returns[s] ** 2
        expected.append(variance)
    np.testing.assert_allclose(spread.sd[:, 0] ** 2, expected, rtol=1e-12)
    np.testing.assert_allclose(spread.sd, spread.sd[:, :1] * np.sqrt(np.arange(1, H + 1)))
    assert np.isinf(spread.dof).all()


def test_realized_volatility_is_windows_realized_volatility_at_every_horizon(history):
    origins = np.array([5, 60, 999])
    spread = RealizedVolatility(20).spread(history, origins, H)
    expected = realized_volatility(_returns(history), origins, 20)
    np.testing.assert_array_equal(spread.sd, np.repeat(expected[:, None], H, axis=1))
    assert np.isinf(spread.dof).all()
    static = ConstantScale().spread(history, origins, H)
    assert (static.sd == 1).all() and np.isinf(static.dof).all()


@pytest.mark.parametrize("leverage", [False, True])
def test_garch_filters_like_arch_with_the_parameters_of_the_refit_point(
    history, leverage, cold_cache
):
    refit = 42 * REFIT  # 882
    origins = np.array([refit + 20, refit, refit + 7, refit + 1])  # one group, unsorted
    model = Garch(leverage=leverage, window=WINDOW, refit_every=REFIT)
    spread = model.spread(history, origins, H)
    assert fit_garch.cache_info().misses == 1  # one fit for the whole group
    assert np.all(spread.dof == spread.dof[0]) and 2 < spread.dof[0] < np.inf

    # arch itself: fit on the refit point's window, then forecast later origins with
    # the same parameters
    percent = 100 * _returns(history)[refit - WINDOW + 1 : origins.max() + 1]
    result = arch_model(percent, mean="Zero", vol="GARCH", p=1, o=int(leverage), q=1, dist="t").fit(
        last_obs=WINDOW, disp="off", show_warning=False
    )
    forecast = result.forecast(horizon=H, start=WINDOW - 1, reindex=False).variance
    expected = np.cumsum(forecast.to_numpy()[origins - refit], axis=1) / 100**2  # (n, H)
    np.testing.assert_allclose(spread.sd**2, expected, rtol=1e-6)
    assert spread.dof[0] == pytest.approx(result.params["nu"])


@pytest.mark.parametrize(
    "model",
    [
        Garch(window=WINDOW, refit_every=REFIT),
        Garch(leverage=True),
        EWMA(),
        Garch(window=WINDOW, refit_every=REFIT, range_term=True),
        Garch(leverage=True, range_term=True),
        LogHar(window=WINDOW),
    ],
    ids=lambda model: model.name,
)
def test_no_spread_looks_past_its_origin(prices, history, model, cold_cache):
    """A session's bar (open, high, low, close) enters only spreads at its close or later:
    the spread at each origin is the same from the history cut just after it."""
    # 101: fitted at the origin itself (84, its refit point, has too few returns)
    origins = np.array([101, 420, 440, 990])
    spread = model.spread(history, origins, H)
    for row, origin in enumerate(origins):
        _clear_fits()  # fitted afresh from the truncated history
        alone = model.spread(History.of(prices.iloc[: origin + 1]), np.array([origin]), H)
        # equal but for rounding (a matrix product's summation order follows its size)
        np.testing.assert_allclose(alone.sd[0], spread.sd[row], rtol=1e-13)
        np.testing.assert_array_equal(alone.dof[0], spread.dof[row])


def test_origins_sharing_a_refit_point_share_one_cached_fit(history, cold_cache):
    model = Garch(leverage=True, window=WINDOW, refit_every=REFIT)
    origins = np.arange(420, 462)  # refit points 420 and 441
    started = time.perf_counter()
    first = model.spread(history, origins, H)
    cold = time.perf_counter() - started
    assert fit_garch.cache_info().misses == 2
    assert len(np.unique(first.dof[:21])) == 1 and len(np.unique(first.dof[21:])) == 1
    assert first.dof[0] != first.dof[21]

    started = time.perf_counter()
    again = model.spread(history, origins, H)
    warm = time.perf_counter() - started
    assert fit_garch.cache_info().misses == 2 and fit_garch.cache_info().hits == 2
    np.testing.assert_array_equal(again.sd, first.sd)
    assert warm < cold


def test_a_failed_fit_falls_back_to_riskmetrics_and_says_where(
    history, cold_cache, monkeypatch, caplog
):
    def failing(*args, **kwargs):
        raise ValueError("no convergence")

    monkeypatch.setattr("arch.arch_model", failing)
    with caplog.at_level(logging.WARNING, logger="tickercast.models.volatility"):
        spread = Garch(window=WINDOW, refit_every=REFIT).spread(history, np.array([430]), H)
    assert "garch fit at position 420 failed (ValueError: no convergence)" in caplog.text
    # omega 0, alpha + beta 1: a flat variance ahead, normal innovations
    np.testing.assert_allclose(spread.sd, spread.sd[:, :1] * np.sqrt(np.arange(1, H + 1)))
    assert np.isinf(spread.dof).all()


def test_too_early_an_origin_is_refused(history):
    with pytest.raises(InputError, match="needs at least 100"):
        Garch().spread(history, np.array([99, 500]), H)
    with pytest.raises(InputError, match="needs at least 20"):
        EWMA().spread(history, np.array([19]), H)


@pytest.mark.parametrize(
    "model",
    [
        Garch(window=WINDOW, refit_every=REFIT),
        Garch(leverage=True),
        EWMA(),
        RealizedVolatility(20),
        Garch(leverage=True, range_term=True),
        LogHar(window=WINDOW),
        Blend(Garch(leverage=True), LogHar()),
    ],
    ids=lambda model: model.name,
)
def test_a_frozen_model_carries_its_spread_in_plain_numbers(prices, history, model):
    """What a registered model carries: frozen at a session and read back from JSON, it
    gives the spread there, and after it until the next refit, from the last 30
    sessions alone."""
    frozen_at = 430  # refit point 420 (every 21 sessions): 431..440 share its parameters
    frozen = model.frozen(History.of(prices.iloc[: frozen_at + 1]))
    saved = json.loads(json.dumps(frozen.as_dict()))
    loaded = saved_volatility(saved)
    origins = np.arange(frozen_at, 441)
    full = model.spread(history, origins, H)
    recent = History.of(prices.iloc[frozen_at - 29 : 441].reset_index(drop=True))
    alone = loaded.spread(recent, origins - (frozen_at - 29), H)
    np.testing.assert_allclose(alone.sd, full.sd, rtol=1e-12)
    np.testing.assert_array_equal(alone.dof, full.dof)


def test_a_frozen_model_needs_its_session_and_the_one_before(prices):
    frozen = Garch(window=WINDOW, refit_every=REFIT).frozen(History.of(prices.iloc[:431]))
    with pytest.raises(InputError, match="must hold that session and the one before"):
        frozen.spread(History.of(prices.iloc[430:460].reset_index(drop=True)), np.array([5]), H)
    with pytest.raises(InputError, match="no spread before"):
        frozen.spread(History.of(prices.iloc[400:460].reset_index(drop=True)), np.array([20]), H)
