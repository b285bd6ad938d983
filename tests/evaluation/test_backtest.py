from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.data.windows import select_history
from tickercast.evaluation.backtest import MODELS, run_backtest
from tickercast.evaluation.champion import Choice
from tickercast.models.candidates import uses_bar
from tickercast.tracking import run_record

# every test here trains a walk-forward backtest (tens of seconds each on 2 cores)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prices(sample_aapl):
    return select_history(sample_aapl, "AAPL", date(2010, 6, 1), None, "XNYS")


@pytest.fixture(scope="module")
def history(prices):
    return History.of(prices)


@pytest.fixture(scope="module")
def backtest(history, small_spec, small_config):
    return run_backtest(history, "AAPL", small_spec, small_config, folds=2)


# A gate that any LSTM passes on the holdout (ratio under 2, any p-value under 1), so
# that what the shadow gate does with a holdout winner shows in every fold.
PERMISSIVE = {"margin": -1.0, "significance": 1.0}


@pytest.fixture(scope="module")
def shadowed(history, small_spec, small_config):
    """Three folds of 40 origins, and a live record of 50 forecasts: more than fold 1
    left for fold 2, so only fold 3 has one, made by the LSTMs of folds 1 and 2."""
    return run_backtest(
        history, "AAPL", small_spec, small_config, folds=3, live_required=50, **PERMISSIVE
    )


def test_folds_are_consecutive_and_end_at_the_last_known_origin(backtest, prices, small_spec):
    first, second = backtest.folds
    sessions = prices["session"].dt.date.to_list()
    assert second.last_origin == sessions[len(prices) - 1 - small_spec.horizons]
    assert sessions.index(second.first_origin) == sessions.index(first.last_origin) + 1
    assert first.as_of == first.first_origin
    assert all(len(fold.scored["lstm"].current) == small_spec.holdout for fold in backtest.folds)


def test_rows_have_every_model_horizon_and_fold(backtest, small_spec):
    rows = backtest.rows()
    assert len(rows) == (1 + 2) * len(MODELS) * small_spec.horizons
    pooled = [r for r in rows if r["fold"] == "all"]
    assert {r["model"] for r in pooled} == {
        *("lstm", "naive", "drift", "ar", "published", "published_holdout"),
        *("static", "ewma", "ewma_conformal", "garch", "garch_conformal"),
        *("gjr", "gjr_conformal", "lstm_head", "lstm_head_conformal"),
        *("range_garch", "range_garch_conformal", "range_gjr", "range_gjr_conformal"),
        *("har", "har_conformal", "blend", "blend_conformal"),
    }
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
        "interval_score_80",
        "interval_score_95",
        "kupiec_p_80",
        "kupiec_p_95",
        "christoffersen_p_95",
        "pinball_lower_80",
        "pinball_upper_95",
        "coverage_95_high_vol",
    }
    assert keys <= set(rows[0])


def test_published_is_what_the_gates_chose_in_each_fold(shadowed):
    for fold in shadowed.folds:
        for name, decision in (
            ("published", fold.decision),
            ("published_holdout", fold.holdout_decision),
        ):
            chosen = fold.scored[decision.published]
            np.testing.assert_array_equal(fold.scored[name].forecast, chosen.forecast)
            # the interval gate's intervals, moved onto the published point
            source = chosen if fold.intervals.own else fold.scored[fold.intervals.model]
            for level, (lower, upper) in fold.scored[name].bounds.items():
                offset = chosen.forecast - source.forecast
                np.testing.assert_allclose(lower, source.bounds[level][0] + offset)
                np.testing.assert_allclose(upper, source.bounds[level][1] + offset)
    # the two series differ where the gates did
    first = shadowed.folds[0].scored
    np.testing.assert_array_equal(first["published"].forecast, first["naive"].forecast)
    np.testing.assert_array_equal(first["published_holdout"].forecast, first["lstm"].forecast)


def test_the_shadow_gate_publishes_a_holdout_winner_only_with_a_full_live_record(shadowed):
    assert [fold.holdout_decision.published for fold in shadowed.folds] == [Choice.LSTM] * 3
    # fold 1 has no live record (a new ticker), fold 2 only fold 1's 40 forecasts
    assert [fold.live.forecasts for fold in shadowed.folds] == [0, 40, 50]
    assert [fold.decision.published for fold in shadowed.folds] == [
        Choice.NAIVE,
        Choice.NAIVE,
        Choice.LSTM,
    ]
    assert "has 0 of the 50 scored forecasts needed" in shadowed.folds[0].decision.reason
    assert not shadowed.folds[0].decision.promote


