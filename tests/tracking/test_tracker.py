import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pytest
from matplotlib.figure import Figure

from tickercast.models.prediction import BOUND_COLUMNS
from tickercast.models.saved_candidate import FORMAT_VERSION, SavedCandidate
from tickercast.tracking.model_store import ModelStore
from tickercast.tracking.tracker import (
    BACKTEST,
    Record,
    TrainingData,
    tracker_for,
    without_credentials,
)


@pytest.fixture
def tracker(settings):
    return tracker_for(settings)


@pytest.fixture
def models(tracker):
    return ModelStore(tracker)


def _register(tracker, run_id: str, ticker: str, model_id: str) -> str:
    return tracker.register(run_id, ticker, model_id, "why it was registered", {"as_of": "x"})


def test_local_store_lives_under_home(settings, tracker):
    assert tracker.uri == f"sqlite:///{settings.home / 'mlflow.db'}"
    experiment = tracker.client.get_experiment(tracker.experiment_id)
    assert experiment.name == "tickercast"
    assert experiment.artifact_location == (settings.home / "mlartifacts").as_uri()
    assert tracker_for(settings) is tracker  # configured once per process
    # shown by the UI as model training, not as a GenAI app
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_a_run_records_params_tags_metrics_history_and_plots(tracker, tmp_path):
    figure = Figure()
    figure.subplots().plot([1, 2])
    data = TrainingData("AAPL prices", Path("/x/prices.parquet"), "ab" * 32, 3, "a", "b")
    opened = Record(params={"window": 60}, tags={"data_sha256": "ab" * 32}, training_data=data)
    run_id = tracker.start_run("AAPL", date(2022, 12, 30), opened)
    tracker.record(
        run_id,
        Record(
            metrics={"rmse_ratio": 1.1, "directional_accuracy": float("nan")},
            history={"loss": [0.5, 0.25], "val_loss": [0.6, 0.3]},
            figures={"plots/line.png": figure},
        ),
    )
    tracker.end_run(run_id, succeeded=True)

    run = tracker.client.get_run(run_id)
    assert run.info.run_name == "AAPL 2022-12-30"
    assert run.info.status == "FINISHED"
    assert run.data.tags["ticker"] == "AAPL" and run.data.tags["as_of"] == "2022-12-30"
    assert run.data.tags["data_sha256"] == "ab" * 32
    assert run.data.params["window"] == "60"
    assert run.data.metrics["rmse_ratio"] == 1.1
    assert "directional_accuracy" not in run.data.metrics  # NaN is skipped
    val_loss = tracker.client.get_metric_history(run_id, "val_loss")
    assert [(m.step, m.value) for m in val_loss] == [(1, 0.6), (2, 0.3)]
    assert [a.path for a in tracker.client.list_artifacts(run_id, "plots")] == ["plots/line.png"]
    (dataset,) = run.inputs.dataset_inputs  # the data lineage MLflow shows
    assert (dataset.dataset.name, dataset.dataset.digest) == ("AAPL prices", "ab" * 18)
    assert json.loads(dataset.dataset.profile)["data_sha256"] == "ab" * 32
    assert [(tag.key, tag.value) for tag in dataset.tags] == [("mlflow.data.context", "training")]


def test_failed_runs_are_marked_failed(tracker):
    run_id = tracker.start_run("AAPL", date(2022, 12, 30), Record())
    tracker.end_run(run_id, succeeded=False)
    assert tracker.client.get_run(run_id).info.status == "FAILED"


