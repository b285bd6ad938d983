"""Shared fixtures: an isolated TICKERCAST_HOME, Prefect's test server, real price data,
and a stand-in for Yahoo (the only thing outside the machine) that returns frames
shaped exactly as yfinance 1.x does, filled with real recorded prices."""

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tickercast.data.sources import SampleSource  # noqa: E402
from tickercast.settings import Settings  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Variables that would hide the noise, point at another server or store, or that the
# test session itself set (TF_CPP_MIN_LOG_LEVEL above).
DROPPED = ("PREFECT_", "MLFLOW_", "TF_", "TICKERCAST_", "PYTHONWARNINGS", "MPLBACKEND")


def logged_table(client, run_id: str, path: str) -> pd.DataFrame:
    """A table an MLflow run logged (`log_table`), read from its artifact: MLflow's own
    `load_table` searches runs through the fluent API's store, not the client's."""
    with tempfile.TemporaryDirectory() as folder:
        table = json.loads(Path(client.download_artifacts(run_id, path, folder)).read_text())
    return pd.DataFrame(table["data"], columns=table["columns"])


def user_environment(home: Path) -> dict[str, str]:
    """A user's environment outside `make`, their state in `home` (TICKERCAST_HOME
    `home/home`, PREFECT_HOME `home/prefect`)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
    environment |= {"TICKERCAST_HOME": str(home / "home"), "PREFECT_HOME": str(home / "prefect")}
    # a new machine: matplotlib builds its font cache (and says so at WARNING)
    environment["MPLCONFIGDIR"] = str(home / "matplotlib")
    return environment


def user_runs(
    arguments: list[str], home: Path, timeout: float = 600
) -> subprocess.CompletedProcess:
    """`tickercast ARGUMENTS` as a user starts it outside `make`, output piped (no
    terminal), in their environment (`user_environment`)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "tickercast"), *arguments],
        env=user_environment(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data`, the real price files beside the project (absent in a user's clone)."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip(f"{SHARED_DATA} is absent: these real-data tests need ../shared/data")
    return SHARED_DATA


# Lines that are not the program's: TensorFlow / absl / CUDA, Python warnings, Prefect's
# and MLflow's INFO records, the temporary server's telemetry, tracebacks, stale progress.
NOISE = re.compile(
    r"^[IWEF]\d{4} |absl|cuInit|cuda|oneDNN|Warning|warnings\.warn|\bINFO\b|Finished in state"
    r"|temporary server|prefect\.io/docs|telemetry|Traceback \(most recent|waiting|━",
    re.IGNORECASE,
)


# What concerns the user's data: a ticker's ingest found something in what it fetched.
DATA_WARNING = re.compile(
    r"^[\d:.]+ \| WARNING \| Task run 'ingest_prices-(\w+)' - \1: data-quality findings in "
    r"the sessions fetched \(.+\); report: /.+\.json$"
)


def library_noise(text: str) -> list[str]:
    """A command's output lines that are not the program's (`NOISE`), data warnings aside."""
    lines = [line for line in text.splitlines() if not DATA_WARNING.match(line)]
    return [line for line in lines if NOISE.search(line)]


def data_warnings(stderr: str) -> list[str]:
    """The tickers of the data warnings, when stderr holds nothing else."""
    matches = [DATA_WARNING.match(line) for line in stderr.splitlines()]
    assert all(matches), stderr[-3000:]
    return [match.group(1) for match in matches]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with TICKERCAST_HOME in a temp folder and the local MLflow store."""
    monkeypatch.setenv("TICKERCAST_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return Settings.from_env()


@pytest.fixture(scope="session")
def prefect_api():
    """A real temporary Prefect API server and database for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def sample_aapl() -> pd.DataFrame:
    """Real AAPL prices (bokeh-sampledata), canonical frame, 2000-03-01 to 2013-03-01."""
    return SampleSource().fetch("AAPL", None, None)


def yahoo_history_frame(prices: pd.DataFrame) -> pd.DataFrame:
    """A frame shaped as `yf.Ticker(t).history(auto_adjust=False, actions=True)` returns.

    Index `Date`, tz-aware midnight in America/New_York; columns Open, High, Low,
    Close, Adj Close, Volume (int64), Dividends, Stock Splits (0.0 on days without).
    """
    index = pd.DatetimeIndex(prices["session"]).tz_localize("America/New_York")
    frame = pd.DataFrame(
        {
            "Open": prices["open"].to_numpy(),
            "High": prices["high"].to_numpy(),
            "Low": prices["low"].to_numpy(),
            "Close": prices["close"].to_numpy(),
            "Adj Close": prices["adjusted_close"].to_numpy(),
            "Volume": prices["volume"].astype("int64").to_numpy(),
            "Dividends": prices["dividend"].to_numpy(),
            "Stock Splits": prices["split_ratio"]
            .where(prices["split_ratio"] != 1.0, 0.0)
            .to_numpy(),
        },
        index=pd.Index(index, name="Date"),
    )
    return frame


def yahoo_empty_frame() -> pd.DataFrame:
    """What yfinance 1.x returns for an unknown ticker or a failed request (utils.empty_df)."""
    frame = pd.DataFrame(
        index=[],
        data={"Open": [], "High": [], "Low": [], "Close": [], "Adj Close": [], "Volume": []},
    )
    frame.index.name = "Date"
    return frame


class FakeYahoo:
    """Stands in for `yfinance.Ticker`: serves recorded frames, or raises what Yahoo raises.

    `responses[ticker]` is a list consumed one call at a time (the last one repeats):
    a DataFrame to return, or an exception to raise.
    """

    def __init__(self, responses: dict[str, list]) -> None:
        self.responses = responses
        self.calls: list[tuple[str, dict]] = []
        self.times: list[float] = []  # time.monotonic() of each call

    def __call__(self, ticker: str) -> "FakeYahoo._Ticker":
        return FakeYahoo._Ticker(self, ticker)

    class _Ticker:
        def __init__(self, yahoo: "FakeYahoo", ticker: str) -> None:
            self.yahoo = yahoo
            self.ticker = ticker

        def history(self, **kwargs) -> pd.DataFrame:
            self.yahoo.calls.append((self.ticker, kwargs))
            self.yahoo.times.append(time.monotonic())
            queue = self.yahoo.responses.get(self.ticker) or [yahoo_empty_frame()]
            response = queue.pop(0) if len(queue) > 1 else queue[0]
            if isinstance(response, BaseException):
                raise response
            return response.copy()


@pytest.fixture
def short_history() -> tuple[date, date]:
    """A short real history for fast training: 2011-06-01 to 2013-03-01 (~440 sessions)."""
    return date(2011, 6, 1), date(2013, 3, 1)


SMALL_SPEC_ARGS = {"window": 20, "horizons": 3, "holdout": 40, "min_fit_origins": 50}
# CLI options of a small, fast run on a short real history
SMALL_RUN_OPTIONS = ["--epochs", "1", "--window", "20", "--horizons", "3", "--start", "2011-06-01"]


@pytest.fixture(scope="session")
def small_spec():
    """Short windows and holdout, so that the real pipeline trains in seconds."""
    from tickercast.data.windows import WindowSpec

    return WindowSpec(**SMALL_SPEC_ARGS)


@pytest.fixture(scope="session")
def small_config():
    from tickercast.models.network_config import ModelConfig

    return ModelConfig(epochs=2, units=8)


@pytest.fixture(scope="session")
def fitted_aapl(sample_aapl, small_spec, small_config):
    """Real AAPL from 2011-06 (its `History`; the frame is `history.prices`), every
    candidate fitted as of 2013-03-01."""
    from tickercast.data.history import History
    from tickercast.data.windows import select_history
    from tickercast.models.fitting import fit_candidates

    history = History.of(select_history(sample_aapl, "AAPL", date(2011, 6, 1), None, "XNYS"))
    return history, fit_candidates(history, "AAPL", small_spec, small_config)


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
