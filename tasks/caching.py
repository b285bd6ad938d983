"""What makes two runs of a cached stage the same: the keys of ingest and windows.

Each key also names the class its cached result is pickled as (`IngestResult`,
`TrainingSet`, by module path): a result cached before that class moved or was renamed
is then never looked up, and the stage simply runs again, instead of failing to
unpickle a class that is no longer there.
"""

from datetime import UTC, datetime

from prefect.context import TaskRunContext

from tickercast.data.calendar import last_closed_session
from tickercast.data.ingest import IngestResult
from tickercast.data.sources import source_version
from tickercast.data.storage import Store
from tickercast.data.windows import TrainingSet
from tickercast.errors import NoPricesError, StoredFileError


def ingest_cache_key(context: TaskRunContext, parameters: dict) -> str:
    """Same ticker, source data, home and session to fetch up to, on a partition that
    is as the manifest recorded it: the same ingest. With no as_of, the session is the
    latest one closed now, so the next close makes a new key; a broken partition makes
    a key of its own, so its ingest runs and repairs it."""
    ticker, source, as_of, settings = (
        parameters[name] for name in ("ticker", "source", "as_of", "settings")
    )
    session = as_of or last_closed_session(datetime.now(UTC), settings.calendar_for(ticker))
    return "|".join(
        [
            _stored_as(IngestResult),
            ticker,
            source,
            source_version(source, ticker),
            str(session),
            str(settings.home),
            _partition_state(Store(settings.home), ticker),
        ]
    )


def _partition_state(store: Store, ticker: str) -> str:
    """`ok` when the stored prices read as the manifest recorded them (or nothing is
    stored or recorded), else what is wrong with them."""
    try:
        store.read_prices(ticker)
    except NoPricesError:
        return "ok"
    except StoredFileError as error:
        return f"broken: {error}"
    return "ok"


def windows_cache_key(context: TaskRunContext, parameters: dict) -> str:
    """The same request on the same stored prices: the partition file's size and time
    change with every write, whoever wrote it."""
    ticker, settings = parameters["ticker"], parameters["settings"]
    path = Store(settings.home).prices_file(ticker)
    stored = f"{path.stat().st_size}:{path.stat().st_mtime_ns}" if path.is_file() else "none"
    request = (
        parameters["start"],
        parameters["as_of"],
        parameters["spec"],
        settings.calendar_for(ticker),
    )
    return "|".join([_stored_as(TrainingSet), ticker, str(path), stored, repr(request)])


def _stored_as(result: type) -> str:
    """Where the cached result's class lives, as its pickle names it."""
    return f"{result.__module__}.{result.__qualname__}"
