"""End-to-end runs of `daily_forecast` on a real temporary Prefect server, a real MLflow
SQLite store and real Parquet files, with real prices (the sample, or Yahoo-shaped frames)."""

import json
from datetime import date
from pathlib import Path

import mlflow
import pyarrow.parquet as pq
import pytest
import yfinance
from prefect.artifacts import Artifact
from yfinance.exceptions import YFRateLimitError

from flows.daily_forecast import daily_forecast
from tasks.ingest import ingest_prices
from tests.conftest import FakeYahoo, yahoo_empty_frame, yahoo_history_frame
from tickercast.storage import FORECAST_SCHEMA, Store

pytestmark = pytest.mark.usefixtures("prefect_api")

METRICS = {
    "test_rmse",
    "test_mae",
    "test_mape",
    "directional_accuracy",
    "naive_rmse",
    "naive_mae",
    "rmse_ratio",
    "fit_seconds",
    "predict_seconds",
    "best_epoch",
    "loss",
    "val_loss",
}


def test_daily_forecast_publishes_tracks_and_registers(settings):
    state = daily_forecast(
        tickers=["AAPL"], source="sample", start=date(2011, 6, 1), epochs=2, return_state=True
    )
    assert state.is_completed(), state.message
    (outcome,) = state.result()
    published = outcome.result
    assert (published.as_of, published.target_date) == (date(2013, 3, 1), date(2013, 3, 4))

    # the forecast files
    path = settings.home / "forecasts" / "AAPL" / "2013-03-01.parquet"
    assert published.path == str(path)
    table = pq.read_table(path)
    assert table.schema.remove_metadata() == FORECAST_SCHEMA
    (row,) = table.to_pylist()
    assert (row["ticker"], row["as_of"], row["target_date"], row["horizon"]) == (
        "AAPL",
        date(2013, 3, 1),
        date(2013, 3, 4),
        1,
    )
    assert row["model"] == "lstm" and row["model_version"] == "1" and row["forecast"] > 0
    latest = json.loads((settings.home / "forecasts" / "AAPL" / "latest.json").read_text())
    assert latest[0]["mlflow_run_id"] == row["mlflow_run_id"] == published.mlflow_run_id

    # the Prefect artifacts
    forecast_artifact = Artifact.get("forecast-aapl")
    assert forecast_artifact.type == "table"
    assert json.loads(forecast_artifact.data)[0]["target_date"] == "2013-03-04"
    metrics_artifact = Artifact.get("metrics-aapl")
    assert metrics_artifact.type == "markdown"
    assert (
        published.mlflow_run_url in metrics_artifact.data and "rmse_ratio" in metrics_artifact.data
    )
    assert forecast_artifact.flow_run_id != state.state_details.flow_run_id  # the ticker's subflow

    # the MLflow run, its plots, its model
    client = mlflow.MlflowClient(tracking_uri=Store(settings.home).local_tracking_uri)
    run = client.get_run(published.mlflow_run_id)
    assert run.info.run_name == "AAPL 2013-03-01" and run.info.status == "FINISHED"
    assert set(run.data.metrics) >= METRICS
    assert run.data.metrics["rmse_ratio"] == pytest.approx(published.rmse_ratio)
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 2
    assert run.data.tags["data_sha256"] == row["data_sha256"]
    assert run.data.tags["prefect_flow_run_id"] == str(state.state_details.flow_run_id)
    assert run.data.params["epochs"] == "2" and run.data.params["window"] == "60"
    assert run.data.params["test_end"] == "2013-03-01"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert artifacts == {"plots/predicted_vs_actual.png", "plots/training_curves.png"}
    assert [a.path for a in client.list_artifacts(run.info.run_id, "forecast")] == [
        "forecast/2013-03-01.parquet"
    ]
    version = client.get_model_version("tickercast-AAPL", "1")
    assert version.run_id == run.info.run_id

    # the data behind it: the ingest's manifest record and quality report
    (record,) = Store(settings.home).read_manifest("AAPL")
    assert run.data.tags["ingest_id"] == record["ingest_id"]
    assert run.data.tags["ingest_data_sha256"] == record["data_sha256"]
    (quality,) = client.list_artifacts(run.info.run_id, "quality")
    assert quality.path == f"quality/{Path(record['quality_report']).name}"
    assert Artifact.get("quality-aapl").type == "markdown"


