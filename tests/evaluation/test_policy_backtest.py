from datetime import date

import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec, select_history
from tickercast.errors import InputError
from tickercast.evaluation.policy_backtest import paired_bootstrap, replay_policies
from tickercast.models.network_config import ModelConfig
from tickercast.models.retraining import Cadence, RetrainPolicy, Training

SLOW = pytest.mark.slow  # a replay trains a network on most evenings (seconds each)
# Tiny windows and networks on a short real history, so that an evening fits in seconds.
SPEC = WindowSpec(window=10, horizons=3, holdout=20, min_fit_origins=50)
CONFIG = ModelConfig(epochs=2, units=8, warm_start_epochs=1)
WEEKLY = RetrainPolicy(Cadence.WEEKLY, Training.FINE_TUNE)
NEVER = RetrainPolicy(Cadence.NEVER, Training.REUSE)
# Tuesday to Friday: AAPL's weekly period turns on Thursdays (its phase).
FIRST, LAST = date(2013, 1, 8), date(2013, 1, 11)


@pytest.fixture(scope="module")
def prices(sample_aapl):
    return select_history(sample_aapl, "AAPL", date(2012, 3, 1), None, "XNYS")


@pytest.fixture(scope="module")
def history(prices):
    return History.of(prices)


@pytest.fixture(scope="module")
def replays(history):
    return replay_policies(history, "AAPL", SPEC, CONFIG, [WEEKLY, NEVER], FIRST, LAST)


@SLOW
def test_weekly_fine_tune_retrains_fully_once_per_five_weekdays(replays):
    weekly = replays[WEEKLY]
    full, tune = Training.FULL, Training.FINE_TUNE
    assert weekly.trainings == [full, tune, full, tune]
    assert [e.session.isoformat() for e in weekly.evenings if e.plan.training is full] == [
        "2013-01-08",
        "2013-01-10",
    ]
    for before, evening in zip(weekly.evenings, weekly.evenings[1:], strict=False):
        if evening.plan.training is tune:  # yesterday's network, trained further
            assert evening.plan.start_from is before.fit.forecaster
            assert evening.fit.forecaster.network is not before.fit.forecaster.network
            assert evening.plan.full_as_of == before.plan.full_as_of
    assert all(evening.fit.lstm_fit_seconds > 0 for evening in weekly.evenings)


@SLOW
def test_reuse_evenings_train_nothing_and_forecast_with_the_first_network(replays):
    never = replays[NEVER]
    assert never.trainings == [Training.FULL] + [Training.REUSE] * 3
    first = never.evenings[0].fit.forecaster.network
    assert all(evening.fit.forecaster.network is first for evening in never.evenings)
    assert [evening.fit.lstm_fit_seconds for evening in never.evenings[1:]] == [0.0] * 3
    # the baselines and volatility models are still refitted each evening
    assert all(evening.fit.fit_seconds > 0 for evening in never.evenings)
    # both policies train afresh on the first evening: one fit serves both
    assert never.evenings[0].fit is replays[WEEKLY].evenings[0].fit
    assert never.fit_seconds < replays[WEEKLY].fit_seconds


@SLOW
def test_each_forecast_is_scored_against_the_prices_after_its_session(replays, prices):
    weekly = replays[WEEKLY]
    adjusted = prices["adjusted_close"].to_numpy()
    sessions = prices["session"].dt.date.to_list()
    for row, evening in enumerate(weekly.evenings):
        origin = sessions.index(evening.session)
        expected = np.log(adjusted[origin + 1 : origin + 4] / adjusted[origin])
        np.testing.assert_allclose(weekly.scored.actual[row], expected)
        np.testing.assert_array_equal(weekly.scored.forecast[row], evening.fit.forecast)
    naive = (weekly.scored.current[:, None] * (np.exp(weekly.scored.actual) - 1)) ** 2
    np.testing.assert_allclose(
        weekly.rmse_ratios,
        np.sqrt(weekly.squared_errors.mean(axis=0) / naive.mean(axis=0)),
    )
    for level in (0.8, 0.95):
        percent = round(level * 100)
        np.testing.assert_allclose(
            weekly.interval_scores(level).mean(axis=0),
            [row[f"interval_score_{percent}"] for row in weekly.scored.metrics],
        )
        assert ((weekly.coverage(level) >= 0) & (weekly.coverage(level) <= 1)).all()


@SLOW
def test_no_evening_sees_the_prices_after_its_session(replays, prices):
    """Prices after Wednesday 2013-01-09 moved 10 %: the first two evenings (a full retrain,
    then a fine-tune or a reuse) forecast exactly as before; only their scores change."""
    moved = prices.copy()
    after = moved["session"].dt.date > date(2013, 1, 9)
    for column in ("open", "high", "low", "close", "adjusted_close"):
        moved.loc[after, column] *= 1.1
    again = replay_policies(
        History.of(moved), "AAPL", SPEC, CONFIG, [WEEKLY, NEVER], FIRST, date(2013, 1, 9)
    )
    for policy, replayed in again.items():
        original = replays[policy]
        assert replayed.trainings == original.trainings[:2]
        for evening, before in zip(replayed.evenings, original.evenings, strict=False):
            np.testing.assert_array_equal(evening.fit.forecast, before.fit.forecast)
            for level, (lower, upper) in evening.fit.bounds.items():
                np.testing.assert_array_equal(lower, before.fit.bounds[level][0])
                np.testing.assert_array_equal(upper, before.fit.bounds[level][1])
        assert not np.allclose(replayed.scored.actual, original.scored.actual[:2])


def test_a_replay_needs_the_targets_of_its_last_evening(prices, history):
    last = prices["session"].iloc[-3].date()  # two sessions after it, three horizons
    with pytest.raises(InputError, match="before the targets"):
        replay_policies(history, "AAPL", SPEC, CONFIG, [NEVER], last, last)
    with pytest.raises(InputError, match="no session"):
        replay_policies(
            history, "AAPL", SPEC, CONFIG, [NEVER], date(2013, 1, 19), date(2013, 1, 20)
        )


def test_paired_bootstrap_is_seeded_and_brackets_the_statistic():
    differences = np.array([0.02, 0.01, 0.03, -0.01, 0.02, 0.04, 0.0, 0.01])
    mean = paired_bootstrap(differences, np.mean, seed=3)
    assert mean == paired_bootstrap(differences, np.mean, seed=3)
    assert mean.estimate == pytest.approx(differences.mean())
    assert mean.lower < mean.estimate < mean.upper
    assert mean.above_zero
    median = paired_bootstrap(differences - 0.015, np.median, seed=3)
    assert median.lower <= 0 <= median.upper and not median.above_zero
    constant = paired_bootstrap(np.full(5, 0.5), np.median)
    assert (constant.lower, constant.estimate, constant.upper) == (0.5, 0.5, 0.5)
