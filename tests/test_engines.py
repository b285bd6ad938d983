"""The task runners the daily flow fans out on, and a real Dask `LocalCluster` run."""

from datetime import date

import mlflow
import pytest
from dask.system import CPU_COUNT
from distributed import Client, LocalCluster
from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from tickercast.errors import InputError
from tickercast.flows.daily_forecast import daily_forecast
from tickercast.flows.engines import local_cluster, task_runner, worker_threads
from tickercast.storage import Store


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


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_local_cluster_of_two_workers_isolates_a_failing_ticker(settings):
    state = daily_forecast(
        tickers=["AAPL", "ZZZZ", "IBM"],
        source="sample",
        start=date(2011, 6, 1),
        as_of=date(2013, 2, 25),
        epochs=2,
        window=20,
        horizons=3,
        task_runner="dask",
        dask_workers=2,
        return_state=True,
    )
    assert state.is_failed()
    assert state.message.startswith(
        "1 of 3 tickers failed: ZZZZ (in ingest_prices: NoPricesError: ZZZZ: no prices"
    )
    outcomes = {o.ticker: o for o in state.result(raise_on_failure=False)}
    assert outcomes["ZZZZ"].stage == "ingest_prices" and outcomes["ZZZZ"].result is None
    store = Store(settings.home)
    for ticker in ("AAPL", "IBM"):
        published = outcomes[ticker].result
        assert published.as_of == date(2013, 2, 25)
        assert (settings.home / "forecasts" / ticker / "2013-02-25.parquet").is_file()
    assert not store.forecast_dir("ZZZZ").exists()
    # the workers tracked to the same MLflow store, under this flow run's parent run
    client = mlflow.MlflowClient(tracking_uri=store.local_tracking_uri)
    runs = client.search_runs(client.get_experiment_by_name("tickercast").experiment_id)
    tickers = {r.data.tags.get("ticker"): r for r in runs}
    assert {t for t in tickers if t} == {"AAPL", "IBM"}
    parent = tickers[None]
    assert {tickers[t].data.tags["mlflow.parentRunId"] for t in ("AAPL", "IBM")} == {
        parent.info.run_id
    }
    assert parent.data.metrics == {"tickers_published": 2.0, "tickers_failed": 1.0}
