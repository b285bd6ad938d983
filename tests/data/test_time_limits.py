"""Issue 14: bounded time. A source that never answers (a named pipe no program
writes, as a hung network mount behaves) fails its request in time; a flow out of time
stops its tickers, says where it was, and releases the deployment's slot (that one
through a real worker: `test_deployment_server.py`)."""

import time

import pytest

from tickercast.data.ingest import ingest_prices
from tickercast.data.sources import FolderSource
from tickercast.data.storage import Store
from tickercast.data.time_limits import STOP, Stopped, TimeLimits, call_within
from tickercast.errors import InputError, SourceUnavailableError


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
