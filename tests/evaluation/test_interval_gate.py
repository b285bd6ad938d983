"""The interval gate on real AAPL moves: sharper intervals win only when they are
calibrated and significantly better than the incumbent's."""

import numpy as np
import pytest

from tickercast.data.history import daily_log_returns
from tickercast.data.windows import realized_volatility
from tickercast.evaluation.interval_gate import (
    CLOSE_ONLY_INCUMBENT,
    INCUMBENT,
    OWN,
    decide_intervals,
)
from tickercast.evaluation.scores import Scored
from tickercast.models.candidates import INTERVAL_MODELS, uses_bar

LEVELS = {0.8: 1.2816, 0.95: 1.96}


@pytest.fixture(scope="module")
def moves(sample_aapl) -> tuple[np.ndarray, np.ndarray]:
    """The last 1,500 one-session log returns of AAPL (2007-2013: calm years and 2008's
    storm) and the 20-session volatility before each."""
    adjusted = sample_aapl["adjusted_close"].to_numpy("float64")
    origins = np.arange(len(adjusted) - 1501, len(adjusted) - 1)
    returns = np.log(adjusted[origins + 1] / adjusted[origins])
    return returns[:, None], realized_volatility(daily_log_returns(adjusted), origins, 20)


def _scored(name: str, actual: np.ndarray, volatility: np.ndarray, half: dict) -> Scored:
    """Naive's zero forecast with intervals of half-widths `half[level]`, (n,) each."""
    n = len(actual)
    bounds = {level: (-width[:, None], width[:, None]) for level, width in half.items()}
    zeros = np.zeros((n, 1))
    return Scored.build(name, np.ones(n), zeros, actual, bounds, np.ones((n, 1)), volatility)


def _field(actual, volatility, **chosen: dict) -> dict[str, Scored]:
    """Constant-width intervals (the unconditional quantiles) for the points' own and
    every candidate not in `chosen`."""
    constant = {level: np.full(len(actual), np.quantile(np.abs(actual), level)) for level in LEVELS}
    return {
        name: _scored(name, actual, volatility, chosen.get(name, constant))
        for name in (OWN, *INTERVAL_MODELS)
    }


def test_intervals_that_follow_volatility_replace_constant_ones(moves):
    actual, volatility = moves
    # the volatility scaled to cover each level over these moves (a good volatility model)
    scaled = {
        level: volatility * np.quantile(np.abs(actual[:, 0]) / volatility, level)
        for level in LEVELS
    }
    decision = decide_intervals(_field(actual, volatility, garch=scaled), 0.01, 0.01)
    assert decision.model == "garch"
    assert decision.scores["garch"] < 0.99
    assert decision.scores["static"] == pytest.approx(1.0)
    assert decision.reason.startswith(f"garch beats {INCUMBENT}")
    assert not decision.own


def test_without_a_significant_winner_the_incumbent_holds(moves):
    actual, volatility = moves
    decision = decide_intervals(_field(actual, volatility), 0.01, 0.1)
    assert decision.model == INCUMBENT and not decision.own
    assert f"no interval candidate beats {INCUMBENT} by 1%" in decision.reason
    # the points' own intervals are a challenger like any other
    scaled = {
        level: volatility * np.quantile(np.abs(actual[:, 0]) / volatility, level)
        for level in LEVELS
    }
    won = decide_intervals(_field(actual, volatility, naive=scaled), 0.01, 0.01)
    assert won.model == OWN and won.own


def test_a_sharper_interval_whose_coverage_is_wrong_is_not_chosen(moves):
    actual, volatility = moves
    # half the current width: a lower interval score here, but it covers far too little
    narrow = {
        level: np.full(len(actual), 0.5 * np.quantile(np.abs(actual), level)) for level in LEVELS
    }
    field = _field(actual, volatility, ewma=narrow)
    assert field["ewma"].metrics[0]["kupiec_p_80"] < 0.05
    decision = decide_intervals(field, 0.0, 1.0)  # any improvement would do
    assert decision.model != "ewma"


def test_the_incumbent_can_be_another_method(moves):
    actual, volatility = moves
    scaled = {
        level: volatility * np.quantile(np.abs(actual[:, 0]) / volatility, level)
        for level in LEVELS
    }
    field = _field(actual, volatility, garch_conformal=scaled)
    decision = decide_intervals(field, 0.01, 0.1, incumbent="garch_conformal")
    assert decision.model == "garch_conformal"
    assert "garch_conformal" not in decision.scores and OWN in decision.scores


def test_a_close_only_ticker_defends_gjr(moves):
    """Without the daily bar there is no blend: conformalized GJR holds instead, and the
    challengers are the close-only candidates."""
    actual, volatility = moves
    field = {name: s for name, s in _field(actual, volatility).items() if not uses_bar(name)}
    decision = decide_intervals(field, 0.01, 0.1)
    assert decision.model == CLOSE_ONLY_INCUMBENT == "gjr_conformal"
    assert set(decision.scores) == set(field) - {CLOSE_ONLY_INCUMBENT}
