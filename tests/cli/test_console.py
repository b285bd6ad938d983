"""A newcomer's first run prints its summary and nothing from the libraries underneath;
`--verbose` brings their logs back (tickercast.cli.console)."""

import io
import logging
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from tests.conftest import SMALL_RUN_OPTIONS, data_warnings, library_noise, user_runs
from tickercast.cli import console
from tickercast.cli.console import SUMMARIZED
from tickercast.data.storage import Store
from tickercast.models.candidates import uses_bar

BIN = Path(sys.executable).parent
RUN = [
    "run",
    "--source",
    "sample",
    "--tickers",
    "AAPL",
    *SMALL_RUN_OPTIONS,
]
CONFIGURED = (
    "PREFECT_SERVER_ANALYTICS_ENABLED",
    "TF_CPP_MIN_LOG_LEVEL",
    "PREFECT_LOGGING_LEVEL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS",
    "MLFLOW_LOGGING_LEVEL",
)


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory) -> subprocess.CompletedProcess:
    return user_runs(RUN, tmp_path_factory.mktemp("quiet"))


@pytest.mark.slow
def test_a_run_prints_its_summary_and_no_library_lines(quiet_run):
    assert quiet_run.returncode == 0, quiet_run.stderr[-3000:]
    assert "AAPL     2013-03-01 2013-03-04" in quiet_run.stdout
    assert "why:      " in quiet_run.stdout and "Forecasts:  " in quiet_run.stdout
    assert library_noise(quiet_run.stdout) == []
    assert library_noise(quiet_run.stderr) == []


@pytest.mark.slow
def test_a_successful_run_writes_only_warnings_about_the_data_to_stderr(quiet_run):
    # the sample's AAPL history has one-day moves beyond 25 % (2000): the first ingest
    # says so, once; nothing else reaches stderr
    assert data_warnings(quiet_run.stderr) == ["AAPL"]
    assert "large_move 3" in quiet_run.stderr


@pytest.mark.slow
def test_verbose_brings_the_library_logs_back(tmp_path):
    loud = user_runs(["--verbose", *RUN], tmp_path)
    assert loud.returncode == 0, loud.stderr[-3000:]
    assert "AAPL     2013-03-01 2013-03-04" in loud.stdout
    # TensorFlow's start-up lines (worded differently across TensorFlow releases)
    assert re.search(r"absl|oneDNN|cuda", loud.stderr, re.IGNORECASE), loud.stderr[-3000:]
    assert "| INFO    | Task run 'build_windows-AAPL' - AAPL: as_of 2013-03-01" in loud.stderr


@pytest.mark.slow
def test_a_ticker_that_fails_in_the_run_is_reported_once_with_its_stage_and_cause(tmp_path):
    # bad input: the error says what is wrong with the data, a traceback would not
    short = user_runs([*RUN, "--start", "2013-01-02"], tmp_path)  # the last --start wins
    assert short.returncode == 1, short.stderr[-3000:]
    assert "Traceback" not in short.stderr and '  File "' not in short.stderr
    everything = short.stdout + short.stderr
    (failed,) = [line for line in everything.splitlines() if "too little history" in line]
    assert failed.startswith("AAPL     FAILED in build_windows: InsufficientHistoryError: AAPL:")
    # nothing else of it: Prefect's reports of the failed runs are left to the UI
    assert data_warnings(short.stderr) == ["AAPL"]  # the data warning of its first ingest


@pytest.mark.slow
def test_a_folder_without_the_tickers_file_fails_at_once_before_any_server(tmp_path):
    folder = tmp_path / "prices"
    folder.mkdir()
    (folder / "MSFT.csv").write_text("Date,Close\n2013-02-28,27.8\n")
    (folder / "IBM.csv").write_text("Date,Open,High,Low,Volume\n2013-02-28,1,2,0.5,10\n")
    started = time.monotonic()
    run = user_runs(["run", "--tickers", "AAPL,IBM", "--source", str(folder)], tmp_path)
    assert time.monotonic() - started < 15  # a temporary Prefect server alone takes ~10 s
    assert run.returncode == 1 and run.stderr == ""
    assert run.stdout.splitlines() == [
        f"AAPL     FAILED before the run: NoPricesError: AAPL: no prices from source "
        f"'{folder}': no AAPL.csv or AAPL.parquet there",
        f"IBM      FAILED before the run: PriceDataError: IBM: {folder / 'IBM.csv'}: no close "
        "column: its columns are Date, Open, High, Low, Volume; a close column is headed "
        "Close (any case)",
    ]
    assert not (tmp_path / "prefect").exists()  # no server started: no Prefect database


