"""Issue 14: bounded time. A source that never answers (a named pipe no program
writes, as a hung network mount behaves) fails its request in time; a flow out of time
stops its tickers, says where it was, and releases the deployment's slot."""

import contextlib
import os
import time

import pytest

from tests.servers import (
    BIN,
    deployment_env,
    moment,
    prefect_cli,
    prefect_server,
    running,
    start_deployment_run,
    wait_for_state,
)
from tickercast.errors import InputError, SourceUnavailableError
from tickercast.ingest import ingest_prices
from tickercast.sources import FolderSource
from tickercast.storage import Store
from tickercast.time_limits import STOP, Stopped, TimeLimits, call_within


@pytest.fixture
def silent_folder(tmp_path):
    """A folder source whose AAPL.csv is a named pipe that no program writes: opening
    it blocks for ever, in a system call that Python cannot interrupt."""
    folder = tmp_path / "silent"
    folder.mkdir()
    os.mkfifo(folder / "AAPL.csv")
    yield folder
    # release a reader left blocked: open the pipe for writing and close it (EOF)
    with contextlib.suppress(OSError):  # ENXIO: no reader is left
        os.close(os.open(folder / "AAPL.csv", os.O_WRONLY | os.O_NONBLOCK))


def test_a_source_that_never_answers_fails_its_request_in_time(tmp_path, silent_folder):
    store = Store(tmp_path / "home")
    started = time.monotonic()
    with pytest.raises(SourceUnavailableError) as error:
        ingest_prices("AAPL", FolderSource(silent_folder), store, None, "XNYS", source_timeout=1.5)
    assert 1.5 <= time.monotonic() - started < 5
    assert str(error.value) == f"AAPL: {silent_folder} did not answer within 1.5 s"
    assert not store.prices_file("AAPL").exists() and store.read_manifest() == []


def test_a_flow_out_of_time_abandons_the_request_it_waits_for(silent_folder):
    def read():
        return (silent_folder / "AAPL.csv").read_text()

    STOP.set()
    try:
        with pytest.raises(Stopped, match="AAPL: the flow run ran out of time"):
            call_within(read, 600, "AAPL")
    finally:
        STOP.clear()
    assert call_within(lambda: 42, 1, "answer") == 42
    with pytest.raises(ZeroDivisionError):
        call_within(lambda: 1 / 0, 1, "division")


def test_time_limits_are_read_from_the_environment_and_checked():
    limits = TimeLimits.from_env(
        {
            "TICKERCAST_SOURCE_TIMEOUT": "30",
            "TICKERCAST_STAGE_TIMEOUTS": "train_model=10800, ingest_prices=60",
            "TICKERCAST_FLOW_TIMEOUT": "7200",
        }
    )
    assert (limits.source_call, limits.flow) == (30, 7200)
    assert (limits.stage("train_model"), limits.stage("ingest_prices")) == (10800, 60)
    assert limits.stage("end_tracking_run") == TimeLimits().stage("end_tracking_run")
    assert TimeLimits.from_env({}) == TimeLimits()
    for variable, value in (
        ("TICKERCAST_FLOW_TIMEOUT", "0"),
        ("TICKERCAST_SOURCE_TIMEOUT", "soon"),
        ("TICKERCAST_STAGE_TIMEOUTS", "train_model"),
    ):
        with pytest.raises(InputError, match=f"{variable}.*positive number of seconds"):
            TimeLimits.from_env({variable: value})


@pytest.mark.server
@pytest.mark.slow
def test_a_wedged_daily_run_times_out_says_where_and_the_queued_run_starts(tmp_path, silent_folder):
    with prefect_server(tmp_path / "prefect") as api:
        # the request waits longer than the whole run may take: the flow's limit ends it
        env = deployment_env(
            api,
            tmp_path / "home",
            TICKERCAST_SOURCE_TIMEOUT="600",
            TICKERCAST_FLOW_TIMEOUT="45",
        )
        prefect_cli(env, "work-pool", "create", "tickercast", "--type", "process")
        prefect_cli(
            env,
            "--no-prompt",
            "deploy",
            "--prefect-file",
            "deployments/prefect.yaml",
            "-n",
            "daily",
        )
        small = ["-p", "epochs=1", "-p", "window=20", "-p", "horizons=3"]
        small += ["-p", "start=2011-06-01", "-p", 'tickers=["AAPL"]']
        worker = [str(BIN / "prefect"), "worker", "start", "--pool", "tickercast", "--limit", "2"]
        with running(worker, tmp_path / "worker.log", env):
            wedged = start_deployment_run(
                env, "daily-forecast/daily", [*small, "-p", f"source={silent_folder}"]
            )
            wait_for_state(env, wedged, ("RUNNING",))
            queued = start_deployment_run(
                env, "daily-forecast/daily", [*small, "-p", "source=sample"]
            )
            runs = {run_id: wait_for_state(env, run_id) for run_id in (wedged, queued)}
            logs = prefect_cli(env, "flow-run", "logs", wedged)
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
    assert (tmp_path / "home" / "forecasts" / "AAPL" / "latest.json").is_file()
