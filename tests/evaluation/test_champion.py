from datetime import date
from pathlib import Path

import numpy as np

from tickercast.data.windows import WindowSpec, training_set
from tickercast.evaluation.champion import (
    Champion,
    Choice,
    Evaluation,
    GateDecision,
    alias_moves,
    comparable,
    decide,
    evaluate_candidates,
    shadow_gate,
)
from tickercast.evaluation.interval_gate import INCUMBENT, IntervalDecision
from tickercast.evaluation.scores import Scored
from tickercast.evaluation.track_record import LiveRecord
from tickercast.ledger.publish import publication, published_candidates
from tickercast.models.candidates import INTERVAL_MODELS, POINT_MODELS
from tickercast.models.fitting import recalibrated
from tickercast.models.prediction import forecast_latest


def _scored(name: str, ratio: float, p_value: float = 0.01) -> Scored:
    metrics = [{"rmse_ratio": ratio, "dm_pvalue": p_value}] * 2
    empty = np.zeros((1, 2))
    return Scored(name, np.ones(1), empty, empty, {}, empty, np.ones(1), metrics)


def test_a_new_model_is_promoted_only_when_it_beats_naive_and_the_champion():
    naive = _scored("naive", 1.0)
    first = decide(_scored("lstm", 0.95), naive, None, margin=0.01)
    assert (first.published, first.promote) == ("lstm", True)
    kept = decide(_scored("lstm", 0.95), naive, _scored("champion", 0.955), margin=0.01)
    assert (kept.published, kept.promote) == ("champion", False)
    assert "champion still beats naive" in kept.reason
    better = decide(_scored("lstm", 0.93), naive, _scored("champion", 0.955), margin=0.01)
    assert (better.published, better.promote) == ("lstm", True)


def test_a_new_winner_replaces_a_champion_that_no_longer_beats_naive():
    naive = _scored("naive", 1.0)
    decision = decide(_scored("lstm", 0.95), naive, _scored("champion", 0.955, p_value=0.5), 0.01)
    assert (decision.published, decision.promote) == ("lstm", True)


def test_a_model_worse_one_session_ahead_is_not_a_winner():
    worse_at_h1 = Scored(
        "lstm",
        np.ones(1),
        np.zeros((1, 2)),
        np.zeros((1, 2)),
        {},
        np.zeros((1, 2)),
        np.ones(1),
        [{"rmse_ratio": 1.02, "dm_pvalue": 0.97}, {"rmse_ratio": 0.8, "dm_pvalue": 0.01}],
    )
    assert decide(worse_at_h1, _scored("naive", 1.0), None, 0.01).published == "naive"


def test_naive_is_published_when_nothing_beats_it():
    decision = decide(_scored("lstm", 0.995), _scored("naive", 1.0), _scored("champion", 1.2), 0.01)
    assert (decision.published, decision.promote) == ("naive", False)
    assert decision.reason.startswith(
        "no model beats naive by 1% of its RMSE with a Diebold-Mariano"
    )
    assert decision.scores == {"lstm": 0.995, "naive": 1.0, "champion": 1.2}


def test_a_lucky_edge_is_not_a_win():
    naive = _scored("naive", 1.0, float("nan"))
    lucky = decide(_scored("lstm", 0.95, p_value=0.4), naive, None, margin=0.01)
    assert (lucky.published, lucky.promote) == ("naive", False)
    assert decide(_scored("lstm", 0.95, p_value=0.4), naive, None, 0.01, significance=0.5).promote


def test_evaluate_candidates_scores_everyone_on_the_holdout(fitted_aapl):
    history, fitted = fitted_aapl
    champion = _champion(fitted, date(2013, 2, 28))  # the same network, registered earlier
    evaluation = evaluate_candidates(history, fitted, champion, margin=0.01)
    assert set(evaluation.scored) == {*POINT_MODELS, *INTERVAL_MODELS, "champion"}
    assert evaluation.scored["champion"].metrics == evaluation.scored["lstm"].metrics
    replayed = evaluate_candidates(history, fitted, _champion(fitted, date(2013, 3, 1)), 0.01)
    assert "champion" not in replayed.scored  # trained as of today: not compared
    assert evaluation.scored["naive"].mean_rmse_ratio == 1.0
    table = evaluation.metrics_table()
    assert len(table) == len(evaluation.scored) * 3 and {
        "rmse_ratio",
        "mase",
        "coverage_80",
        "dm_pvalue",
    } <= set(table)
    assert {"interval_score_95", "kupiec_p_80", "christoffersen_p_95"} <= set(table)
    assert evaluation.decision.published in {"lstm", "champion", "naive"}
    assert evaluation.intervals.model in {"naive", *INTERVAL_MODELS}
    assert set(evaluation.intervals.scores) == {"naive", *INTERVAL_MODELS} - {INCUMBENT}


def _champion(fitted, as_of: date | None) -> Champion:
    return Champion(fitted.candidates["lstm"], "3", as_of)


def test_a_champion_is_compared_only_when_older_and_alike(fitted_aapl, small_spec):
    _, fitted = fitted_aapl
    as_of = date(2013, 3, 1)
    assert comparable(_champion(fitted, date(2013, 2, 28)), as_of, small_spec)
    assert not comparable(_champion(fitted, as_of), as_of, small_spec)  # trained on today's data
    assert not comparable(_champion(fitted, date(2014, 1, 2)), as_of, small_spec)  # a replay
    assert not comparable(_champion(fitted, None), as_of, small_spec)
    assert not comparable(_champion(fitted, date(2013, 2, 28)), as_of, WindowSpec(horizons=5))
    assert not comparable(None, as_of, small_spec)