def test_the_console_handler_leaves_each_failure_to_the_commands_summary():
    from prefect.logging.formatters import PrefectFormatter

    from tickercast.cli.console_handler import ConsoleHandler
    from tickercast.errors import InsufficientHistoryError

    shown = io.StringIO()
    handler = ConsoleHandler(stream=shown)
    handler.setFormatter(PrefectFormatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.console_handler")
    logger.propagate = False
    logger.addHandler(handler)
    kept = []
    logger.addHandler(CallbackHandler(kept.append))
    short = InsufficientHistoryError("CARR", 273, 40, "window 20")
    for error in (short, RuntimeError("bug")):
        try:
            raise error
        except Exception:
            # Prefect's reports of the failed task and flow runs, and the flow's own line
            logger.error("Task run failed with exception: %r", error, exc_info=True)
            logger.error("Finished in state Failed('Task run encountered an exception')")
            logger.error("CARR failed in build_windows: %s", error, extra={SUMMARIZED: True})
            logger.error("Could not write the summary: %r", error, exc_info=True)
    logger.warning("CARR: data-quality findings in the sessions fetched (large_move 1)")
    logger.error("Crash detected! Execution was interrupted by an unexpected exception.")
    lines = shown.getvalue().splitlines()
    assert lines[0] == (
        "ERROR Could not write the summary: InsufficientHistoryError('CARR: too little "
        "history: needs at least 273 sessions (window 20), found 40')"
    )  # bad input: its message says it all, without a traceback
    assert lines[1] == "ERROR Could not write the summary: RuntimeError('bug')"
    assert lines[2] == "Traceback (most recent call last):"  # not bad input: a bug to see
    assert lines[-2] == "WARNING CARR: data-quality findings in the sessions fetched (large_move 1)"
    assert lines[-1].startswith("ERROR Crash detected!")
    assert not [line for line in lines if "failed" in line.lower()]
    # the other handlers (Prefect's API: the UI) get every record whole
    assert len(kept) == 10 and [r.exc_info[0] for r in kept if r.exc_info] == [
        InsufficientHistoryError,
        InsufficientHistoryError,
        RuntimeError,
        RuntimeError,
    ]


class CallbackHandler(logging.Handler):
    def __init__(self, callback) -> None:
        super().__init__()
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        self.callback(record)


def test_the_cli_loads_no_library_before_it_configures_the_console():
    """TensorFlow, Prefect and MLflow read their logging settings when they load."""
    script = (
        "import sys, tickercast.cli.main\n"
        "print(sorted({'tensorflow', 'keras', 'prefect', 'mlflow'} & set(sys.modules)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert shown.stdout.strip() == "[]"


@pytest.fixture
def environment(monkeypatch):
    """No console variables set; sys.meta_path and the warning filters restored after."""
    for name in CONFIGURED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    monkeypatch.setattr(sys, "warnoptions", [])
    with warnings.catch_warnings():
        yield os.environ


def test_defaults_quiet_the_libraries(environment):
    console.configure(verbose=False)
    assert environment["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert environment["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert environment["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] == "WARNING"
    assert environment["MLFLOW_LOGGING_LEVEL"] == "WARNING"
    assert environment["PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS"] == console.CONSOLE_HANDLER
    assert "PREFECT_LOGGING_LEVEL" not in environment  # Prefect's loggers keep INFO
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn_explicit("library", UserWarning, "lib.py", 1, module="mlflow.types")
        warnings.warn_explicit(
            "ours", UserWarning, "windows.py", 1, module="tickercast.data.windows"
        )
    assert [str(w.message) for w in caught] == ["ours"]


def test_verbose_leaves_the_libraries_alone(environment):
    filters = list(warnings.filters)
    console.configure(verbose=True)
    assert {name for name in CONFIGURED if name in environment} == {
        "PREFECT_SERVER_ANALYTICS_ENABLED"
    }
    assert warnings.filters == filters


def test_the_users_settings_win(environment):
    mine = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "true",
        "TF_CPP_MIN_LOG_LEVEL": "0",
        "PREFECT_LOGGING_LEVEL": "DEBUG",
        "PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS": "logging.StreamHandler",
        "MLFLOW_LOGGING_LEVEL": "DEBUG",
    }
    environment.update(mine)
    console.configure(verbose=False)
    assert {name: environment.get(name) for name in CONFIGURED} == {
        **mine,
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": None,
    }


def test_native_load_chatter_is_dropped_and_anything_else_kept(capfd):
    chatter = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795966970.125053    5624 port.cc:153] oneDNN custom operations are on.\n"
        "W0000 00:00:1795966970.126236    5624 cudart_stub.cc:31] Could not find cuda drivers\n"
    )
    with console._native_stderr_filtered():
        os.write(2, chatter.encode())
        os.write(2, b"E0000 00:00:1795966970.2 5624 loader.cc:9] a real failure\n")
        os.write(2, b"Traceback (most recent call last):\n")
    assert capfd.readouterr().err == (
        "E0000 00:00:1795966970.2 5624 loader.cc:9] a real failure\n"
        "Traceback (most recent call last):\n"
    )


@pytest.mark.slow
def test_a_close_only_source_is_said_once_and_its_intervals_come_from_closes(tmp_path, sample_aapl):
    """A folder of closes alone: the run publishes, warns once that the ticker's
    intervals come from the close-only models, and publishes one of theirs."""
    folder = tmp_path / "closes"
    folder.mkdir()
    closes = sample_aapl[["session", "close"]].rename(columns={"session": "Date", "close": "Close"})
    closes.to_csv(folder / "AAPL.csv", index=False)
    run = user_runs(
        ["run", "--tickers", "AAPL", "--source", str(folder), *SMALL_RUN_OPTIONS], tmp_path
    )
    assert run.returncode == 0, run.stderr[-3000:]
    warned = [line for line in run.stderr.splitlines() if "close-only models" in line]
    assert len(warned) == 1, run.stderr[-3000:]
    assert (
        "WARNING | Task run 'train_model-AAPL' - AAPL: the source gives a readable open"
        in (warned[0])
    )
    assert "on 0% of the last" in warned[0]
    (first, *_) = Store(tmp_path / "home").read_latest_forecast("AAPL")
    assert not uses_bar(first["interval_model"])
