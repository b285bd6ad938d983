"""`tickercast status`'s query: each ticker's stored prices, last outcome, run and forecast."""

import socket
from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tickercast.data.ingest import ingest_prices
from tickercast.data.prices import prices_sha256
from tickercast.data.sources import SampleSource
from tickercast.data.storage import Store
from tickercast.ledger.forecasts import Published, forecast_frame
from tickercast.settings import Settings
from tickercast.tracking.run_summary import SummaryRow
from tickercast.tracking.status import known_tickers, status_report


def _ingested(settings: Settings, ticker: str = "AAPL") -> dict:
    """Store the ticker's real sample prices in the home; its manifest record."""
    result, _ = ingest_prices(ticker, SampleSource(), Store(settings.home), None, "XNYS")
    return result.as_record()


def _record_outcomes(store: Store, rows: list[SummaryRow], at: str) -> None:
    """Record a flow run's outcomes as its summary stage writes them (reports/runs/)."""
    records = [
        {"ticker": row.ticker, "status": row.status, "detail": row.detail, "at": at}
        | {"flow_run_id": "f1"}
        for row in rows
    ]
    store.write_run_summary(records, at.replace("-", "").replace(":", ""))


def _published_naive(store: Store, ticker: str, prices: pd.DataFrame) -> Published:
    """Publish a naive forecast as of the last session, as a run writes it: the as_of
    close, with normal intervals of the last 20 sessions' volatility."""
    adjusted = prices["adjusted_close"].to_numpy("float64")
    volatility = np.std(np.diff(np.log(adjusted))[-20:], ddof=1)
    latest = pd.DataFrame({"horizon": [1, 2, 3], "forecast": [adjusted[-1]] * 3})
    for level, z in ((80, 1.2816), (95, 1.96)):
        spread = np.exp(z * volatility * np.sqrt(latest["horizon"]))
        latest[f"lower_{level}"] = adjusted[-1] / spread
        latest[f"upper_{level}"] = adjusted[-1] * spread
    reason = "no model beats naive"
    frame = forecast_frame(
        ticker, prices, latest, "XNYS", "naive", None, reason, "r1", prices_sha256(prices)
    )
    path = store.write_forecast(frame)
    first = frame.iloc[0]
    return Published(
        ticker,
        first["as_of"],
        first["target_date"],
        first["last_close"],
        first["forecast"],
        first["lower_80"],
        first["upper_80"],
        "naive",
        None,
        reason,
        "naive",
        reason,
        reason,
        1.0,
        "r1",
        "http://127.0.0.1:5000/#/r1",
        str(path),
    )


def test_a_home_with_stored_prices_and_no_run_shows_what_is_stored(settings, sample_aapl):
    ingested = _ingested(settings)
    report = status_report(["AAPL"], settings)
    assert report.tracking_problem is None
    (status,) = report.statuses
    assert status.ticker == "AAPL"
    assert (status.sessions, status.last_session) == (len(sample_aapl), "2013-03-01")
    assert status.last_ingest == ingested["at"]
    assert (status.outcome, status.last_run, status.champion) == (None, None, None)
    assert (status.forecast, status.track_record, status.problems) == (None, None, ())
    assert status.stored and not status.needs_attention
    # a query never creates the local MLflow store
    assert not Store(settings.home).local_tracking_db.exists()


def test_statuses_follow_the_order_asked(settings):
    _ingested(settings, "IBM")
    _ingested(settings, "AAPL")
    report = status_report(["IBM", "AAPL", "NVDAX"], settings)
    assert [status.ticker for status in report.statuses] == ["IBM", "AAPL", "NVDAX"]


def test_a_symbol_never_stored_is_shown_and_needs_no_attention_even_if_its_run_failed(settings):
    error = "NoPricesError: NVDAX: no prices from source 'yfinance': possibly delisted"
    at = "2026-12-07T18:30:00+00:00"
    _record_outcomes(
        Store(settings.home), [SummaryRow.failure("NVDAX", "ingest_prices", error)], at
    )
    (status,) = status_report(["NVDAX"], settings).statuses
    assert (status.sessions, status.last_session, status.last_ingest) == (0, None, None)
    assert status.outcome["status"] == "failed in ingest_prices"
    assert status.outcome["detail"] == error and status.outcome["at"] == at
    assert not status.stored and not status.needs_attention  # an old typo


def test_a_stored_ticker_whose_last_run_failed_needs_attention(settings):
    _ingested(settings)
    failed = SummaryRow.failure("AAPL", "train_candidates", "InsufficientHistoryError: AAPL")
    _record_outcomes(Store(settings.home), [failed], "2026-12-07T18:30:00+00:00")
    (status,) = status_report(["AAPL"], settings).statuses
    assert status.stored and status.needs_attention
    assert status.outcome["status"] == "failed in train_candidates"