def test_failed_tickers_are_isolated_and_named(settings):
    state = daily_forecast(
        tickers=["MSFT", "ZZZZ", "a/b", "FB"],
        source="sample",
        start=date(2011, 6, 1),
        epochs=1,
        window=150,
        return_state=True,
    )
    assert state.is_failed()
    assert state.message.startswith("3 of 4 tickers failed")
    assert "ZZZZ (NoPricesError: ZZZZ: no prices from source 'sample'" in state.message
    assert "a/b (InvalidTickerError: not a ticker: 'a/b'" in state.message
    assert (
        "FB (InsufficientHistoryError: FB: too little history: needs at least 200 sessions"
        in state.message
    )
    assert "found 196" in state.message
    outcomes = {outcome.ticker: outcome for outcome in state.result(raise_on_failure=False)}
    assert outcomes["MSFT"].result is not None and outcomes["ZZZZ"].result is None
    assert (settings.home / "forecasts" / "MSFT" / "latest.json").is_file()
    store = Store(settings.home)
    assert not store.prices_file("ZZZZ").parent.exists()
    assert not store.forecast_dir("ZZZZ").exists() and not store.forecast_dir("FB").exists()
    # FB's prices were stored, but its MLflow run was never opened: windows failed first
    client = mlflow.MlflowClient(tracking_uri=store.local_tracking_uri)
    runs = client.search_runs(client.get_experiment_by_name("tickercast").experiment_id)
    assert {r.data.tags["ticker"] for r in runs} == {"MSFT"}


def test_yahoo_tickers_with_no_rows_fail_without_retries(settings, sample_aapl, monkeypatch):
    yahoo = FakeYahoo(
        {"AAPL": [yahoo_history_frame(sample_aapl)], "DELISTED": [yahoo_empty_frame()]}
    )
    monkeypatch.setattr(yfinance, "Ticker", yahoo)
    state = daily_forecast(
        tickers=["AAPL", "DELISTED"],
        source="yfinance",
        start=date(2012, 1, 1),
        epochs=1,
        return_state=True,
    )
    assert state.is_failed()
    assert (
        "1 of 2 tickers failed: DELISTED (NoPricesError: DELISTED: no prices from source 'yfinance'"
        in state.message
    )
    assert [ticker for ticker, _ in yahoo.calls].count("DELISTED") == 1  # bad input is not retried
    assert (settings.home / "forecasts" / "AAPL" / "2013-03-01.parquet").is_file()
    assert not Store(settings.home).prices_file("DELISTED").parent.exists()


def test_rate_limits_are_retried_with_backoff(settings, sample_aapl, monkeypatch):
    frame = yahoo_history_frame(sample_aapl)
    yahoo = FakeYahoo({"AAPL": [YFRateLimitError(), YFRateLimitError(), frame]})
    monkeypatch.setattr(yfinance, "Ticker", yahoo)
    result = ingest_prices.with_options(retry_delay_seconds=0)("AAPL", "yfinance", None, settings)
    assert len(yahoo.calls) == 3
    assert result.sessions_stored == len(sample_aapl)
    assert ingest_prices.retries == 4 and ingest_prices.retry_delay_seconds == [10, 20, 40, 80]


def test_a_replay_as_of_uses_only_data_up_to_that_session(settings):
    state = daily_forecast(
        tickers=["IBM"],
        source="sample",
        as_of=date(2012, 12, 31),
        start=date(2011, 6, 1),
        epochs=1,
        return_state=True,
    )
    (outcome,) = state.result()
    assert (outcome.result.as_of, outcome.result.target_date) == (
        date(2012, 12, 31),
        date(2013, 1, 2),
    )
    assert Store(settings.home).read_prices("IBM")["session"].iloc[-1].date() == date(2012, 12, 31)


def test_the_dirty_yahoo_file_is_reported_and_training_runs_on_the_cleaned_series(
    settings, shared_data
):
    state = daily_forecast(
        tickers=["AAPL"],
        source=str(shared_data / "dirty"),
        start=date(2022, 6, 1),
        epochs=1,
        return_state=True,
    )
    assert state.is_completed(), state.message
    (outcome,) = state.result()
    assert outcome.result.as_of == date(2024, 8, 8)
    report = json.loads(
        (settings.home / "reports" / "quality" / "AAPL" / "latest.json").read_text()
    )
    findings = {f["kind"]: f for f in report["findings"]}
    assert findings["null_rows"]["sessions"] == ["2022-01-27"]
    assert findings["duplicate_sessions"]["count"] == 45
    assert {"2023-11-01", "2023-12-08"} <= set(findings["missing_sessions"]["sessions"])
    markdown = Artifact.get("quality-aapl").data
    assert "`duplicate_sessions` | 45" in markdown and "2022-01-27" in markdown


def test_the_ingest_flow_validates_and_records_without_training(settings, shared_data):
    from flows.ingest import ingest

    state = ingest(
        tickers=["AAPL", "MSFT", "../x"], source=str(shared_data / "yahoo"), return_state=True
    )
    assert state.is_failed()
    assert state.message.startswith("1 of 3 tickers failed: ../x (InvalidTickerError")
    outcomes = {o.ticker: o for o in state.result(raise_on_failure=False)}
    assert outcomes["AAPL"].result.rows_added == 5031 and outcomes["MSFT"].result.findings == {}
    assert [r["ticker"] for r in Store(settings.home).read_manifest()] == ["AAPL", "MSFT"]
    assert not (settings.home / "forecasts").exists() and not (settings.home / "mlflow.db").exists()
    again = ingest(tickers=["AAPL"], source=str(shared_data / "yahoo"), return_state=True)
    (outcome,) = again.result()
    assert (outcome.result.rows_added, outcome.result.wrote) == (0, False)
