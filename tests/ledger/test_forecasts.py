from datetime import date

import pytest

from tickercast.data.storage import FORECAST_SCHEMA
from tickercast.evaluation.champion import evaluate_candidates
from tickercast.ledger.forecasts import Published, forecast_frame, forecast_markdown
from tickercast.models.prediction import forecast_latest


def test_the_frame_targets_the_next_sessions_in_the_as_of_units(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    latest = forecast_latest(fitted.candidates["naive"], history, small_spec)
    prices = history.prices
    frame = forecast_frame("AAPL", prices, latest, "XNYS", "naive", None, "why", "run1", "f" * 64)
    assert list(frame.columns) == FORECAST_SCHEMA.names
    assert frame["target_date"].tolist() == [date(2013, 3, 4), date(2013, 3, 5), date(2013, 3, 6)]
    # the sample's adjusted closes are in today's split units; published values are not
    assert frame["forecast"].iloc[0] == pytest.approx(prices["close"].iloc[-1])
    assert frame["last_close"].iloc[0] == prices["close"].iloc[-1]
    assert set(frame["as_of"]) == {date(2013, 3, 1)}


def test_markdown_names_the_model_and_why(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    evaluation = evaluate_candidates(history, fitted, None, 0.01)
    latest = forecast_latest(fitted.candidates["naive"], history, small_spec)
    frame = forecast_frame(
        "AAPL", history.prices, latest, "XNYS", "naive", None, "nothing beat it", "r", "f"
    )
    published = Published(
        "AAPL",
        date(2013, 3, 1),
        date(2013, 3, 4),
        430.47,
        430.47,
        420.0,
        440.0,
        "naive",
        None,
        "nothing beat it",
        "garch_conformal",
        "garch_conformal beats naive (0.97 of its interval score)",
        "nothing beats it",
        1.0,
        "r",
        "http://127.0.0.1:5000/#/r",
        "/f",
    )
    text = forecast_markdown(published, frame, evaluation.metrics_table())
    # its first line is what MLflow shows of a run's description: the forecast itself
    assert text.splitlines()[0] == "# AAPL 2013-03-04: 430.47, 80 % 420.00 – 440.00 (naive)"
    assert "Published model: **naive**, because nothing beat it." in text
    assert "| 1 | 2013-03-04 |" in text and "| lstm |" in text and "| ar |" in text
    assert "Intervals of **garch_conformal**, because garch_conformal beats naive" in text
    # every candidate's holdout intervals, scored; the interval candidates' points are naive's
    assert "| gjr_conformal | " in text.split("Holdout intervals")[1]
    assert "| gjr_conformal | " not in text.split("Holdout intervals")[0]