def test_models_are_registered_per_ticker_and_the_champion_loads(
    tracker, models, settings, fitted_aapl, small_spec
):
    history, fitted = fitted_aapl
    candidate = fitted.candidates["lstm"]
    assert models.load_champion("BRK.B") is None
    versions = []
    for _ in range(2):
        run_id = tracker.start_run("BRK.B", date(2013, 3, 1), Record())
        saved = SavedCandidate(candidate)
        model_id = models.log_model(run_id, saved, history.prices, {"ticker": "BRK.B"}, {})
        assert tracker.client.get_run(run_id).info.status == "RUNNING"  # still being worked on
        versions.append(_register(tracker, run_id, "BRK.B", model_id))
        tracker.end_run(run_id, succeeded=True)
    assert versions == ["1", "2"]
    registered = tracker.client.get_model_version("tickercast-BRK.B", "2")
    assert registered.run_id == run_id
    assert (registered.description, registered.tags) == ("why it was registered", {"as_of": "x"})
    tracker.set_champion("BRK.B", "1")
    assert [(v.version, v.champion) for v in tracker.registered_versions("BRK.B")] == [
        ("1", True),
        ("2", False),
    ]
    assert tracker.registered_versions("MSFT") == []
    champion = models.load_champion("BRK.B")
    assert champion.version == "1" and champion.as_of == date(2013, 3, 1)
    origins = fitted.split.holdout
    np.testing.assert_allclose(
        champion.candidate.forecaster.predict(history, origins),
        candidate.forecaster.predict(history, origins),
        rtol=1e-5,
    )
    # a fresh process whose first MLflow call is loading the champion (a scheduled run)
    loaded = subprocess.run(
        [sys.executable, "-c", FRESH_LOAD],
        capture_output=True,
        text=True,
        env={**os.environ, "TICKERCAST_HOME": str(settings.home)},
    )
    assert loaded.stdout.split() == ["1", "True", "2013-03-01"], loaded.stderr[-2000:]
    # files without candidate.json, as an older tickercast registered them: the champion
    # is not comparable but keeps its as_of (a replay must not take the alias)
    source = tracker.client.get_model_version("tickercast-BRK.B", "2").source
    model = tracker.client.get_logged_model(source.removeprefix("models:/"))
    folder = Path(model.artifact_location.removeprefix("file://")) / "artifacts" / "candidate"
    (folder / "candidate.json").unlink()
    tracker.set_champion("BRK.B", "2")
    older = models.load_champion("BRK.B")
    assert (older.version, older.candidate, older.as_of) == ("2", None, date(2013, 3, 1))
    assert "models:/tickercast-BRK.B/2" in older.unreadable


FRESH_LOAD = """
from tickercast.settings import Settings
from tickercast.tracking.model_store import model_store_for
champion = model_store_for(Settings.from_env()).load_champion("BRK.B")
print(champion.version, champion.candidate is not None, champion.as_of)
"""


def test_the_registered_model_takes_recent_prices_and_returns_forecasts(
    tracker, models, fitted_aapl
):
    history, fitted = fitted_aapl
    run_id = tracker.start_run("AAPL", date(2013, 3, 1), Record())
    saved = SavedCandidate(fitted.candidates["lstm"])
    model_id = models.log_model(run_id, saved, history.prices, {}, {})
    version = _register(tracker, run_id, "AAPL", model_id)
    info = mlflow.models.get_model_info(f"models:/tickercast-AAPL/{version}")
    assert [c["name"] for c in info.signature.inputs.to_dict()][:2] == ["session", "adjusted_close"]
    model = mlflow.pyfunc.load_model(f"models:/tickercast-AAPL/{version}")
    recent = (
        history.prices[["session", "adjusted_close", "close", "volume", "open", "high", "low"]]
        .tail(30)
        .copy()
    )
    recent["session"] = recent["session"].dt.strftime("%Y-%m-%d")
    recent["volume"] = recent["volume"].astype("float64")
    columns = ["as_of", "horizon", "last_close", "forecast", *BOUND_COLUMNS]
    assert [c["name"] for c in info.signature.outputs.to_dict()] == columns
    assert info.metadata["tickercast_format_version"] == FORMAT_VERSION
    forecast = model.predict(recent)
    assert forecast.columns.tolist() == columns
    assert forecast["horizon"].tolist() == [1, 2, 3]
    assert (forecast["lower_95"] < forecast["forecast"]).all() and (
        forecast["forecast"] < forecast["upper_95"]
    ).all()
    # the as_of session's units: its close, not the adjusted close (AAPL's sample history
    # is adjusted for later splits, so the two differ about 7.7 times)
    last_close = recent["close"].iloc[-1]
    assert (forecast["as_of"] == "2013-03-01").all() and (
        forecast["last_close"] == last_close
    ).all()
    assert forecast["forecast"].between(0.5 * last_close, 2 * last_close).all()
    with pytest.raises(Exception, match="needs at least 21 recent sessions"):
        model.predict(recent.tail(10))


def test_run_url_points_at_the_ui(tracker, settings):
    assert (
        tracker.run_url("r1")
        == f"http://127.0.0.1:5000/#/experiments/{tracker.experiment_id}/runs/r1"
        "?workflowType=machine_learning"
    )


