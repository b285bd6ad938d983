from datetime import date

import keras
import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pytest

from tickercast.tracking import Tracker


@pytest.fixture
def tracker(settings):
    return Tracker(settings)


def _network() -> keras.Model:
    keras.utils.set_random_seed(1)
    network = keras.Sequential(
        [keras.Input(shape=(5, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    network.compile(optimizer="adam", loss="mse")
    return network


def test_local_store_lives_under_home(settings, tracker):
    assert tracker.uri == f"sqlite:///{settings.home / 'mlflow.db'}"
    experiment = tracker.client.get_experiment(tracker.experiment_id)
    assert experiment.name == "tickercast"
    assert experiment.artifact_location == (settings.home / "mlartifacts").as_uri()
    assert Tracker(settings).experiment_id == tracker.experiment_id  # found, not created again


def test_a_run_records_params_tags_metrics_history_and_plots(tracker, tmp_path):
    run_id = tracker.start_run(
        "AAPL", date(2022, 12, 30), {"data_sha256": "ab" * 32}, {"window": 60}
    )
    tracker.log_history(run_id, {"loss": [0.5, 0.25], "val_loss": [0.6, 0.3]})
    tracker.log_metrics(run_id, {"rmse_ratio": 1.1, "directional_accuracy": float("nan")})
    figure, axis = plt.subplots()
    axis.plot([1, 2])
    tracker.log_figure(run_id, figure, "plots/line.png")
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
    assert plt.fignum_exists(figure.number) is False


def test_failed_runs_are_marked_failed(tracker):
    run_id = tracker.start_run("AAPL", date(2022, 12, 30), {}, {})
    tracker.end_run(run_id, succeeded=False)
    assert tracker.client.get_run(run_id).info.status == "FAILED"


def test_models_are_registered_per_ticker_with_a_signature(tracker):
    network = _network()
    example = np.random.default_rng(0).random((3, 5, 1)).astype("float32")
    versions = []
    for _ in range(2):
        run_id = tracker.start_run("BRK.B", date(2022, 12, 30), {}, {})
        versions.append(tracker.log_model(run_id, "BRK.B", network, example))
        tracker.end_run(run_id, succeeded=True)
    assert versions == ["1", "2"]
    version = tracker.client.get_model_version("tickercast-BRK.B", "2")
    assert version.run_id == run_id
    loaded = mlflow.tensorflow.load_model("models:/tickercast-BRK.B/2")
    np.testing.assert_allclose(
        loaded.predict(example, verbose=0), network.predict(example, verbose=0), rtol=1e-6
    )
    signature = mlflow.models.get_model_info("models:/tickercast-BRK.B/2").signature
    assert tuple(signature.inputs.to_dict()[0]["tensor-spec"]["shape"]) == (-1, 5, 1)


def test_run_url_points_at_the_ui(tracker, settings):
    assert (
        tracker.run_url("r1")
        == f"http://127.0.0.1:5000/#/experiments/{tracker.experiment_id}/runs/r1"
    )
