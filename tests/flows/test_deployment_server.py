"""The deployments as users run them: a real `prefect server` on 127.0.0.1, a `process`
work pool and worker deploying from deployments/prefect.yaml, and the serve script.

The module's tests share one server and one worker (starting, deploying and polling
cost about a minute on 2 cores); each test's flow runs get a TICKERCAST_HOME of their
own through the run's job variables, as a user would point one run elsewhere."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.servers import (
    BIN,
    ROOT,
    deployment_env,
    moment,
    prefect_cli,
    prefect_server,
    running,
    start_deployment_run,
    wait_for_flow_run,
    wait_for_state,
)

pytestmark = [pytest.mark.server, pytest.mark.slow]

PARAMETERS = [
    "-p",
    'tickers=["AAPL"]',
    "-p",
    "source=sample",
    "-p",
    "epochs=1",
    "-p",
    "window=20",
    "-p",
    "horizons=3",
    "-p",
    "start=2011-06-01",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A `prefect server`; the environment of its CLI, with a home no run writes to."""
    folder = tmp_path_factory.mktemp("prefect")
    with prefect_server(folder / "prefect") as api:
        # the worker asks for due runs every 2 s instead of 10: a test waits for each
        yield deployment_env(api, folder / "unused-home", PREFECT_WORKER_QUERY_SECONDS="2")


@pytest.fixture(scope="module")
def worker(server, tmp_path_factory):
    """The `tickercast` process pool, every deployment of prefect.yaml, and a worker."""
    prefect_cli(server, "work-pool", "create", "tickercast", "--type", "process")
    prefect_cli(
        server, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--all"
    )
    command = [str(BIN / "prefect"), "worker", "start", "--pool", "tickercast", "--limit", "2"]
    with running(command, tmp_path_factory.mktemp("worker") / "worker.log", server):
        yield server


def start_run(env: dict, deployment: str, home: Path, parameters=PARAMETERS, **variables) -> str:
    """A run of `deployment` on `home` (and other `variables` of its environment)."""
    run_env = {"TICKERCAST_HOME": str(home), **variables}
    return start_deployment_run(env, deployment, parameters, run_env)


def test_a_worker_runs_the_deployment_from_prefect_yaml(worker, tmp_path):
    daily = json.loads(
        prefect_cli(worker, "deployment", "inspect", "daily-forecast/daily", "-o", "json")
    )
    (schedule,) = daily["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == (
        "30 18 * * 1-5",
        "America/New_York",
    )
    assert daily["global_concurrency_limit"]["limit"] == 1
    assert daily["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    assert daily["work_pool_name"] == "tickercast"

    home = tmp_path / "home"
    first = start_run(worker, "daily-forecast/daily", home)
    second = start_run(worker, "daily-forecast/daily", home)  # while the first runs: it waits
    runs = [wait_for_flow_run(worker, run_id) for run_id in (first, second)]
    # the backfill deployment replays a range through the same worker
    replay = PARAMETERS + ["-p", "first_as_of=2013-02-26", "-p", "last_as_of=2013-02-27"]
    backfilled = wait_for_flow_run(worker, start_run(worker, "backfill/backfill", home, replay))
    assert backfilled["name"] == "backfill 2013-02-26 to 2013-02-27: AAPL"
    earlier, later = sorted(runs, key=lambda run: run["start_time"])
    # named by the session it ran as of, once its ticker ran (no as_of was given)
    assert earlier["name"] == "daily-forecast 2013-03-01: AAPL"
    assert moment(earlier["end_time"]) <= moment(later["start_time"])  # one at a time

    table = pq.read_table(home / "forecasts" / "AAPL" / "2013-03-01.parquet")
    assert table.column("horizon").to_pylist() == [1, 2, 3]
    artifact = json.loads(prefect_cli(worker, "artifact", "inspect", "forecast-aapl", "-o", "json"))
    assert artifact[0]["type"] == "table"
    # the latest forecast-aapl is the backfill's last: as of 2013-02-27, for 2013-02-28
    assert json.loads(artifact[0]["data"])[0]["session"] == "2013-02-28"
    for as_of in ("2013-02-26", "2013-02-27"):  # each session's forecast, made as of it
        replayed = pq.read_table(home / "forecasts" / "AAPL" / f"{as_of}.parquet")
        assert str(replayed.column("as_of")[0]) == as_of


def test_a_wedged_daily_run_times_out_says_where_and_the_queued_run_starts(
    worker, tmp_path, silent_folder
):
    home = tmp_path / "home"
    # the request waits longer than the whole run may take: the flow's limit ends it
    wedged = start_run(
        worker,
        "daily-forecast/daily",
        home,
        [*PARAMETERS, "-p", f"source={silent_folder}"],
        TICKERCAST_SOURCE_TIMEOUT="600",
        TICKERCAST_FLOW_TIMEOUT="45",
    )
    wait_for_state(worker, wedged, ("RUNNING",))
    queued = start_run(worker, "daily-forecast/daily", home)
    runs = {run_id: wait_for_state(worker, run_id) for run_id in (wedged, queued)}
    logs = prefect_cli(worker, "flow-run", "logs", wedged)
    first, second = runs[wedged], runs[queued]
    assert (first["state"]["type"], first["state"]["name"]) == ("FAILED", "TimedOut")
    assert first["state"]["message"] == (
        "out of time after 45 s (TICKERCAST_FLOW_TIMEOUT); was running: ingest_prices-AAPL"
    )
    assert "still running: ingest_prices-AAPL" in logs
    # the ticker's request was abandoned, not retried: it says why
    assert "AAPL: " in logs and "the flow run ran out of time" in logs
    assert second["state"]["type"] == "COMPLETED"
    # the queued run waited for the slot, and got it once the wedged run timed out
    assert moment(first["end_time"]) <= moment(second["start_time"])
    assert (home / "forecasts" / "AAPL" / "latest.json").is_file()


def test_the_serve_script_serves_and_runs_the_deployments(server, tmp_path):
    home = tmp_path / "home"
    serve = [sys.executable, str(ROOT / "deployments" / "serve.py")]
    with running(serve, tmp_path / "serve.log", {**server, "TICKERCAST_HOME": str(home)}):
        deadline = time.monotonic() + 180
        while True:
            listed = subprocess.run(
                [str(BIN / "prefect"), "deployment", "ls"],
                cwd=ROOT,
                env=server,
                capture_output=True,
                text=True,
            ).stdout
            if "daily-served" in listed and "backfill-served" in listed:
                break
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(2)
        served = json.loads(
            prefect_cli(
                server, "deployment", "inspect", "daily-forecast/daily-served", "-o", "json"
            )
        )
        (schedule,) = served["schedules"]
        assert schedule["schedule"]["cron"] == "30 18 * * 1-5"
        assert served["global_concurrency_limit"]["limit"] == 1
        run = wait_for_flow_run(
            server, start_deployment_run(server, "daily-forecast/daily-served", PARAMETERS)
        )
    assert run["parameters"]["tickers"] == ["AAPL"]
    assert (home / "forecasts" / "AAPL" / "latest.json").is_file()