def test_the_alias_moves_only_to_a_winner_and_never_back_in_time(fitted_aapl):
    _, fitted = fitted_aapl
    won = decide(_scored("lstm", 0.9), _scored("naive", 1.0), None, 0.01)
    lost = decide(_scored("lstm", 1.1), _scored("naive", 1.0), None, 0.01)
    as_of = date(2013, 3, 1)
    assert alias_moves(won, None, as_of)
    assert alias_moves(won, _champion(fitted, date(2013, 2, 28)), as_of)
    assert not alias_moves(won, _champion(fitted, date(2013, 3, 4)), as_of)  # a replay
    assert not alias_moves(lost, None, as_of)


def test_an_unreadable_champion_is_never_compared_but_still_holds_the_alias(small_spec):
    unreadable = Champion(None, "2", date(2013, 3, 4), unreadable="format_version 0")
    won = decide(_scored("lstm", 0.9), _scored("naive", 1.0), None, 0.01)
    assert not comparable(unreadable, date(2013, 3, 5), small_spec)
    assert not alias_moves(won, unreadable, date(2013, 3, 1))  # a replay behind it
    assert alias_moves(won, unreadable, date(2013, 3, 5))


def test_the_champion_is_published_when_the_gate_keeps_it(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    training = training_set(history.prices, "AAPL", small_spec)
    # a champion registered earlier: the drift model stands in for its network
    champion = Champion(fitted.candidates["drift"], "7", date(2013, 2, 28))
    scored = evaluate_candidates(history, fitted, None, 0.01).scored
    scored["champion"] = scored["drift"].renamed("champion")
    kept = GateDecision(Choice.CHAMPION, False, "the champion still beats naive", {}, "kept")
    own = IntervalDecision("naive", "nothing beats realized-volatility conformal", {})
    evaluation = Evaluation(scored, kept, own)
    candidates = published_candidates(training, fitted, evaluation, champion)
    versions = {"lstm": "8", "champion": "7"}
    arguments = (versions, "run", "url", Path("/f.parquet"), "XNYS")
    done = publication(training, candidates, evaluation, *arguments)
    frame = done.frame
    assert (done.published.model, done.published.model_version) == ("lstm", "7")
    assert done.published.reason == "the champion still beats naive"
    assert done.published.rmse_ratio == scored["drift"].metrics[0]["rmse_ratio"]
    expected = forecast_latest(
        recalibrated(champion.candidate, history, fitted.split, small_spec), history, small_spec
    )
    to_units = history.prices["close"].iloc[-1] / history.prices["adjusted_close"].iloc[-1]
    np.testing.assert_allclose(frame["forecast"], expected["forecast"] * to_units)
    np.testing.assert_allclose(frame["upper_95"], expected["upper_95"] * to_units)
    assert "Published model: **lstm** version 7" in done.report
    assert (frame["interval_model"] == "lstm").all()  # its own intervals
    # the interval gate's choice: GARCH's intervals, moved onto the champion's forecast
    garch = IntervalDecision("garch", "garch beats realized-volatility conformal", {})
    moved = publication(training, candidates, Evaluation(scored, kept, garch), *arguments).frame
    garch_alone = forecast_latest(fitted.candidates["garch"], history, small_spec)
    np.testing.assert_allclose(moved["forecast"], frame["forecast"])
    for bound in ("lower_80", "upper_80", "lower_95", "upper_95"):
        ratio = garch_alone[bound] / garch_alone["forecast"]
        np.testing.assert_allclose(moved[bound], frame["forecast"] * ratio)
    assert (moved["interval_model"] == "garch").all()
    assert (moved["interval_reason"] == garch.reason).all()


def _live(sample_aapl, sessions: int, scale: float) -> LiveRecord:
    """The last `sessions` real AAPL one-session moves as naive's errors, and a model's
    errors `scale` times them."""
    naive = np.diff(sample_aapl["close"].to_numpy())[-sessions:]
    return LiveRecord("lstm", scale * naive, naive)


def test_a_holdout_win_is_published_only_with_a_live_record_that_agrees(sample_aapl):
    holdout_win = decide(_scored("lstm", 0.95), _scored("naive", 1.0), None, margin=0.01)
    assert holdout_win.published == Choice.LSTM

    too_short = shadow_gate(holdout_win, _live(sample_aapl, 59, 0.5), 60, 0.01, 0.1)
    assert (too_short.published, too_short.promote) == (Choice.NAIVE, False)
    assert "live record has 59 of the 60 scored forecasts needed" in too_short.reason
    assert too_short.why == "won the holdout, live 59/60"  # short, for the UI's tables
    assert shadow_gate(holdout_win, None, 60, 0.01, 0.1).published == Choice.NAIVE

    losing = shadow_gate(holdout_win, _live(sample_aapl, 60, 1.05), 60, 0.01, 0.1)
    assert losing.published == Choice.NAIVE and "do not beat naive" in losing.reason
    assert losing.reason.startswith("the lstm won the holdout")

    agreeing = shadow_gate(holdout_win, _live(sample_aapl, 60, 0.5), 60, 0.01, 0.1)
    assert (agreeing.published, agreeing.promote) == (Choice.LSTM, True)
    assert "live: last 60 live lstm forecasts: rmse_ratio 0.500" in agreeing.reason

    # naive is never held back, and required 0 is the holdout gate alone
    naive = decide(_scored("lstm", 1.2), _scored("naive", 1.0), None, margin=0.01)
    assert shadow_gate(naive, None, 60, 0.01, 0.1) == naive
    assert shadow_gate(holdout_win, None, 0, 0.01, 0.1) == holdout_win
