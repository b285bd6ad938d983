"""End-to-end runs of `daily_forecast` on a real temporary Prefect server, a real MLflow
SQLite store and real Parquet files, with real prices (the sample, or Yahoo-shaped frames)."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yfinance
from curl_cffi.requests.exceptions import Timeout
from prefect.artifacts import Artifact
from yfinance.exceptions import YFRateLimitError, YFTzMissingError

from tests.conftest import FakeYahoo, logged_table, yahoo_empty_frame, yahoo_history_frame
from tickercast.data.calendar import sessions_after
from tickercast.data.storage import FORECAST_SCHEMA, Store
from tickercast.data.windows import WindowSpec
from tickercast.evaluation.interval_gate import INCUMBENT
from tickercast.flows.daily_forecast import daily_forecast
from tickercast.models.candidates import INTERVAL_MODELS, POINT_MODELS
from tickercast.settings import Settings
from tickercast.tasks.ingest import ingest_prices
from tickercast.tasks.yahoo import YAHOO_RATE_LIMIT
from tickercast.tracking import run_record

# every test runs the pipeline end to end
pytestmark = [pytest.mark.usefixtures("prefect_api"), pytest.mark.slow]

SMALL = {"epochs": 2, "window": 20, "horizons": 3}
PLOTS = {
    "plots/holdout_lstm.png",
    "plots/holdout_published.png",
    "plots/coverage_by_horizon.png",
    "plots/residuals.png",
    "plots/rmse_ratio_by_horizon.png",
    "plots/training_curves.png",
}


def test_daily_forecast_publishes_tracks_registers_and_promotes(settings, monkeypatch):
    monkeypatch.setenv("TICKERCAST_GATE_MARGIN", "-1")  # any new model wins: exercise promotion
    monkeypatch.setenv("TICKERCAST_GATE_SIGNIFICANCE", "1")
    monkeypatch.setenv("TICKERCAST_SHADOW_FORECASTS", "0")  # the holdout alone decides
    monkeypatch.setenv("TICKERCAST_RETRAIN", "weekly+fine_tune")  # exercise a fine-tune
    state = daily_forecast(
        tickers=["AAPL"],
        source="sample",
        start=date(2011, 6, 1),
        as_of=date(2013, 2, 25),
        return_state=True,
        **SMALL,
    )
    assert state.is_completed(), state.message
    (outcome,) = state.result()
    published = outcome.result
    assert (published.as_of, published.target_date) == (date(2013, 2, 25), date(2013, 2, 26))
    assert (published.model, published.model_version) == ("lstm", "1")
    assert published.lower_80 < published.forecast < published.upper_80

    # the forecast files: one row per horizon, with intervals
    path = settings.home / "forecasts" / "AAPL" / "2013-02-25.parquet"
    assert published.path == str(path)
    table = pq.read_table(path)
    assert table.schema.remove_metadata() == FORECAST_SCHEMA
    rows = table.to_pylist()
    assert [r["horizon"] for r in rows] == [1, 2, 3]
    assert [r["target_date"] for r in rows] == [
        date(2013, 2, 26),
        date(2013, 2, 27),
        date(2013, 2, 28),
    ]
    assert all(
        r["lower_95"] < r["lower_80"] < r["forecast"] < r["upper_80"] < r["upper_95"] for r in rows
    )
    assert rows[0]["reason"].startswith("the new model beats naive and the champion")
    # the interval gate's choice (a volatility candidate, or the LSTM's own), and why
    assert rows[0]["interval_model"] in {*INTERVAL_MODELS, "lstm"}
    assert "interval score" in rows[0]["interval_reason"]
    latest = json.loads((settings.home / "forecasts" / "AAPL" / "latest.json").read_text())
    assert latest[0]["mlflow_run_id"] == rows[0]["mlflow_run_id"] == published.mlflow_run_id

    # the Prefect artifacts: the forecast per ticker, the data-quality report as the
    # ingest found something (the sample's large moves), the run's summary
    forecast_artifact = Artifact.get("forecast-aapl")
    assert forecast_artifact.type == "table"
    shown = json.loads(forecast_artifact.data)
    assert [r["h"] for r in shown] == [1, 2, 3]
    # narrow and rounded: the forecast, its intervals in cents, the model and why, first
    assert list(shown[0])[:6] == [
        "h",
        "session",
        "forecast",
        "80 % interval",
        "95 % interval",
        "model",
    ]
    assert shown[0]["forecast"] == f"{rows[0]['forecast']:.2f}"
    assert shown[0]["80 % interval"] == f"{rows[0]['lower_80']:.2f} – {rows[0]['upper_80']:.2f}"
    assert shown[0]["model"] == "lstm v1" and shown[0]["why"] == "beat naive and champion"
    assert Artifact.get("quality-aapl").type == "markdown"
    assert Artifact.get("metrics-aapl") is None and Artifact.get("track-record-aapl") is None
    summary = Artifact.get("daily-forecast-summary")
    assert summary.type == "table" and summary.description == "1 of 1 tickers published"
    (row,) = json.loads(summary.data)
    assert (row["ticker"], row["model"], row["why"]) == (
        "AAPL",
        "lstm v1",
        "beat naive and champion",
    )
    assert row["forecast"] == f"{published.forecast:.2f} for 2013-02-26"

    # the MLflow run: metrics of every candidate, plots, forecast, model, champion
    client = mlflow.MlflowClient(tracking_uri=Store(settings.home).local_tracking_uri)
    run = client.get_run(published.mlflow_run_id)
    assert run.info.run_name == "AAPL 2013-02-25" and run.info.status == "FINISHED"
    metrics = run.data.metrics
    # the headlines a reviewer compares runs by, not every metric of every candidate
    assert len(metrics) <= 150
    for h in (1, 2, 3):
        assert {f"{name}_rmse_ratio_h{h}" for name in ("lstm", "drift", "ar")} <= set(metrics)
        assert {
            f"published_{m}_h{h}" for m in ("rmse_ratio", "coverage_80", "interval_score_95")
        } <= set(metrics)
    assert {
        "published_rmse_ratio",
        "rmse_ratio",
        "coverage_80",
        "coverage_95",
        "loss",
        "val_loss",
    } <= set(metrics)
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) <= 2
    assert run.data.tags["published_model"] == "lstm" and run.data.tags["training"] == "full"
    assert run.data.tags["interval_model"] == rows[0]["interval_model"]
    assert run.data.tags["interval_gate"] == rows[0]["interval_reason"]
    for name in INTERVAL_MODELS:
        assert f"{name}_interval_score_95_h1" in metrics
    challengers = {"naive", *INTERVAL_MODELS} - {INCUMBENT}
    assert {f"interval_score_ratio_{name}" for name in challengers} <= set(metrics)
    # every candidate's every metric at every horizon: the run's table
    table = logged_table(client, run.info.run_id, run_record.HOLDOUT_TABLE)
    assert len(table) == 3 * len({*POINT_MODELS, *INTERVAL_MODELS})
    assert set(table["horizon"]) == {1, 2, 3}
    assert {"mase", "christoffersen_p_95", "coverage_80_high_vol"} <= set(table.columns)
    assert (table.loc[table["model"] == "naive", "rmse_ratio"] == 1.0).all()
    # the description opens on the forecast
    assert run.data.tags["mlflow.note.content"].splitlines()[0] == (
        f"# AAPL 2013-02-26: {published.forecast:.2f}, 80 % {published.lower_80:.2f} – "
        f"{published.upper_80:.2f} (lstm v1)"
    )
    assert run.data.tags["prefect_flow_run_id"] == str(state.state_details.flow_run_id)
    parent = client.get_run(run.data.tags["mlflow.parentRunId"])
    assert parent.info.run_name == "daily-forecast 2013-02-25: AAPL"  # the flow run's name
    assert parent.info.status == "FINISHED" and parent.data.metrics["tickers_published"] == 1
    assert "| AAPL | published | " in parent.data.tags["mlflow.note.content"]
    assert run.data.params["horizons"] == "3" and run.data.params["target"] == "returns"
    # published, not naive: a reviewer will look, the run draws its figures
    assert {a.path for a in client.list_artifacts(run.info.run_id, "plots")} == {
        *PLOTS,
        "plots/holdout.npz",
        "plots/forecast.png",
    }
    assert [a.path for a in client.list_artifacts(run.info.run_id, "forecast")] == [
        "forecast/2013-02-25.parquet"
    ]
    (record,) = Store(settings.home).read_manifest("AAPL")
    assert run.data.tags["ingest_id"] == record["ingest_id"]
    (quality,) = client.list_artifacts(run.info.run_id, "quality")
    assert quality.path == f"quality/{Path(record['quality_report']).name}"
    champion = client.get_model_version_by_alias("tickercast-AAPL", "champion")
    assert str(champion.version) == "1"
    # the registered version says why it was registered, and what a reviewer filters by
    assert champion.description.startswith(
        "AAPL LSTM trained as of 2013-02-25, promoted to champion"
    )
    assert champion.tags["interval_model"] == rows[0]["interval_model"]
    assert champion.tags["as_of"] == "2013-02-25"
    assert champion.tags["data_sha256"] == run.data.tags["data_sha256"]

    first_model = run.data.tags["lstm_model_id"]
    assert client.get_logged_model(first_model).source_run_id == run.info.run_id

    # two sessions later in the same week: the latest network is fine-tuned (weekly+fine_tune)
    again = daily_forecast(
        tickers=["AAPL"],
        source="sample",
        start=date(2011, 6, 1),
        as_of=date(2013, 2, 27),
        return_state=True,
        **SMALL,
    )
    (second,) = again.result()
    run = client.get_run(second.result.mlflow_run_id)
    assert run.data.tags["training"] == "fine_tune" and run.data.tags["full_as_of"] == "2013-02-25"
    assert first_model in run.data.tags["training_reason"]
    assert "champion_rmse_ratio_h1" in run.data.metrics
    assert second.result.model_version == "2"
    assert str(client.get_model_version_by_alias("tickercast-AAPL", "champion").version) == "2"


def test_the_ledger_scores_each_session_and_the_lstm_needs_a_live_record(settings, monkeypatch):
    monkeypatch.setenv("TICKERCAST_GATE_MARGIN", "-1")  # the LSTM always wins the holdout
    monkeypatch.setenv("TICKERCAST_GATE_SIGNIFICANCE", "1")
    monkeypatch.setenv("TICKERCAST_SHADOW_FORECASTS", "2")  # and needs 2 live forecasts
    store = Store(settings.home)

    def run(as_of: date):
        state = daily_forecast(
            tickers=["AAPL"], source="sample", start=date(2011, 6, 1), as_of=as_of,
            return_state=True, **SMALL,
        )  # fmt: skip
        assert state.is_completed(), state.message
        return state.result()[0].result

    first = run(date(2013, 2, 25))
    assert first.model == "naive"
    assert "live record has 0 of the 2 scored forecasts needed" in first.reason
    ledger = store.read_ledger("AAPL")
    # published naive, and every candidate as a shadow: 3 horizons each
    assert sorted(ledger.groupby(["shadow", "model"]).size().items()) == [
        ((False, "naive"), 3),
        *(((True, name), 3) for name in sorted({*POINT_MODELS, *INTERVAL_MODELS})),
    ]
    assert run(date(2013, 2, 26)).model == "naive"  # one lstm forecast scored: 1 of 2
    third = run(date(2013, 2, 27))
    assert third.model == "lstm" and "live: last 2 live lstm forecasts" in third.reason

    # the forecasts of 02-25 (h=1, h=2) and 02-26 (h=1) are scored, in the as_of units
    scores = store.read_scores("AAPL")
    published = scores[~scores["shadow"]].sort_values(["as_of", "horizon"])
    assert list(zip(published["as_of"], published["horizon"], strict=True)) == [
        (date(2013, 2, 25), 1),
        (date(2013, 2, 25), 2),
        (date(2013, 2, 26), 1),
    ]
    closes = store.read_prices("AAPL").set_index("session")["close"]
    assert published["realized_close"].iloc[0] == pytest.approx(closes["2013-02-26"])
    track = json.loads(store.track_record_file("AAPL").read_text())
    assert track["as_of"] == "2013-02-27" and track["live"]["forecasts"] == 2
    assert Artifact.get("track-record-aapl") is None  # no alarm: in reports/track/ alone
    client = mlflow.MlflowClient(tracking_uri=store.local_tracking_uri)
    run_data = client.get_run(third.mlflow_run_id).data
    assert run_data.metrics["live_published_forecasts_h1_all"] == 2
    assert run_data.metrics["live_lstm_forecasts_h1_60"] == 2
    assert "live_published_rmse_ratio_h1_all" in run_data.metrics
    # what was published before tonight's lstm was naive: no one looks at that record
    plots = {a.path for a in client.list_artifacts(third.mlflow_run_id, "plots")}
    assert "plots/track_record.png" not in plots and "plots/holdout_lstm.png" in plots

    # a replay of 02-25 adds a version to the ledger; the scored, official one stays
    run(date(2013, 2, 25))
    assert len(list(store.ledger_dir("AAPL").glob("2013-02-25_*.parquet"))) == 2
    pd.testing.assert_frame_equal(store.read_scores("AAPL"), scores)
    assert json.loads(store.track_record_file("AAPL").read_text())["as_of"] == "2013-02-27"


def test_intervals_that_stopped_covering_raise_the_alarm_in_the_run(settings, sample_aapl):
    # 60 published forecasts with 80 % intervals of +-0.1 %: real closes leave them
    store = Store(settings.home)
    as_ofs = sample_aapl["session"].dt.date.to_numpy()[-66:-6]
    for as_of in as_ofs:
        close = float(sample_aapl.loc[sample_aapl["session"].dt.date == as_of, "close"].iloc[0])
        row = {"ticker": "AAPL", "as_of": as_of, "horizon": 1, "last_close": close}
        bounds = {"lower_80": close * 0.999, "upper_80": close * 1.001}
        bounds |= {"lower_95": close * 0.998, "upper_95": close * 1.002}
        store.append_ledger(
            pd.DataFrame(
                [{**row, **bounds, "forecast": close, "model": "naive", "model_version": None}]
            ).assign(
                target_date=sessions_after(as_of, 1, "XNYS")[0],
                reason="test",
                interval_model="naive",
                interval_reason="test",
                mlflow_run_id="run",
                data_sha256="sha",
                shadow=False,
                horizon=lambda f: f["horizon"].astype("int32"),
            ),
            datetime(2026, 1, 5, tzinfo=UTC),
        )
    state = daily_forecast(
        tickers=["AAPL"], source="sample", start=date(2011, 6, 1), as_of=date(2013, 2, 25),
        return_state=True, **SMALL,
    )  # fmt: skip
    (outcome,) = state.result()
    alarm = outcome.result.calibration_alarm
    assert alarm.startswith("AAPL: calibration drift: the published 80% interval held")
    assert "of the last 60 closes one session ahead" in alarm
    assert f"ALARM: {alarm}" in Artifact.get("daily-forecast-summary").data
    assert f"**Alarm**: {alarm}" in Artifact.get("track-record-aapl").data
    assert store.read_track_record("AAPL")["alarm"] == alarm
    client = mlflow.MlflowClient(tracking_uri=store.local_tracking_uri)
    assert client.get_run(outcome.result.mlflow_run_id).data.tags["live_alarm"] == alarm


def test_a_truncated_ledger_file_fails_its_ticker_in_scoring_and_no_other(settings):
    daily_forecast(
        tickers=["AAPL", "MSFT"], source="sample", start=date(2011, 6, 1), as_of=date(2013, 2, 25),
        **SMALL,
    )  # fmt: skip
    (broken,) = Store(settings.home).ledger_dir("AAPL").glob("*.parquet")
    broken.write_bytes(broken.read_bytes()[:200])
    state = daily_forecast(
        tickers=["AAPL", "MSFT"], source="sample", start=date(2011, 6, 1),
        as_of=date(2013, 2, 26), return_state=True, **SMALL,
    )  # fmt: skip
    assert state.is_failed()
    aapl, msft = state.result(raise_on_failure=False)
    assert aapl.stage == "score_forecasts" and f"ledger file {broken} cannot be read" in aapl.error
    assert msft.error is None and msft.result.as_of == date(2013, 2, 26)
    assert Store(settings.home).read_scores("MSFT")["as_of"].tolist()


def test_naive_is_published_when_no_model_beats_it(settings, monkeypatch):
    monkeypatch.setenv("TICKERCAST_GATE_MARGIN", "0.5")  # demand halving naive's error
    evening = {"tickers": ["IBM"], "source": "sample", "start": date(2011, 6, 1), **SMALL}
    state = daily_forecast(as_of=date(2013, 2, 26), return_state=True, **evening)
    (outcome,) = state.result()
    published = outcome.result
    assert (published.model, published.model_version) == ("naive", None)
    assert published.forecast == pytest.approx(published.last_close)
    assert published.reason.startswith("no model beats naive by 50% of its RMSE")
    client = mlflow.MlflowClient(tracking_uri=Store(settings.home).local_tracking_uri)
    # the new model is a LoggedModel of its run, with its holdout metrics, not registered
    assert client.search_registered_models() == []
    run = client.get_run(published.mlflow_run_id)
    model = client.get_logged_model(run.data.tags["lstm_model_id"])
    assert model.source_run_id == run.info.run_id and model.tags["ticker"] == "IBM"
    assert {m.key: m.value for m in model.metrics}["rmse_ratio_h1"] == pytest.approx(
        run.data.metrics["rmse_ratio"]
    )
    # with monthly+reuse the next evening reuses it and logs no copy of it
    monkeypatch.setenv("TICKERCAST_RETRAIN", "monthly+reuse")
    (reused,) = daily_forecast(as_of=date(2013, 2, 27), return_state=True, **evening).result()
    run = client.get_run(reused.result.mlflow_run_id)
    assert (run.data.tags["training"], run.data.tags["lstm_model_id"]) == ("reuse", model.model_id)
    assert [m.model_id for m in client.search_logged_models([run.info.experiment_id])] == [
        model.model_id
    ]


def test_failed_tickers_are_isolated_and_named(settings, tmp_path):
    state = daily_forecast(
        tickers=["MSFT", "ZZZZ", "a/b", "FB"],
        source="sample",
        start=date(2011, 6, 1),
        epochs=1,
        window=150,
        horizons=3,
        return_state=True,
    )
    assert state.is_failed()
    assert state.message.startswith("3 of 4 tickers failed")
    assert (
        "ZZZZ (in ingest_prices: NoPricesError: ZZZZ: no prices from source 'sample'"
        in state.message
    )
    assert "a/b (InvalidTickerError: not a ticker: 'a/b'" in state.message
    needed = WindowSpec(window=150, horizons=3).min_sessions
    assert (
        "FB (in build_windows: InsufficientHistoryError: FB: too little history: "
        f"needs at least {needed} sessions" in state.message
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
    assert {r.data.tags["ticker"] for r in runs if "ticker" in r.data.tags} == {"MSFT"}
    (parent,) = [r for r in runs if "ticker" not in r.data.tags]
    assert parent.info.status == "FAILED"  # not every ticker published
    assert parent.data.metrics == {"tickers_published": 1.0, "tickers_failed": 3.0}
    # one artifact for the run: every ticker, the failed first
    summary = Artifact.get("daily-forecast-summary")
    assert summary.description == "1 of 4 tickers published, 3 failed"
    table = json.loads(summary.data)
    assert [(row["ticker"], row["status"]) for row in table] == [
        ("a/b", "failed in the flow"),
        ("ZZZZ", "failed in ingest_prices"),
        ("FB", "failed in build_windows"),
        ("MSFT", "published"),
    ]
    # MSFT published naive and is not in the sample: no figures drawn, but their data
    # is kept, and draws every one of them on demand
    (msft,) = [r for r in runs if r.data.tags.get("ticker") == "MSFT"]
    assert [a.path for a in client.list_artifacts(msft.info.run_id, "plots")] == [
        "plots/forecast.png",  # the published forecast's fan chart, in every run
        "plots/holdout.npz",
    ]
    saved = client.download_artifacts(msft.info.run_id, "plots/holdout.npz", str(tmp_path))
    assert set(run_record.holdout_figures(run_record.HoldoutPlots.load(Path(saved)))) == PLOTS


def test_yahoo_tickers_with_no_rows_fail_without_retries(settings, sample_aapl, monkeypatch):
    yahoo = FakeYahoo(
        {"AAPL": [yahoo_history_frame(sample_aapl)], "DELISTED": [yahoo_empty_frame()]}
    )
    monkeypatch.setattr(yfinance, "Ticker", yahoo)
    state = daily_forecast(
        tickers=["AAPL", "DELISTED"],
        source="yfinance",
        start=date(2011, 6, 1),
        return_state=True,
        **SMALL,
    )
    assert state.is_failed()
    assert (
        "1 of 2 tickers failed: DELISTED (in ingest_prices: NoPricesError: DELISTED: "
        "no prices from source 'yfinance'" in state.message
    )
    assert [ticker for ticker, _ in yahoo.calls].count("DELISTED") == 1  # bad input is not retried
    assert (settings.home / "forecasts" / "AAPL" / "2013-03-01.parquet").is_file()
    assert not Store(settings.home).prices_file("DELISTED").parent.exists()


def test_rate_limits_and_network_errors_are_retried_with_long_backoff(
    settings, sample_aapl, monkeypatch
):
    frame = yahoo_history_frame(sample_aapl)
    timeout = Timeout("Operation timed out after 30001 milliseconds")
    yahoo = FakeYahoo({"AAPL": [YFRateLimitError(), timeout, frame]})
    monkeypatch.setattr(yfinance, "Ticker", yahoo)
    result = ingest_prices.with_options(retry_delay_seconds=0)("AAPL", "yfinance", None, settings)
    assert len(yahoo.calls) == 3
    assert result.sessions_stored == len(sample_aapl)
    assert ingest_prices.retries == 4 and ingest_prices.retry_delay_seconds == [30, 60, 120, 240]


def test_unknown_yahoo_tickers_and_bugs_are_not_retried(settings, monkeypatch):
    yahoo = FakeYahoo({"ZZZZ": [YFTzMissingError("ZZZZ")], "AAPL": [KeyError("Adj Close")]})
    monkeypatch.setattr(yfinance, "Ticker", yahoo)
    fetch = ingest_prices.with_options(retry_delay_seconds=0)
    unknown = fetch("ZZZZ", "yfinance", None, settings, return_state=True)
    assert "possibly delisted; no timezone found" in unknown.message
    bug = fetch("AAPL", "yfinance", None, settings, return_state=True)
    assert unknown.is_failed() and bug.is_failed()
    assert [ticker for ticker, _ in yahoo.calls] == ["ZZZZ", "AAPL"]


def test_yahoo_requests_share_a_prefect_rate_limit(settings, sample_aapl, monkeypatch):
    from prefect.client.orchestration import get_client

    monkeypatch.setenv("TICKERCAST_YAHOO_REQUESTS_PER_SECOND", "1")
    paced = Settings.from_env()
    frame = yahoo_history_frame(sample_aapl.tail(300))
    yahoo = FakeYahoo({ticker: [frame] for ticker in ("AAPL", "MSFT", "IBM")})
    monkeypatch.setattr(yfinance, "Ticker", yahoo)
    for ticker in ("AAPL", "MSFT", "IBM"):
        ingest_prices(ticker, "yfinance", None, paced)
    # one request a second: the second and third waited for the limit's slot to decay
    assert yahoo.times[-1] - yahoo.times[0] >= 1.5
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(YAHOO_RATE_LIMIT)
    assert (limit.limit, limit.slot_decay_per_second, limit.active) == (1, 1.0, True)
    # a new pace in the settings updates the shared limit
    monkeypatch.setenv("TICKERCAST_YAHOO_REQUESTS_PER_SECOND", "4")
    ingest_prices.with_options(refresh_cache=True)("AAPL", "yfinance", None, Settings.from_env())
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(YAHOO_RATE_LIMIT)
    assert (limit.limit, limit.slot_decay_per_second) == (4, 4.0)


def test_tickers_can_come_from_a_universe_file(settings, tmp_path):
    universe = tmp_path / "universe.csv"
    universe.write_text("name,ticker\nIBM,IBM\nnobody,ZZZZ\n")
    state = daily_forecast(
        tickers=["AAPL"],
        universe=str(universe),
        source="sample",
        start=date(2011, 6, 1),
        return_state=True,
        **SMALL,
    )
    assert state.message.startswith("1 of 2 tickers failed: ZZZZ (in ingest_prices")
    assert [o.ticker for o in state.result(raise_on_failure=False)] == ["IBM", "ZZZZ"]


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
    from tickercast.flows.ingest import ingest

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


def test_a_rerun_after_a_training_failure_reuses_ingest_and_windows(settings, monkeypatch):
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    import tickercast.models.point_models

    real = tickercast.models.point_models.train_network

    def broken(*args, **kwargs):
        raise RuntimeError("the training machine went away")

    monkeypatch.setattr(tickercast.models.point_models, "train_network", broken)
    failed = daily_forecast(
        tickers=["IBM"], source="sample", start=date(2011, 6, 1), return_state=True, **SMALL
    )
    assert "IBM (in train_model: RuntimeError: the training machine went away)" in failed.message
    monkeypatch.setattr(tickercast.models.point_models, "train_network", real)
    state = daily_forecast(
        tickers=["IBM"], source="sample", start=date(2011, 6, 1), return_state=True, **SMALL
    )
    (outcome,) = state.result()
    client = mlflow.MlflowClient(tracking_uri=Store(settings.home).local_tracking_uri)
    flow_run = client.get_run(outcome.result.mlflow_run_id).data.tags["prefect_flow_run_id"]

    async def task_states():
        async with get_client() as prefect:
            runs = await prefect.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run]))
            )
            return {run.name: run.state.name for run in runs}

    names = asyncio.run(task_states())
    assert {"forecast-IBM", "ingest_prices-IBM", "end_tracking_run-IBM"} <= set(names)
    states = {name.removesuffix("-IBM"): state for name, state in names.items()}
    assert states["ingest_prices"] == "Cached" and states["build_windows"] == "Cached"
    assert states["train_model"] == "Completed"
    assert len(Store(settings.home).read_manifest("IBM")) == 1  # fetched once
