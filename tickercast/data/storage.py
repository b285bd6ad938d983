"""The one place that builds paths under `TICKERCAST_HOME` and reads and writes files.

Layout::

    $TICKERCAST_HOME/
      prices/ticker=AAPL/prices.parquet     hive-partitioned by ticker, one row per session
      forecasts/AAPL/2022-12-30.parquet      one file per as_of
      forecasts/AAPL/latest.json
      ledger/ticker=AAPL/<as_of>_<published_at>.parquet   every forecast published, and its shadows
      scores/ticker=AAPL/scores.parquet      official ledger forecasts, scored once closed
      reports/track/AAPL/latest.json         the live track record as of the latest session scored
      manifest/ticker=AAPL/ingest.jsonl      one record per ingest of the ticker
      layout.json                            the layout's version (`home_layout`)
      reports/quality/AAPL/<stamp>.json      data-quality report of each ingest, and latest.json
      mlflow.db, mlartifacts/                the local MLflow store (when no server is set)
      locks/                                 one lock file per ticker, one for the manifest
      fits/<model>/<digest>.json             volatility fits, one per fitted window

Every write goes to a temporary file in the target's folder (named with a leading
dot, which pyarrow and DuckDB dataset readers skip) and is moved into place with
`os.replace`, so a reader sees the old file or the new one, never half of one.
"""

import errno
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tickercast.data.prices import PRICE_COLUMNS, PRICE_SCHEMA, clip_sessions, prices_sha256
from tickercast.errors import BrokenPartitionError, InputError, NoPricesError, StoredFileError

FORECAST_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("target_date", pa.date32(), nullable=False),
        pa.field("horizon", pa.int32(), nullable=False),
        pa.field("last_close", pa.float64(), nullable=False),
        pa.field("forecast", pa.float64(), nullable=False),
        pa.field("lower_80", pa.float64()),
        pa.field("upper_80", pa.float64()),
        pa.field("lower_95", pa.float64()),
        pa.field("upper_95", pa.float64()),
        pa.field("model", pa.string(), nullable=False),
        pa.field("model_version", pa.string()),
        pa.field("reason", pa.string()),
        # whose intervals these are, and why (null in files written before they were chosen apart)
        pa.field("interval_model", pa.string()),
        pa.field("interval_reason", pa.string()),
        pa.field("mlflow_run_id", pa.string()),
        pa.field("data_sha256", pa.string(), nullable=False),
    ]
)

