from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from tickercast.backtest import MODELS, run_backtest
from tickercast.windows import select_history

# every test here trains a walk-forward backtest (tens of seconds each on 2 cores)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def history(sample_aapl):
    return select_history(sample_aapl, "AAPL", date(2010, 6, 1), None, "XNYS")


@pytest.fixture(scope="module")
def backtest(history, small_spec, small_config):
    return run_backtest(history, "AAPL", small_spec, small_config, folds=2)


def test_folds_are_consecutive_and_end_at_the_last_known_origin(backtest, history, small_spec):
    first, second = backtest.folds
    sessions = history["session"].dt.date.to_list()
    assert second.last_origin == sessions[len(history) - 1 - small_spec.horizons]
    assert sessions.index(second.first_origin) == sessions.index(first.last_origin) + 1
    assert first.as_of == first.first_origin
    assert all(len(fold.scored["lstm"].current) == small_spec.holdout for fold in backtest.folds)


def test_rows_have_every_model_horizon_and_fold(backtest, small_spec):
    rows = backtest.rows()
    assert len(rows) == (1 + 2) * len(MODELS) * small_spec.horizons
    pooled = [r for r in rows if r["fold"] == "all"]
    assert {r["model"] for r in pooled} == {"lstm", "naive", "drift", "ar", "published"}
    naive = [r for r in pooled if r["model"] == "naive"]
    assert all(r["rmse_ratio"] == 1.0 and r["directional_accuracy"] is None for r in naive)
    keys = {
        "ticker",
        "model",
        "horizon",
        "fold",
        "rmse_ratio",
        "mase",
        "directional_accuracy",
        "da_pvalue",
        "dm_pvalue",
        "coverage_80",
        "coverage_95",
    }
    assert keys <= set(rows[0])


def test_published_is_what_the_gate_chose_in_each_fold(backtest):
    for fold in backtest.folds:
        chosen = fold.scored[fold.decision.published]
        np.testing.assert_array_equal(fold.scored["published"].forecast, chosen.forecast)


def test_two_runs_with_one_seed_give_identical_metrics(backtest, history, small_spec, small_config):
    again = run_backtest(history, "AAPL", small_spec, small_config, folds=2)
    assert again.rows() == backtest.rows()


@pytest.mark.parametrize("features", [("return",), ("return", "volume_change", "range")])
def test_a_fold_never_sees_its_future(history, small_spec, small_config, features):
    """Perturb every price and volume after the second fold's first origin: the first fold's
    forecasts, and the second fold's fit (gate, intervals, first forecast) must not change."""
    spec = replace(small_spec, features=features)
    backtest = run_backtest(history, "AAPL", spec, small_config, folds=2)
    first, second = backtest.folds
    cut = history.index[history["session"].dt.date == second.first_origin][0]
    perturbed = history.copy()
    later = len(history) - cut - 1
    perturbed.loc[cut + 1 :, "adjusted_close"] *= np.linspace(1.5, 4.0, later)
    perturbed.loc[cut + 1 :, ["high", "close"]] *= 2.0
    perturbed.loc[cut + 1 :, "volume"] *= 10
    changed = run_backtest(perturbed, "AAPL", spec, small_config, folds=2)
    for name in MODELS:
        np.testing.assert_array_equal(
            changed.folds[0].scored[name].forecast, first.scored[name].forecast
        )
        np.testing.assert_array_equal(
            changed.folds[1].scored[name].forecast[0], second.scored[name].forecast[0]
        )
        for level in (0.8, 0.95):
            np.testing.assert_array_equal(
                changed.folds[1].scored[name].bounds[level][0][0],
                second.scored[name].bounds[level][0][0],
            )
    assert changed.folds[1].decision == second.decision
    # while the perturbation is visible where it should be: later targets
    assert not np.array_equal(
        changed.folds[1].scored["naive"].actual, second.scored["naive"].actual
    )


def test_warm_start_fine_tunes_the_previous_fold(history, small_spec, small_config):
    warm = run_backtest(history, "AAPL", small_spec, small_config, folds=2, warm_start=True)
    assert [fold.warm_started for fold in warm.folds] == [False, True]
    assert [
        fold.warm_started
        for fold in run_backtest(history, "AAPL", small_spec, small_config, folds=2).folds
    ] == [False, False]