@pytest.mark.slow
def test_after_a_run_status_shows_its_outcome_forecast_and_mlflow_run(
    settings, sample_aapl, monkeypatch
):
    from tickercast.tracking.runs import Record, runs_for

    # MLflow's own limits, which `experiment_for` sets for this process: restored after the test
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    _ingested(settings)
    store = Store(settings.home)
    # what a daily run as of 2013-03-01 leaves: a forecast, its outcome, its MLflow run
    published = _published_naive(store, "AAPL", sample_aapl)
    row = SummaryRow.of(published)
    _record_outcomes(store, [row], "2026-12-07T18:30:00+00:00")
    runs = runs_for(settings)
    record = Record(tags={"published_model": "naive"}, metrics={"published_rmse_ratio": 1.0})
    run_id = runs.start_run("AAPL", date(2013, 3, 1), record)
    runs.end_run(run_id, succeeded=True)

    report = status_report(["AAPL"], settings)
    assert report.tracking_problem is None
    (status,) = report.statuses
    assert status.outcome["status"] == "published" and status.outcome["detail"] == row.detail
    assert status.forecast["as_of"] == "2013-03-01"
    assert status.forecast["target_date"] == "2013-03-04"
    assert status.forecast["forecast"] == pytest.approx(430.47)  # naive: the as_of close
    assert status.forecast["model"] == "naive" and status.forecast["horizon"] == 1
    assert (status.last_run.run_id, status.last_run.name) == (run_id, "AAPL 2013-03-01")
    assert (status.last_run.status, status.last_run.published_model) == ("FINISHED", "naive")
    assert status.last_run.published_rmse_ratio == 1.0
    assert status.champion is None  # nothing registered
    assert not status.needs_attention


def test_a_broken_price_file_is_a_problem_that_names_it(settings):
    _ingested(settings)
    path = Store(settings.home).prices_file("AAPL")
    path.write_bytes(path.read_bytes()[:200])  # a copy cut short
    (status,) = status_report(["AAPL"], settings).statuses
    (problem,) = status.problems
    assert problem.startswith(f"AAPL: stored prices {path} are broken (unreadable: ")
    assert status.sessions == 0 and status.last_session is None
    assert status.stored and status.needs_attention


def test_a_forecast_or_track_record_that_is_not_json_is_a_problem_that_names_its_file(
    settings, sample_aapl
):
    _ingested(settings)
    store = Store(settings.home)
    _published_naive(store, "AAPL", sample_aapl)
    forecast = store.latest_forecast_file("AAPL")
    forecast.write_text(forecast.read_text()[:100])  # cut short
    track = store.track_record_file("AAPL")
    track.parent.mkdir(parents=True)
    track.write_text('{"as_of": "2013-03-01", "rows": [')
    (status,) = status_report(["AAPL"], settings).statuses
    assert status.forecast is None and status.track_record is None
    assert status.needs_attention and len(status.problems) == 2
    # `tickercast status` prints each as `BROKEN: <problem>`: the user must learn which file
    assert str(forecast) in status.problems[0], status.problems
    assert str(track) in status.problems[1], status.problems


def test_an_unreachable_tracking_server_is_named_and_the_stored_state_still_shown(
    settings, monkeypatch, sample_aapl
):
    # MLflow's own limits, which `experiment_for` sets for this process: restored after the test
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with socket.socket() as closed:  # a port that nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    server = replace(
        settings,
        mlflow_tracking_uri=f"http://127.0.0.1:{port}",
        tracking_timeout=1.0,
        tracking_retries=0,
    )
    _ingested(server)
    report = status_report(["AAPL"], server)
    assert report.tracking_problem.startswith(
        f"MLflow tracking server http://127.0.0.1:{port} did not answer (timeout 1 s, 0 retries)"
    )
    (status,) = report.statuses
    assert (status.sessions, status.last_session) == (len(sample_aapl), "2013-03-01")
    assert (status.last_run, status.champion) == (None, None)


def test_known_tickers_are_those_stored_published_or_with_an_outcome(settings):
    store = Store(settings.home)
    assert known_tickers(store) == []
    _ingested(settings, "IBM")
    _published_naive(store, "MSFT", SampleSource().fetch("MSFT", None, None))
    failed = SummaryRow.failure("NVDAX", "ingest_prices", "NoPricesError: NVDAX")
    _record_outcomes(store, [failed], "2026-12-07T18:30:00+00:00")
    assert known_tickers(store) == ["IBM", "MSFT", "NVDAX"]
    _ingested(settings, "MSFT")  # stored and published: named once
    assert known_tickers(store) == ["IBM", "MSFT", "NVDAX"]