def test_credentials_never_leave_the_uri():
    from tickercast.tracking.tracker import redacted

    assert redacted("https://ann:s3cret@mlflow.example:8443/") == "https://***@mlflow.example:8443/"
    assert redacted("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
    assert redacted("sqlite:////tmp/x/mlflow.db") == "sqlite:////tmp/x/mlflow.db"


def test_messages_never_carry_a_urls_password():
    message = "API request to https://ann:s3cret@mlflow.example:5000/api failed; see sqlite:///x"
    assert without_credentials(message) == (
        "API request to https://***@mlflow.example:5000/api failed; see sqlite:///x"
    )


def test_every_lstm_is_a_logged_model_of_its_run_and_the_latest_before_as_of_warm_starts(
    tracker, models, fitted_aapl
):
    history, fitted = fitted_aapl
    candidate = SavedCandidate(fitted.candidates["lstm"])
    assert models.latest_network("AAPL", date(2013, 3, 4)) is None
    logged = {}
    for as_of in (date(2013, 2, 27), date(2013, 2, 28)):
        run_id = tracker.start_run("AAPL", as_of, Record())
        tags = {"ticker": "AAPL", "as_of": as_of.isoformat(), "full_as_of": "2013-02-25"}
        logged[as_of] = models.log_model(
            run_id, candidate, history.prices, tags, {"rmse_ratio_h1": 0.98}
        )
    run_id = tracker.start_run("MSFT", date(2013, 3, 1), Record())
    msft = {"ticker": "MSFT", "as_of": "2013-03-01", "full_as_of": "2013-03-01"}
    models.log_model(run_id, candidate, history.prices, msft, {})
    model = tracker.client.get_logged_model(logged[date(2013, 2, 28)])
    assert model.source_run_id != run_id and model.tags["ticker"] == "AAPL"
    assert {m.key: m.value for m in model.metrics} == {"rmse_ratio_h1": 0.98}
    assert not tracker.client.search_registered_models()  # logged, not registered
    latest = models.latest_network("AAPL", date(2013, 3, 4))
    assert (latest.model_id, latest.as_of, latest.full_as_of) == (
        logged[date(2013, 2, 28)],
        date(2013, 2, 28),
        date(2013, 2, 25),
    )
    origins = fitted.split.holdout
    np.testing.assert_allclose(
        latest.forecaster.predict(history, origins),
        candidate.lstm.forecaster.predict(history, origins),
        rtol=1e-5,
    )
    # a replay of 2013-02-28 starts from the network before it, never a later one
    assert models.latest_network("AAPL", date(2013, 2, 28)).model_id == logged[date(2013, 2, 27)]


def test_pruning_keeps_registered_versions_and_each_tickers_latest_network(
    tracker, models, fitted_aapl, settings
):
    history, fitted = fitted_aapl
    candidate = SavedCandidate(fitted.candidates["lstm"])
    ids = {}
    for name, ticker in (
        ("registered", "AAPL"),
        ("old", "AAPL"),
        ("latest", "AAPL"),
        ("msft", "MSFT"),
    ):
        run_id = tracker.start_run(ticker, date(2013, 3, 1), Record())
        ids[name] = (
            run_id,
            models.log_model(run_id, candidate, history.prices, {"ticker": ticker}, {}),
        )
        tracker.end_run(run_id, succeeded=True)
    _register(tracker, ids["registered"][0], "AAPL", ids["registered"][1])
    failed = tracker.start_run("AAPL", date(2013, 3, 1), Record())  # a run that logged no model
    artifacts = Path(
        tracker.client.get_logged_model(ids["old"][1]).artifact_location.removeprefix("file://")
    )
    assert artifacts.exists()
    pruned = tracker.prune(datetime.now(UTC) + timedelta(seconds=1))
    assert (pruned.runs, pruned.models, pruned.permanent) == (2, 1, True)
    assert "2 runs and 1 LoggedModels deleted" in pruned.summary()
    left = {m.model_id for m in tracker.client.search_logged_models([tracker.experiment_id])}
    assert left == {ids["registered"][1], ids["latest"][1], ids["msft"][1]}
    runs = {r.info.run_id for r in tracker.client.search_runs([tracker.experiment_id])}
    assert runs == {ids["registered"][0], ids["latest"][0], ids["msft"][0]}
    assert failed not in runs and not artifacts.exists()  # removed for good, files too
    assert models.load_champion("AAPL") is None  # no alias was set; the version stays
    version = tracker.client.get_model_version("tickercast-AAPL", "1")
    assert version.source == f"models:/{ids['registered'][1]}"
    # a later prune before the same date has nothing left to remove
    assert tracker.prune(datetime.now(UTC)).runs == 0


def test_the_latest_run_is_the_latest_daily_one_in_old_homes_too(tracker):
    """Runs made before the `run_kind` tag are told apart by their names."""
    create = tracker.client.create_run
    create(tracker.experiment_id, run_name="AAPL 2013-02-28", tags={"ticker": "AAPL"})
    create(tracker.experiment_id, run_name="AAPL backtest 2013-03-01", tags={"ticker": "AAPL"})
    assert tracker.latest_run("AAPL").name == "AAPL 2013-02-28"
    tracker.start_run("AAPL", date(2013, 3, 1), Record(), kind=BACKTEST)
    tracker.start_run("AAPL", date(2013, 2, 27), Record())  # a replay: the newest daily run
    assert tracker.latest_run("AAPL").name == "AAPL 2013-02-27"
    assert tracker.latest_run("MSFT") is None
