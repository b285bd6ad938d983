"""The deployments as users run them: a real `prefect server` on 127.0.0.1, a `process`
work pool and worker deploying from deployments/prefect.yaml, and the serve script."""

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
)

# each test starts its own `prefect server` and a worker or the serve script
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


@pytest.fixture
def server(tmp_path):
    with prefect_server(tmp_path / "prefect") as api:
        yield deployment_env(api, tmp_path / "home")


def start_run(env: dict, deployment: str) -> str:
    return start_deployment_run(env, deployment, PARAMETERS)


def test_a_worker_runs_the_deployment_from_prefect_yaml(server, tmp_path):
    prefect_cli(server, "work-pool", "create", "tickercast", "--type", "process")
    prefect_cli(
        server, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--all"
    )
    daily = json.loads(
        prefect_cli(server, "deployment", "inspect", "daily-forecast/daily", "-o", "json")
    )
    (schedule,) = daily["schedules"]
    assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == (
        "30 18 * * 1-5",
        "America/New_York",
    )
    assert daily["global_concurrency_limit"]["limit"] == 1
    assert daily["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    assert daily["work_pool_name"] == "tickercast"

    worker = [str(BIN / "prefect"), "worker", "start", "--pool", "tickercast", "--limit", "2"]
    with running(worker, tmp_path / "worker.log", server):
        first = start_run(server, "daily-forecast/daily")
        second = start_run(server, "daily-forecast/daily")  # while the first runs: it waits
        runs = [wait_for_flow_run(server, run_id) for run_id in (first, second)]
        # the backfill deployment replays a range through the same worker
        replay = PARAMETERS + ["-p", "first_as_of=2013-02-26", "-p", "last_as_of=2013-02-27"]
        backfilled = wait_for_flow_run(
            server, start_deployment_run(server, "backfill/backfill", replay)
        )
    assert backfilled["name"] == "backfill 2013-02-26 to 2013-02-27: AAPL"
    earlier, later = sorted(runs, key=lambda run: run["start_time"])
    assert earlier["name"] == "daily-forecast latest: AAPL"
    assert moment(earlier["end_time"]) <= moment(later["start_time"])  # one at a time

    home = Path(server["TICKERCAST_HOME"])
    table = pq.read_table(home / "forecasts" / "AAPL" / "2013-03-01.parquet")
    assert table.column("horizon").to_pylist() == [1, 2, 3]
    artifact = json.loads(prefect_cli(server, "artifact", "inspect", "forecast-aapl", "-o", "json"))
    assert artifact[0]["type"] == "table"
    # the latest forecast-aapl is the backfill's last: as of 2013-02-27, for 2013-02-28
    assert json.loads(artifact[0]["data"])[0]["target_date"] == "2013-02-28"
    for as_of in ("2013-02-26", "2013-02-27"):  # each session's forecast, made as of it
        replayed = pq.read_table(home / "forecasts" / "AAPL" / f"{as_of}.parquet")
        assert str(replayed.column("as_of")[0]) == as_of


def test_the_serve_script_serves_and_runs_the_deployments(server, tmp_path):
    serve = [sys.executable, str(ROOT / "deployments" / "serve.py")]
    with running(serve, tmp_path / "serve.log", server):
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
        run = wait_for_flow_run(server, start_run(server, "daily-forecast/daily-served"))
    assert run["parameters"]["tickers"] == ["AAPL"]
    assert (Path(server["TICKERCAST_HOME"]) / "forecasts" / "AAPL" / "latest.json").is_file()
