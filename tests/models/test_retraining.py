from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickercast.data.windows import WindowSpec
from tickercast.errors import InputError
from tickercast.models.fitting import fit_candidates
from tickercast.models.retraining import (
    POLICIES,
    Cadence,
    LatestNetwork,
    RetrainPolicy,
    Training,
    plan_training,
)

WEEKLY = RetrainPolicy(Cadence.WEEKLY, Training.FINE_TUNE)
MONTHLY_REUSE = RetrainPolicy(Cadence.MONTHLY, Training.REUSE)


def _latest(fitted, as_of: date, full_as_of: date) -> LatestNetwork:
    return LatestNetwork(fitted.candidates["lstm"].forecaster, "m-1", as_of, full_as_of)


def test_the_cadence_decides_full_retrains_and_the_policy_what_happens_between(
    fitted_aapl, small_spec
):
    _, fitted = fitted_aapl
    lstm = fitted.candidates["lstm"].forecaster
    monday, tuesday, wednesday = date(2013, 2, 25), date(2013, 2, 26), date(2013, 2, 27)
    thursday = date(2013, 2, 28)
    fine_tuned_tuesday = _latest(fitted, tuesday, full_as_of=monday)
    plan = plan_training(fine_tuned_tuesday, "AAPL", wednesday, small_spec, WEEKLY)
    assert (plan.training, plan.start_from, plan.full_as_of) == (Training.FINE_TUNE, lstm, monday)
    assert "m-1" in plan.reason
    # AAPL's weekly period turns on Thursdays, however recent the latest network
    due = plan_training(fine_tuned_tuesday, "AAPL", thursday, small_spec, WEEKLY)
    assert (due.training, due.full_as_of) == (Training.FULL, thursday)
    assert "weekly" in due.reason
    # MSFT's turns a day later: its Thursday fine-tunes
    msft = plan_training(fine_tuned_tuesday, "MSFT", thursday, small_spec, WEEKLY)
    assert msft.training is Training.FINE_TUNE
    # monthly+reuse: AAPL's month turns on 27 February; the evenings before reuse
    trained_monday = _latest(fitted, monday, full_as_of=monday)
    reused = plan_training(trained_monday, "AAPL", tuesday, small_spec, MONTHLY_REUSE)
    assert (reused.training, reused.start_from) == (Training.REUSE, lstm)
    assert reused.epochs(10, 3) == 0 and plan.epochs(10, 3) == 3
    # a reused network is already logged; a fine-tuned one is new and will be
    assert (reused.logged_as, plan.logged_as) == ("m-1", None)
    due = plan_training(fine_tuned_tuesday, "AAPL", wednesday, small_spec, MONTHLY_REUSE)
    assert due.training is Training.FULL and due.epochs(10, 3) == 10
    daily = plan_training(
        fine_tuned_tuesday, "AAPL", wednesday, small_spec, RetrainPolicy.parse("daily")
    )
    assert daily.training is Training.FULL
    never = RetrainPolicy.parse("never+reuse")
    assert plan_training(
        fine_tuned_tuesday, "AAPL", date(2014, 6, 2), small_spec, never
    ).training == (Training.REUSE)


@pytest.mark.parametrize("cadence", [Cadence.DAILY, Cadence.WEEKLY, Cadence.MONTHLY])
def test_a_universes_full_retrains_spread_over_the_evenings(cadence):
    """Each ticker's period turns once every `weekdays` weekdays, and the tickers'
    phases share the turns out: no evening retrains the whole universe."""
    universe = [f"T{i:03}" for i in range(480)]
    weekdays = pd.bdate_range("2021-03-01", periods=3 * cadence.weekdays + 1).date
    turns = np.array(
        [
            [cadence.period(today, t) != cadence.period(yesterday, t) for t in universe]
            for yesterday, today in zip(weekdays[:-1], weekdays[1:], strict=True)
        ]
    )  # (evenings, tickers)
    assert (turns.sum(axis=0) == 3).all()  # three periods each
    expected = len(universe) / cadence.weekdays
    assert turns.sum(axis=1).max() < 1.6 * expected and turns.sum(axis=1).min() > 0.6 * expected
    assert Cadence.NEVER.period(weekdays[0], "AAPL") is None


def test_no_usable_network_means_a_full_retrain(fitted_aapl, small_spec):
    _, fitted = fitted_aapl
    wednesday = date(2013, 2, 27)
    monday = date(2013, 2, 25)
    unusable = {
        "none": None,
        "unreadable": LatestNetwork(None, "m-2", monday, monday, unreadable="format_version 9"),
        "a replay": _latest(fitted, wednesday, monday),  # trained as of today
        "other windows": _latest(fitted, monday, monday),
    }
    for case, latest in unusable.items():
        spec = WindowSpec(window=30) if case == "other windows" else small_spec
        plan = plan_training(latest, "AAPL", wednesday, spec, WEEKLY)
        assert (plan.training, plan.start_from, plan.full_as_of) == (
            Training.FULL,
            None,
            wednesday,
        ), case
    assert (
        "format_version 9"
        in plan_training(unusable["unreadable"], "AAPL", wednesday, small_spec, WEEKLY).reason
    )


def test_policies_are_named_and_parsed_one_way():
    assert [p.name for p in POLICIES] == [
        "daily",
        "weekly+fine_tune",
        "weekly+reuse",
        "monthly+fine_tune",
        "monthly+reuse",
        "never+reuse",
    ]
    assert all(RetrainPolicy.parse(p.name) == p for p in POLICIES)
    with pytest.raises(InputError, match="unknown retrain policy 'fortnightly'.*monthly\\+reuse"):
        RetrainPolicy.parse("fortnightly")
    with pytest.raises(InputError, match="fine-tunes or reuses"):
        RetrainPolicy(Cadence.WEEKLY, Training.FULL)


def test_a_reused_network_forecasts_as_before_and_a_fine_tune_changes_it(
    fitted_aapl, small_spec, small_config
):
    history, fitted = fitted_aapl
    latest = _latest(fitted, date(2013, 2, 28), date(2013, 2, 25))
    as_of = date(2013, 3, 1)
    origins = fitted.split.holdout
    before = fitted.candidates["lstm"].forecaster.predict(history, origins)
    reused, tuned = (
        fit_candidates(
            history,
            "AAPL",
            small_spec,
            small_config,
            plan_training(latest, "AAPL", as_of, small_spec, RetrainPolicy(Cadence.NEVER, between)),
        )
        for between in (Training.REUSE, Training.FINE_TUNE)
    )
    assert reused.trained.fit_seconds == 0 and reused.trained.history["loss"] == []
    np.testing.assert_array_equal(
        reused.candidates["lstm"].forecaster.predict(history, origins), before
    )
    assert len(tuned.trained.history["loss"]) == small_config.warm_start_epochs
    assert tuned.plan.full_as_of == date(2013, 2, 25)
    assert not np.allclose(tuned.candidates["lstm"].forecaster.predict(history, origins), before)