def test_the_live_record_holds_earlier_folds_forecasts_whose_targets_closed_by_the_fold(
    shadowed, prices
):
    """Fold 3's record: the last 50 one-session forecasts of the LSTMs of folds 1 and 2,
    on their own origins, targets up to fold 3's as_of and not one session later;
    errors in prices, recomputed here from the prices and each fold's forecasts."""
    first, second, third = shadowed.folds
    sessions = prices["session"].dt.date.to_list()
    as_of = sessions.index(third.as_of)
    targets = [sessions.index(day) for day in third.live_targets]
    assert targets == list(range(as_of - 49, as_of + 1))
    lstm = np.concatenate(
        [first.scored["lstm"].forecast[-10:, 0], second.scored["lstm"].forecast[:, 0]]
    )
    adjusted = prices["adjusted_close"].to_numpy()
    actual, current = adjusted[targets], adjusted[np.array(targets) - 1]
    np.testing.assert_allclose(third.live.errors, actual - current * np.exp(lstm))
    np.testing.assert_allclose(third.live.naive_errors, actual - current)
    assert len(first.live_targets) == 0
    assert second.live_targets[-1] == second.as_of


def test_without_a_live_record_required_both_gates_publish_the_same(
    history, small_spec, small_config
):
    holdout_only = run_backtest(
        history, "AAPL", small_spec, small_config, folds=2, live_required=0, **PERMISSIVE
    )
    for fold in holdout_only.folds:
        assert fold.decision == fold.holdout_decision
        assert fold.decision.published == Choice.LSTM  # fold 1 too: no record asked for
        assert fold.live.forecasts == 0  # the last 0 forecasts, not all of them
    rows = [r for r in holdout_only.rows() if r["model"].startswith("published")]
    published = [{**r, "model": None} for r in rows if r["model"] == "published"]
    assert published == [{**r, "model": None} for r in rows if r["model"] == "published_holdout"]


def test_two_runs_with_one_seed_give_identical_metrics(backtest, history, small_spec, small_config):
    again = run_backtest(history, "AAPL", small_spec, small_config, folds=2)
    assert again.rows() == backtest.rows()


@pytest.mark.parametrize("features", [("return",), ("return", "volume_change", "range")])
def test_a_fold_never_sees_its_future(prices, history, small_spec, small_config, features):
    """Perturb every price and volume after the second fold's first origin: the first fold's
    forecasts, and the second fold's fit (gates, live record, intervals, first forecast)
    must not change."""
    spec = replace(small_spec, features=features)
    backtest = run_backtest(history, "AAPL", spec, small_config, folds=2, live_required=20)
    first, second = backtest.folds
    cut = prices.index[prices["session"].dt.date == second.first_origin][0]
    perturbed = prices.copy()
    later = len(prices) - cut - 1
    perturbed.loc[cut + 1 :, "adjusted_close"] *= np.linspace(1.5, 4.0, later)
    perturbed.loc[cut + 1 :, ["high", "close"]] *= 2.0
    perturbed.loc[cut + 1 :, "volume"] *= 10
    changed = run_backtest(
        History.of(perturbed), "AAPL", spec, small_config, folds=2, live_required=20
    )
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
    assert changed.folds[1].holdout_decision == second.holdout_decision
    assert changed.folds[1].decision == second.decision
    assert changed.folds[1].intervals == second.intervals
    np.testing.assert_array_equal(changed.folds[1].live.errors, second.live.errors)
    np.testing.assert_array_equal(changed.folds[1].live.naive_errors, second.live.naive_errors)
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


def test_a_close_only_history_backtests_without_the_bars_models(prices, small_spec, small_config):
    """Closes alone: every fold, its rows, its summary and its MLflow record go without
    the models of the daily bar, and the backtest says why once."""
    closes = prices.assign(open=np.nan, high=np.nan, low=np.nan)
    backtest = run_backtest(History.of(closes), "AAPL", small_spec, small_config, folds=1)
    models = {row["model"] for row in backtest.rows()}
    assert models == {name for name in MODELS if not uses_bar(name)}
    assert backtest.close_only.startswith("AAPL: the source gives a readable open, high and low")
    assert "published h=1 coverage" in backtest.summary()
    record = run_record.backtest_results(backtest, closes)
    assert not [name for name in record.metrics if "range_" in name or "har" in name]
