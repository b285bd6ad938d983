"""What a publication writes for the gates' choice: forecast, intervals, ledger rows."""

import math
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tickercast.data.storage import FORECAST_SCHEMA, Store
from tickercast.data.windows import training_set
from tickercast.evaluation.champion import (
    Champion,
    Choice,
    Evaluation,
    GateDecision,
    evaluate_candidates,
)
from tickercast.evaluation.interval_gate import IntervalDecision
from tickercast.ledger.publish import publication, published_candidates, saved_lstm
from tickercast.models.prediction import BOUND_COLUMNS
from tickercast.models.saved_candidate import forecast_recent

AS_OF, TARGETS = date(2013, 3, 1), [date(2013, 3, 4), date(2013, 3, 5), date(2013, 3, 6)]
PATH = Path("/home/forecasts/AAPL/2013-03-01.parquet")
URL = "http://127.0.0.1:5000/#/experiments/1/runs/r1"
NAIVE = GateDecision(
    Choice.NAIVE, False, "no model beats naive by 1% of its RMSE", {}, "no model beats naive"
)
LSTM = GateDecision(
    Choice.LSTM, True, "the new model beats naive and the champion", {}, "beat naive and champion"
)
OWN = IntervalDecision("naive", "nothing beats realized-volatility conformal", {})
GJR = IntervalDecision("gjr_conformal", "gjr_conformal beats blend_conformal", {})


@pytest.fixture(scope="module")
def published(fitted_aapl, small_spec):
    """The run as of 2013-03-01: its training set, fitted candidates, holdout scores,
    and every candidate as published."""
    history, fitted = fitted_aapl
    training = training_set(history.prices, "AAPL", small_spec)
    scored = evaluate_candidates(history, fitted, None, 0.01).scored
    candidates = published_candidates(training, fitted, Evaluation(scored, NAIVE, OWN), None)
    return training, fitted, scored, candidates


def _publish(published, decision, intervals, versions=None, alarm=None):
    training, _, scored, candidates = published
    evaluation = Evaluation(scored, decision, intervals)
    versions = versions or {}
    return publication(training, candidates, evaluation, versions, "r1", URL, PATH, "XNYS", alarm)


def test_a_published_naive_forecast_is_the_as_of_close_with_its_own_intervals(published):
    training = published[0]
    done = _publish(published, NAIVE, OWN)
    frame, headline = done.frame, done.published
    close = training.prices["close"].iloc[-1]
    assert close == 430.47  # AAPL's close on 2013-03-01
    assert list(frame.columns) == FORECAST_SCHEMA.names
    assert frame["target_date"].tolist() == TARGETS and set(frame["as_of"]) == {AS_OF}
    np.testing.assert_allclose(frame["forecast"], close)
    assert (frame["last_close"] == close).all()
    assert set(frame["model"]) == {"naive"} and frame["model_version"].isna().all()
    assert set(frame["interval_model"]) == {"naive"}
    assert set(frame["reason"]) == {NAIVE.reason} and set(frame["interval_reason"]) == {OWN.reason}
    assert (headline.model, headline.model_version, headline.interval_model) == (
        "naive",
        None,
        "naive",
    )
    assert (headline.as_of, headline.target_date, headline.forecast) == (AS_OF, TARGETS[0], close)
    assert headline.lower_80 == frame["lower_80"].iloc[0] < close < headline.upper_80
    assert headline.rmse_ratio == 1.0  # naive's RMSE over its own
    assert (headline.mlflow_run_id, headline.mlflow_run_url) == ("r1", URL)
    assert headline.path == str(PATH)
    assert headline.calibration_alarm is None
    assert done.summary() == (
        f"AAPL: published naive forecast 430.47 [{headline.lower_80:.2f}, "
        f"{headline.upper_80:.2f}] (naive's intervals) for 2013-03-04 (close 430.47 on 2013-03-01)"
    )
    assert done.report.splitlines()[0] == (
        f"# AAPL 2013-03-04: 430.47, 80 % {headline.lower_80:.2f} – {headline.upper_80:.2f} (naive)"
    )


def test_an_lstm_published_with_gjr_intervals_has_them_moved_onto_its_forecast(published):
    done = _publish(published, LSTM, GJR, versions={"lstm": "8"})
    frame, ledger = done.frame, done.ledger
    shadows = ledger[ledger["shadow"]].set_index("model")
    lstm, gjr = shadows.loc["lstm"], shadows.loc["gjr_conformal"]
    np.testing.assert_allclose(frame["forecast"], lstm["forecast"])
    for bound in BOUND_COLUMNS:  # GJR's ratios to its forecast, around the LSTM's
        np.testing.assert_allclose(
            frame[bound].to_numpy() / frame["forecast"].to_numpy(),
            gjr[bound].to_numpy() / gjr["forecast"].to_numpy(),
        )
    assert not np.allclose(frame["upper_95"], lstm["upper_95"])  # not the LSTM's own
    assert set(frame["model"]) == {"lstm"} and set(frame["model_version"]) == {"8"}
    assert set(frame["interval_model"]) == {"gjr_conformal"}
    assert set(frame["interval_reason"]) == {GJR.reason}
    headline = done.published
    assert (headline.model, headline.model_version, headline.interval_model) == (
        "lstm",
        "8",
        "gjr_conformal",
    )
    assert headline.rmse_ratio == published[2]["lstm"].metrics[0]["rmse_ratio"]
    assert "Published model: **lstm** version 8, because the new model beats naive" in done.report
    assert "Intervals of **gjr_conformal**, because gjr_conformal beats blend_conformal" in (
        done.report
    )
    first = frame.iloc[0]
    assert done.table()[0] == {
        "h": 1,
        "session": "2013-03-04",
        "forecast": f"{first['forecast']:.2f}",
        "80 % interval": f"{first['lower_80']:.2f} – {first['upper_80']:.2f}",
        "95 % interval": f"{first['lower_95']:.2f} – {first['upper_95']:.2f}",
        "model": "lstm v8",
        "intervals": "gjr_conformal",
        "why": "beat naive and champion",
    }
    assert [row["h"] for row in done.table()] == [1, 2, 3]
    assert "(gjr_conformal's intervals) for 2013-03-04" in done.summary()


