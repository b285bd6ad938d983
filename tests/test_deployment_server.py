"""The deployments as users run them: a real `prefect server` on 127.0.0.1, a `process`
work pool and worker deploying from deployments/prefect.yaml, and the serve script."""

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.servers import BIN, prefect_server, running

ROOT = Path(__file__).resolve().parents[1]
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
    with prefect_server(tmp_path / "prefect") as env:
        yield {
            **os.environ,
            **env,
            "TICKERCAST_HOME": str(tmp_path / "home"),
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }


def prefect(env: dict, *arguments: str, timeout: float = 180) -> str:
    result = subprocess.run(
        [str(BIN / "prefect"), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"prefect {' '.join(arguments)}:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def start_run(env: dict, deployment: str) -> str:
    output = prefect(env, "deployment", "run", deployment, *PARAMETERS)
    return re.search(r"UUID: ([0-9a-f-]{36})", output).group(1)


def wait_completed(env: dict, flow_run_id: str, seconds: float = 420) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = json.loads(prefect(env, "flow-run", "inspect", flow_run_id, "-o", "json"))
        state = run["state"]["type"]
        if state in ("FAILED", "CRASHED", "CANCELLED"):
            raise AssertionError(f"flow run {flow_run_id} ended {state}: {run['state']['message']}")
        if state == "COMPLETED":
            return run
        time.sleep(2)
    raise TimeoutError(f"flow run {flow_run_id} did not complete in {seconds} s")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_worker_runs_the_deployment_from_prefect_yaml(server, tmp_path):
    prefect(server, "work-pool", "create", "tickercast", "--type", "process")
    prefect(server, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--all")
    daily = json.loads(
        prefect(server, "deployment", "inspect", "daily-forecast/daily", "-o", "json")
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
        runs = [wait_completed(server, run_id) for run_id in (first, second)]
    earlier, later = sorted(runs, key=lambda run: run["start_time"])
    assert _moment(earlier["end_time"]) <= _moment(later["start_time"])  # one at a time

    home = Path(server["TICKERCAST_HOME"])
    table = pq.read_table(home / "forecasts" / "AAPL" / "2013-03-01.parquet")
    assert table.column("horizon").to_pylist() == [1, 2, 3]
    artifact = json.loads(prefect(server, "artifact", "inspect", "forecast-aapl", "-o", "json"))
    assert artifact[0]["type"] == "table"
    assert json.loads(artifact[0]["data"])[0]["target_date"] == "2013-03-04"


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
            prefect(server, "deployment", "inspect", "daily-forecast/daily-served", "-o", "json")
        )
        (schedule,) = served["schedules"]
        assert schedule["schedule"]["cron"] == "30 18 * * 1-5"
        assert served["global_concurrency_limit"]["limit"] == 1
        run = wait_completed(server, start_run(server, "daily-forecast/daily-served"))
    assert run["parameters"]["tickers"] == ["AAPL"]
    assert (Path(server["TICKERCAST_HOME"]) / "forecasts" / "AAPL" / "latest.json").is_file()
