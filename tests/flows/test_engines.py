"""The task runners the daily flow fans out on, and a real Dask `LocalCluster` run from
the command line."""

import mlflow
import pytest
from dask.system import CPU_COUNT
from distributed import Client, LocalCluster
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from tests.conftest import data_warnings, library_noise, user_runs
from tickercast.data.storage import Store
from tickercast.errors import InputError
from tickercast.flows.engines import local_cluster, task_runner, worker_threads


def test_serial_runs_one_ticker_at_a_time():
    runner = task_runner("serial")
    assert isinstance(runner, ThreadPoolTaskRunner) and runner._max_workers == 1


def test_dask_runs_a_local_cluster_or_joins_a_scheduler():
    local = task_runner("dask", dask_workers=3)
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_class is local_cluster
    assert local.cluster_kwargs == {"n_workers": 3, "threads_per_worker": 1}
    assert task_runner("dask", dask_address="tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"


def test_unknown_engines_and_contradictions_are_input_errors():
    with pytest.raises(InputError, match="unknown task runner 'spark': use serial or dask"):
        task_runner("spark")
    with pytest.raises(InputError, match="dask_workers sizes a local cluster"):
        task_runner("dask", dask_address="tcp://10.0.0.5:8786", dask_workers=4)


def test_tensorflow_gets_the_cores_of_one_task_slot_on_each_worker():
    assert worker_threads() is None  # not on a Dask worker
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        threads = client.gather([client.submit(worker_threads, pure=False) for _ in range(2)])
    assert threads == [max(1, CPU_COUNT // 2)] * 2


# 20 S&P 500 members that trade from 2019 to 2021
UNIVERSE = ["A", "AAL", "ABT", "ACN", "ADBE", "ADI", "ADM", "ADP", "AEE", "AEP"]
UNIVERSE += ["AFL", "AIG", "AJG", "AKAM", "ALB", "ALL", "APD", "AME", "AMGN", "AMT"]


@pytest.mark.slow
def test_two_dask_workers_share_the_mlflow_store_isolate_failing_tickers_and_stay_quiet(
    shared_data, tmp_path
):
    # as a user starts it: the command line, its own temporary Prefect server, a local
    # cluster of two worker processes, which quiet TensorFlow as the CLI did
    universe = tmp_path / "universe.txt"
    universe.write_text("\n".join([*UNIVERSE, "VTRS", "ZZZZ"]) + "\n")
    run = user_runs(
        [
            "run",
            "--universe",
            str(universe),
            "--source",
            str(shared_data / "sp500"),
            "--start",
            "2020-01-02",
            "--epochs",
            "1",
            "--window",
            "10",
            "--horizons",
            "2",
            "--task-runner",
            "dask",
            "--dask-workers",
            "2",
        ],
        tmp_path,
    )
    assert run.returncode == 1, run.stderr[-3000:]
    assert library_noise(run.stdout) == [] and library_noise(run.stderr) == []
    assert set(data_warnings(run.stderr)) <= {*UNIVERSE, "VTRS"}
    # ZZZZ has no file in the folder: refused before any server; VTRS fails alone
    lines = run.stdout.splitlines()
    (refused,) = [line for line in lines if line.startswith("ZZZZ ")]
    assert refused.startswith("ZZZZ     FAILED before the run: NoPricesError: ZZZZ: no prices")
    (failed,) = [line for line in lines if line.startswith("VTRS ")]
    assert "FAILED in build_windows" in failed and "too little history" in failed
    home = tmp_path / "home"
    store = Store(home)
    outcomes = store.last_outcomes()
    assert outcomes["VTRS"]["status"] == "failed in build_windows"
    for ticker in UNIVERSE:
        assert f"{ticker:8} 2021-04-21" in run.stdout
        assert (home / "forecasts" / ticker / "2021-04-21.parquet").is_file()
    assert not store.forecast_dir("ZZZZ").exists()
    # both workers wrote to the one SQLite store, under this flow run's parent run,
    # and every write landed: each ticker's run, LoggedModel and metrics
    client = mlflow.MlflowClient(tracking_uri=store.local_tracking_uri)
    experiment = client.get_experiment_by_name("tickercast").experiment_id
    runs = client.search_runs(experiment)
    tickers = {r.data.tags.get("ticker"): r for r in runs}
    assert set(tickers) == {*UNIVERSE, None}  # VTRS failed before its run opened
    parent = tickers.pop(None)
    assert {r.data.tags["mlflow.parentRunId"] for r in tickers.values()} == {parent.info.run_id}
    assert {tickers[t].info.status for t in UNIVERSE} == {"FINISHED"}
    assert parent.data.metrics == {"tickers_published": 20.0, "tickers_failed": 1.0}
    models = client.search_logged_models([experiment])
    assert sorted(m.tags["ticker"] for m in models) == sorted(UNIVERSE)
