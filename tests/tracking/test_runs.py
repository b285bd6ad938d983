import json
from datetime import date
from pathlib import Path

from matplotlib.figure import Figure

from tickercast.tracking.runs import BACKTEST, Record, TrainingData


def test_a_run_records_params_tags_metrics_history_and_plots(runs, experiment, tmp_path):
    figure = Figure()
    figure.subplots().plot([1, 2])
    data = TrainingData("AAPL prices", Path("/x/prices.parquet"), "ab" * 32, 3, "a", "b")
    opened = Record(params={"window": 60}, tags={"data_sha256": "ab" * 32}, training_data=data)
    run_id = runs.start_run("AAPL", date(2022, 12, 30), opened)
    runs.record(
        run_id,
        Record(
            metrics={"rmse_ratio": 1.1, "directional_accuracy": float("nan")},
            history={"loss": [0.5, 0.25], "val_loss": [0.6, 0.3]},
            figures={"plots/line.png": figure},
        ),
    )
    runs.end_run(run_id, succeeded=True)

    client = experiment.client
    run = client.get_run(run_id)
    assert run.info.run_name == "AAPL 2022-12-30"
    assert run.info.status == "FINISHED"
    assert run.data.tags["ticker"] == "AAPL" and run.data.tags["as_of"] == "2022-12-30"
    assert run.data.tags["data_sha256"] == "ab" * 32
    assert run.data.params["window"] == "60"
    assert run.data.metrics["rmse_ratio"] == 1.1
    assert "directional_accuracy" not in run.data.metrics  # NaN is skipped
    val_loss = client.get_metric_history(run_id, "val_loss")
    assert [(m.step, m.value) for m in val_loss] == [(1, 0.6), (2, 0.3)]
    assert [a.path for a in client.list_artifacts(run_id, "plots")] == ["plots/line.png"]
    (dataset,) = run.inputs.dataset_inputs  # the data lineage MLflow shows
    assert (dataset.dataset.name, dataset.dataset.digest) == ("AAPL prices", "ab" * 18)
    assert json.loads(dataset.dataset.profile)["data_sha256"] == "ab" * 32
    assert [(tag.key, tag.value) for tag in dataset.tags] == [("mlflow.data.context", "training")]


def test_failed_runs_are_marked_failed(runs, experiment):
    run_id = runs.start_run("AAPL", date(2022, 12, 30), Record())
    runs.end_run(run_id, succeeded=False)
    assert experiment.client.get_run(run_id).info.status == "FAILED"


def test_run_url_points_at_the_ui(runs, experiment):
    assert (
        runs.run_url("r1") == f"http://127.0.0.1:5000/#/experiments/{experiment.id}/runs/r1"
        "?workflowType=machine_learning"
    )


def test_the_latest_run_is_the_latest_daily_one_in_old_homes_too(runs, experiment):
    """Runs made before the `run_kind` tag are told apart by their names."""
    create = experiment.client.create_run
    create(experiment.id, run_name="AAPL 2013-02-28", tags={"ticker": "AAPL"})
    create(experiment.id, run_name="AAPL backtest 2013-03-01", tags={"ticker": "AAPL"})
    assert runs.latest_run("AAPL").name == "AAPL 2013-02-28"
    runs.start_run("AAPL", date(2013, 3, 1), Record(), kind=BACKTEST)
    runs.start_run("AAPL", date(2013, 2, 27), Record())  # a replay: the newest daily run
    assert runs.latest_run("AAPL").name == "AAPL 2013-02-27"
    assert runs.latest_run("MSFT") is None