# A ledger row: a forecast row as published (or as a shadow candidate would have
# published it), and when. Rows are never rewritten: each publication is a new file.
LEDGER_SCHEMA = pa.schema(
    [
        *FORECAST_SCHEMA,
        pa.field("published_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("shadow", pa.bool_(), nullable=False),
    ]
)
_SCORE_FLOATS = [
    "realized_close",
    "error",
    "naive_error",
    "interval_score_80",
    "interval_score_95",
    "pinball_lower_80",
    "pinball_upper_80",
    "pinball_lower_95",
    "pinball_upper_95",
]
# A scored ledger forecast; see `tickercast.ledger.scoring` for what each column means.
SCORE_SCHEMA = pa.schema(
    [
        *(LEDGER_SCHEMA.field(name) for name in ("ticker", "as_of", "target_date", "horizon")),
        *(LEDGER_SCHEMA.field(name) for name in ("model", "shadow", "published_at")),
        *(LEDGER_SCHEMA.field(name) for name in ("last_close", "forecast")),
        *(LEDGER_SCHEMA.field(name) for name in ("lower_80", "upper_80", "lower_95", "upper_95")),
        *(pa.field(name, pa.float64(), nullable=False) for name in _SCORE_FLOATS),
        pa.field("inside_80", pa.bool_()),
        pa.field("inside_95", pa.bool_()),
        # realized volatility at as_of, for coverage by volatility tercile (null in
        # scores written before it was kept)
        pa.field("origin_volatility", pa.float64()),
        pa.field("scored_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("rescored_at", pa.timestamp("us", tz="UTC")),
        pa.field("rescore_reason", pa.string()),
    ]
)


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a file so that readers never see it half-written, even after a crash.

    Args:
        path: the final path; its folder is created if needed.
        write: called with a temporary path in the same folder to write to.

    Returns:
        `path`.

    Raises:
        OSError: the write failed (a full disk: ENOSPC); it names `path`, whose
            previous version is intact, and no temporary file is left.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        _sync(temporary, os.O_RDONLY)  # the data is on disk before the name points to it
        os.replace(temporary, path)
        _sync(path.parent, os.O_RDONLY | os.O_DIRECTORY)  # and so is the new name
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno:  # e.g. a full disk: name the file
            raise OSError(error.errno, os.strerror(error.errno), str(path)) from error
        raise
    return path


def _sync(path: str | Path, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _to_table(prices: pd.DataFrame) -> pa.Table:
    frame = prices[PRICE_COLUMNS].copy()
    frame["session"] = frame["session"].dt.date
    return pa.Table.from_pandas(frame, schema=PRICE_SCHEMA, preserve_index=False)


def _from_table(table: pa.Table) -> pd.DataFrame:
    frame = table.select(PRICE_COLUMNS).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    frame["session"] = pd.to_datetime(frame["session"]).astype("datetime64[ns]")
    return frame


# The ticker locks each thread holds: a lock is reentrant within a thread (scoring
# reads the prices it holds the lock for), and threads of one process still wait for
# each other as processes do.
_held = threading.local()

# How much of a manifest's end is read at a time for its last record (a record is
# under 1 KB).
_TAIL_BLOCK = 1 << 14


class Store:
    """Paths and Parquet IO for one `TICKERCAST_HOME`."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    @property
    def prices_root(self) -> Path:
        return self.home / "prices"

    @property
    def local_tracking_db(self) -> Path:
        return self.home / "mlflow.db"

    @property
    def local_tracking_uri(self) -> str:
        return f"sqlite:///{self.local_tracking_db}"

    @property
    def local_artifact_root(self) -> Path:
        return self.home / "mlartifacts"

    @property
    def fits_folder(self) -> Path:
        """Volatility fits kept across evenings (`tickercast.models.fit_store`)."""
        return self.home / "fits"

    def manifest_file(self, ticker: str) -> Path:
        return self.home / "manifest" / f"ticker={quote(ticker, safe='')}" / "ingest.jsonl"

    def manifest_files(self) -> list[Path]:
        """Every ticker's manifest, sorted."""
        return sorted(self.home.glob("manifest/ticker=*/ingest.jsonl"))

    def prices_file(self, ticker: str) -> Path:
        # Hive partition values are URI-encoded (pyarrow decodes them): ^GSPC -> %5EGSPC.
        return self.prices_root / f"ticker={quote(ticker, safe='')}" / "prices.parquet"

    def forecast_dir(self, ticker: str) -> Path:
        return self.home / "forecasts" / ticker

    def forecast_file(self, ticker: str, as_of: date) -> Path:
        return self.forecast_dir(ticker) / f"{as_of.isoformat()}.parquet"

    def latest_forecast_file(self, ticker: str) -> Path:
        return self.forecast_dir(ticker) / "latest.json"

    @contextmanager
    def lock(self, ticker: str, shared: bool = False) -> Iterator[None]:
        """Hold the ticker's lock: one writer per partition, across processes and
        threads; `shared` for a reader, which only waits for writers. Reentrant: a
        thread already holding the ticker's lock goes on."""
        path = self.home / "locks" / f"{quote(ticker, safe='')}.lock"
        held = _held.__dict__.setdefault("paths", set())
        if path in held:
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            held.add(path)
            try:
                yield
            finally:
                held.discard(path)
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_prices(
        self, ticker: str, start: date | None = None, end: date | None = None
    ) -> pd.DataFrame:
        """A ticker's stored prices, `start <= session <= end`, verified: the file opens
        and its data is what the manifest's last record for the ticker says was stored.

        Raises:
            NoPricesError: nothing is stored for the ticker, and nothing ever was.
            BrokenPartitionError: the partition is unreadable, missing although an
                ingest stored it, or its data_sha256 differs from the manifest's.
        """
        path = self.prices_file(ticker)
        with self.lock(ticker, shared=True):
            recorded = self.last_ingest(ticker)
            if not path.is_file():
                if recorded is None:
                    raise NoPricesError(
                        ticker, "store", f"nothing stored at {path}; run ingest first"
                    )
                raise BrokenPartitionError(
                    ticker,
                    str(path),
                    f"the file is missing; ingest {recorded['ingest_id']} "
                    f"stored {recorded['sessions_stored']} sessions there",
                )
            try:
                prices = _from_table(pq.read_table(path))
            except (OSError, pa.ArrowException) as error:
                raise BrokenPartitionError(ticker, str(path), f"unreadable: {error}") from error
        if recorded is not None and (found := prices_sha256(prices)) != recorded["data_sha256"]:
            raise BrokenPartitionError(
                ticker,
                str(path),
                f"its data_sha256 {found[:12]}... is not the {recorded['data_sha256'][:12]}... "
                f"that ingest {recorded['ingest_id']} recorded at {recorded['at']}",
            )
        return clip_sessions(prices, start, end)

    def has_prices(self, ticker: str) -> bool:
        return self.prices_file(ticker).is_file()

    def write_prices(self, ticker: str, prices: pd.DataFrame) -> Path:
        """Replace the ticker's partition with `prices`; call it holding `lock(ticker)`.

        Temporary files left by a writer that was killed mid-write are removed first
        (only a lock holder writes them, so none is in use).

        Returns:
            The partition file.
        """
        path = self.prices_file(ticker)
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        table = _to_table(prices)
        return atomic_write(path, lambda temporary: pq.write_table(table, temporary))

    def append_manifest(self, record: dict) -> Path:
        """Append one ingest record to its ticker's manifest (JSON lines, one write per
        record; a write the disk cannot take whole is undone)."""
        ticker = record["ticker"]
        path = self.manifest_file(ticker)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, default=str) + "\n").encode()
        with self.lock(ticker):
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(descriptor).st_size
                try:
                    written = os.write(descriptor, line)
                    if written < len(line):  # a disk that filled up mid-line
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
                    os.fsync(descriptor)
                except OSError:
                    os.ftruncate(descriptor, size)  # no torn line: the manifest as it was
                    raise
            finally:
                os.close(descriptor)
        return path

    def last_ingest(self, ticker: str) -> dict | None:
        """The ticker's last manifest record, or None: read from the end of its file.

        Raises:
            StoredFileError: that last line is not JSON.
        """
        path = self.manifest_file(ticker)
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            tail = b""
            while end > 0 and tail.count(b"\n") < 2:  # the last line whole
                start = max(0, end - _TAIL_BLOCK)
                handle.seek(start)
                tail = handle.read(end - start) + tail
                end = start
        lines = [line for line in tail.splitlines() if line.strip()]
        return _manifest_record(lines[-1], path) if lines else None

    def read_manifest(self, ticker: str | None = None) -> list[dict]:
        """Ingest records, oldest first; only `ticker`'s when given.

        Raises:
            StoredFileError: a line that is not JSON, named by its file and number.
        """
        paths = [self.manifest_file(ticker)] if ticker is not None else self.manifest_files()
        records = [
            record
            for path in paths
            if path.is_file()
            for number, line in enumerate(path.read_bytes().splitlines(), 1)
            if (record := _manifest_record(line, path, number)) is not None
        ]
        return records if ticker is not None else sorted(records, key=lambda r: str(r.get("at")))

    def write_quality_report(self, ticker: str, report: dict, stamp: str) -> Path:
        """Write a quality report as `<stamp>.json` and `latest.json` in the ticker's folder.

        Returns:
            The stamped file's path.
        """
        text = json.dumps(report, indent=2, default=str) + "\n"
        folder = self.home / "reports" / "quality" / ticker
        atomic_write(folder / "latest.json", lambda temporary: temporary.write_text(text))
        return atomic_write(folder / f"{stamp}.json", lambda temporary: temporary.write_text(text))

    def write_forecast(self, forecast: pd.DataFrame) -> Path:
        """Write a forecast as `<as_of>.parquet`, and as `latest.json` unless a forecast
        of a later as_of is there already (a replay never hides the newest forecast).

        Returns:
            The Parquet file's path.
        """
        ticker = forecast["ticker"].iloc[0]
        as_of = forecast["as_of"].iloc[0]
        table = pa.Table.from_pandas(forecast, schema=FORECAST_SCHEMA, preserve_index=False)
        with self.lock(ticker):
            path = atomic_write(
                self.forecast_file(ticker, as_of),
                lambda temporary: pq.write_table(table, temporary),
            )
            latest = self.latest_forecast_file(ticker)
            if latest.is_file() and json.loads(latest.read_text())[0]["as_of"] > as_of.isoformat():
                return path
            rows = json.dumps(table.to_pylist(), indent=2, default=date.isoformat) + "\n"
            atomic_write(latest, lambda temporary: temporary.write_text(rows))
        return path

    def write_backtest_report(self, rows: list[dict], stamp: str) -> Path:
        """Write backtest rows as `reports/backtest/<stamp>.json` and `latest.json`.

        Returns:
            The latest.json path.
        """
        text = json.dumps(rows, indent=1, default=str) + "\n"
        folder = self.home / "reports" / "backtest"
        atomic_write(folder / f"{stamp}.json", lambda temporary: temporary.write_text(text))
        return atomic_write(folder / "latest.json", lambda temporary: temporary.write_text(text))

    def write_run_summary(self, rows: list[dict], stamp: str) -> Path:
        """Write a flow run's per-ticker outcome as `reports/runs/<stamp>.json` and
        `latest.json`; a ticker keeps its last outcome in `reports/runs/tickers.json`.

        Returns:
            The stamped file's path.
        """
        folder = self.home / "reports" / "runs"
        text = json.dumps(rows, indent=1, default=str) + "\n"
        path = atomic_write(folder / f"{stamp}.json", lambda temporary: temporary.write_text(text))
        atomic_write(folder / "latest.json", lambda temporary: temporary.write_text(text))
        with self.lock(".runs"):
            last = self.last_outcomes()
            last.update({row["ticker"]: row for row in rows})
            merged = json.dumps(last, indent=1, default=str) + "\n"
            atomic_write(folder / "tickers.json", lambda temporary: temporary.write_text(merged))
        return path

    def last_outcomes(self) -> dict[str, dict]:
        """Each ticker's outcome in the last flow run that included it."""
        path = self.home / "reports" / "runs" / "tickers.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def stored_tickers(self) -> list[str]:
        """Tickers with a price partition, sorted."""
        if not self.prices_root.is_dir():
            return []
        return sorted(
            unquote(folder.name.removeprefix("ticker="))
            for folder in self.prices_root.glob("ticker=*")
            if (folder / "prices.parquet").is_file()
        )

    def read_latest_forecast(self, ticker: str) -> list[dict]:
        """The rows of a ticker's latest published forecast.

        Raises:
            InputError: no forecast has been published for the ticker.
            StoredFileError: the file is not JSON (cut short, overwritten).
        """
        path = self.latest_forecast_file(ticker)
        if not path.is_file():
            raise InputError(f"{ticker}: no forecast published at {path}")
        return _read_json(path, "the latest forecast")

    def ledger_dir(self, ticker: str) -> Path:
        return self.home / "ledger" / f"ticker={quote(ticker, safe='')}"

    def scores_file(self, ticker: str) -> Path:
        return self.home / "scores" / f"ticker={quote(ticker, safe='')}" / "scores.parquet"

    def track_record_file(self, ticker: str) -> Path:
        return self.home / "reports" / "track" / ticker / "latest.json"

    def append_ledger(self, rows: pd.DataFrame, published_at: datetime) -> Path:
        """Add one publication's rows (`LEDGER_SCHEMA` but `published_at`) to the ledger
        as a new file: nothing already in the ledger is rewritten.

        Returns:
            The new file.
        """
        ticker, as_of = rows["ticker"].iloc[0], rows["as_of"].iloc[0]
        table = pa.Table.from_pandas(
            rows.assign(published_at=published_at)[LEDGER_SCHEMA.names],
            schema=LEDGER_SCHEMA,
            preserve_index=False,
        )
        name = f"{as_of.isoformat()}_{published_at:%Y%m%dT%H%M%S%fZ}.parquet"
        path = self.ledger_dir(ticker) / name
        with self.lock(ticker):
            if path.exists():  # two publications in one microsecond: never overwrite
                raise FileExistsError(f"{ticker}: ledger file {path} exists already")
            return atomic_write(path, lambda temporary: pq.write_table(table, temporary))

    def read_ledger(self, ticker: str) -> pd.DataFrame:
        """Every ledger row of a ticker, oldest publication first (`LEDGER_SCHEMA`).

        Raises:
            StoredFileError: a ledger file cannot be read; it is named, nothing is changed.
        """
        files = sorted(self.ledger_dir(ticker).glob("[!.]*.parquet"))
        tables = [_read_stored(path, LEDGER_SCHEMA, f"{ticker}: ledger file") for path in files]
        table = pa.concat_tables(tables) if tables else LEDGER_SCHEMA.empty_table()
        return table.to_pandas().sort_values("published_at", kind="stable", ignore_index=True)

    def read_scores(self, ticker: str) -> pd.DataFrame:
        """A ticker's scored forecasts (`SCORE_SCHEMA`), empty when none is scored.

        Raises:
            StoredFileError: the scores file cannot be read.
        """
        path = self.scores_file(ticker)
        table = (
            _read_stored(path, SCORE_SCHEMA, f"{ticker}: scores file")
            if path.is_file()
            else SCORE_SCHEMA.empty_table()
        )
        return table.to_pandas()

    def write_scores(self, ticker: str, scores: pd.DataFrame) -> Path:
        """Replace a ticker's scores; call it holding `lock(ticker)`.

        Returns:
            The scores file.
        """
        table = pa.Table.from_pandas(
            scores[SCORE_SCHEMA.names], schema=SCORE_SCHEMA, preserve_index=False
        )
        return atomic_write(
            self.scores_file(ticker), lambda temporary: pq.write_table(table, temporary)
        )

    def write_track_record(self, ticker: str, record: dict) -> dict | None:
        """Write a ticker's track record as `reports/track/<TICKER>/latest.json`, unless
        the one there is as of a later session (a replay never hides the newest).

        Returns:
            The record that was there before, read under the ticker's lock (None if none).
        """
        path = self.track_record_file(ticker)
        with self.lock(ticker):
            previous = self.read_track_record(ticker)
            if previous is None or str(previous["as_of"]) <= str(record["as_of"]):
                text = json.dumps(record, indent=1, default=str) + "\n"
                atomic_write(path, lambda temporary: temporary.write_text(text))
        return previous

    def read_track_record(self, ticker: str) -> dict | None:
        """A ticker's latest track record, if one was written.

        Raises:
            StoredFileError: the file is not JSON (cut short, overwritten).
        """
        path = self.track_record_file(ticker)
        return _read_json(path, "the track record") if path.is_file() else None

    def scored_tickers(self) -> list[str]:
        """Tickers with scored forecasts, sorted."""
        root = self.home / "scores"
        return sorted(
            unquote(folder.parent.name.removeprefix("ticker="))
            for folder in root.glob("ticker=*/scores.parquet")
        )

    def published_tickers(self) -> list[str]:
        """Tickers with a latest forecast, sorted."""
        root = self.home / "forecasts"
        return sorted(p.parent.name for p in root.glob("*/latest.json")) if root.is_dir() else []


def _manifest_record(line: bytes, path: Path, number: int | None = None) -> dict | None:
    """One manifest line's record (None for a blank line).

    Raises:
        StoredFileError: the line is not a JSON record, named by its number if known.
    """
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        where = f"line {number}" if number else "a line"
        raise StoredFileError(
            f"the manifest {path} has {where} that is not JSON ({error}): "
            "`tickercast verify --repair` sets it aside"
        ) from error
    return record


def _read_json(path: Path, what: str) -> object:
    """A stored JSON file, or an error naming it and what to do."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise StoredFileError(
            f"{what} {path} is not JSON ({error}): `tickercast verify --repair` sets it aside"
        ) from error


def _read_stored(path: Path, schema: pa.Schema, what: str) -> pa.Table:
    """A stored Parquet file in `schema`, or an error naming it and what to do."""
    try:
        return pq.read_table(path, schema=schema)
    except (OSError, pa.ArrowException) as error:
        raise StoredFileError(
            f"{what} {path} cannot be read ({error}); move it aside and run again "
            "(every other file is kept)"
        ) from error