def test_the_ledger_holds_the_publication_and_every_candidates_own_forecast(published, tmp_path):
    candidates = published[3]
    done = _publish(published, LSTM, GJR, versions={"lstm": "8"})
    ledger = done.ledger
    assert list(ledger.columns) == [*FORECAST_SCHEMA.names, "shadow"]
    official = ledger[~ledger["shadow"]].reset_index(drop=True)
    # the published rows as published (the LSTM's float32 forecast widened to float64)
    pd.testing.assert_frame_equal(official.drop(columns="shadow"), done.frame, check_dtype=False)
    shadows = ledger[ledger["shadow"]]
    assert len(shadows) == 3 * len(candidates)
    assert set(shadows["model"]) == set(candidates)
    assert all(rows["horizon"].tolist() == [1, 2, 3] for _, rows in shadows.groupby("model"))
    # each shadow is its candidate's own forecast, intervals included
    assert (shadows["interval_model"] == shadows["model"]).all()
    assert set(shadows["reason"]) == {"shadow"} and set(shadows["as_of"]) == {AS_OF}
    assert set(shadows.loc[shadows["model"] == "lstm", "model_version"]) == {"8"}
    # the ledger takes the rows as they are: one file, read back whole
    store = Store(tmp_path)
    store.append_ledger(ledger, datetime(2026, 12, 7, 22, 30, tzinfo=UTC))
    kept = store.read_ledger("AAPL")
    assert len(kept) == len(ledger) and kept["shadow"].sum() == len(shadows)


def test_a_calibration_alarm_is_published_with_the_forecast(published):
    alarm = "80 % coverage 0.62 over the last 60 scored forecasts (Kupiec p 0.001)"
    done = _publish(published, NAIVE, OWN, alarm=alarm)
    assert done.published.calibration_alarm == alarm
    assert f"**Alarm**: {alarm}" in done.report


def test_published_conformal_intervals_are_recalibrated_on_every_origin_no_model_was_fitted_on(
    published, small_spec
):
    training, fitted, _, candidates = published
    # derived from the prices alone: naive forecasts no change, so its residuals are
    # the realized moves, scaled by the volatility of the returns up to each origin
    logs = np.log(training.prices["adjusted_close"].to_numpy("float64"))
    returns = np.diff(logs)  # returns[i] ends on session i + 1
    origins = np.concatenate([fitted.split.calibration, fitted.split.holdout])
    moves = np.column_stack([logs[origins + h] - logs[origins] for h in (1, 2, 3)])
    lookback = small_spec.volatility_lookback
    volatility = np.array([np.std(returns[o - lookback : o], ddof=1) for o in origins])
    scores = np.sort(np.abs(moves / volatility[:, None]), axis=0)
    for level in (0.8, 0.95):
        rank = math.ceil((len(origins) + 1) * level)
        np.testing.assert_allclose(
            candidates["naive"].intervals.quantiles[level], scores[rank - 1], rtol=1e-12
        )
    # a model's own quantiles have nothing to recalibrate
    assert candidates["gjr"] is fitted.candidates["gjr"]


def test_the_champion_is_a_published_candidate_only_when_the_evaluation_compared_it(published):
    training, fitted, scored, _ = published
    champion = Champion(fitted.candidates["lstm"], "7", date(2013, 2, 28))
    compared = {**scored, "champion": scored["lstm"].renamed("champion")}
    with_it = published_candidates(training, fitted, Evaluation(compared, NAIVE, OWN), champion)
    without = published_candidates(training, fitted, Evaluation(scored, NAIVE, OWN), champion)
    assert "champion" in with_it and "champion" not in without
    assert set(without) == set(fitted.candidates)


def test_the_saved_lstm_answers_with_the_bounds_published_beside_it(published):
    training, _, scored, candidates = published
    done = _publish(published, LSTM, GJR, versions={"lstm": "8"})
    saved = saved_lstm(training, candidates, Evaluation(scored, LSTM, GJR))
    assert saved.interval_model == "gjr_conformal"
    assert saved.published_intervals.as_of == AS_OF
    answer = forecast_recent(saved, training.prices)
    assert answer["as_of"].tolist() == ["2013-03-01"] * 3
    for column in ["forecast", *BOUND_COLUMNS]:
        np.testing.assert_allclose(answer[column], done.frame[column], rtol=1e-6)
    # with its own intervals, it carries none besides
    own = saved_lstm(training, candidates, Evaluation(scored, LSTM, OWN))
    assert own.published_intervals is None and own.interval_model == "lstm"
    assert own.lstm is candidates["lstm"]
