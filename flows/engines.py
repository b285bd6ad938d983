"""Where the per-ticker work runs: one ticker at a time in the flow's process, or on
a Dask cluster (a local one, or an existing scheduler) through prefect-dask."""

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from tickercast.errors import InputError
from tickercast.request import ENGINES


def task_runner(
    engine: str, dask_address: str | None = None, dask_workers: int | None = None
) -> TaskRunner:
    """The task runner that the flow fans its tickers out on.

    Args:
        engine: `serial` (one ticker after another, in this process) or `dask`.
        dask_address: an existing scheduler, `tcp://HOST:PORT`; a `LocalCluster` of
            `dask_workers` single-threaded worker processes when None.
        dask_workers: worker processes of the local cluster (default 2).

    Returns:
        A task runner, not yet started.
    """
    if engine == "serial":
        return ThreadPoolTaskRunner(max_workers=1)
    if engine != "dask":
        raise InputError(f"unknown task runner {engine!r}: use {' or '.join(ENGINES)}")
    if dask_address and dask_workers:
        raise InputError("dask_workers sizes a local cluster; the one at dask_address has its own")
    from prefect_dask import DaskTaskRunner

    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(
        cluster_class=local_cluster,
        cluster_kwargs={"n_workers": dask_workers or 2, "threads_per_worker": 1},
    )


def local_cluster(**cluster_kwargs):
    """A Dask `LocalCluster` whose workers report to this process's Prefect API, even
    when that is the temporary server Prefect starts here (else each worker would
    start its own and its runs would be lost with it)."""
    from distributed import LocalCluster
    from prefect import get_client

    api_url = str(get_client(sync_client=True).api_url)
    # each worker quiets its libraries as the CLI did (`dask_setup`)
    return LocalCluster(
        env={"PREFECT_API_URL": api_url}, preload=["tickercast.cli.console"], **cluster_kwargs
    )


def worker_threads() -> int | None:
    """Cores per task slot on this Dask worker's machine (its CPU count over the threads
    of every worker there), or None outside a Dask worker."""
    from dask.system import CPU_COUNT
    from distributed import get_worker
    from distributed.comm import get_address_host

    try:
        worker = get_worker()
    except ValueError:
        return None
    host = get_address_host(worker.address)
    workers = worker.client.scheduler_info(n_workers=-1)["workers"].values()
    slots = sum(info["nthreads"] for info in workers if info["host"] == host)
    return max(1, CPU_COUNT // max(slots, worker.state.nthreads))
