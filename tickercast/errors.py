"""Errors the pipeline raises on bad input.

`InputError` marks problems with the data or the request itself: retrying cannot fix
them, so the Prefect tasks never retry on them (see `tickercast.tasks.retries`).
"""


class InputError(ValueError):
    """Bad input: an unknown ticker, a malformed file, too little history."""


class InvalidTickerError(InputError):
    """A string that is not a ticker symbol (and must never become a path)."""


class NoPricesError(InputError):
    """The source (or the store) has no rows for a ticker."""

    def __init__(self, ticker: str, source: str, detail: str = "") -> None:
        self.ticker = ticker
        self.source = source
        self.detail = detail
        suffix = f": {detail}" if detail else ""
        super().__init__(f"{ticker}: no prices from source {source!r}{suffix}")

    def __reduce__(self):  # results and states are pickled across processes
        return (type(self), (self.ticker, self.source, self.detail), self.__dict__)


class PriceDataError(InputError):
    """Rows that cannot be trusted: unparseable, a missing or non-positive close."""


class InsufficientHistoryError(InputError):
    """Too few sessions to build the window and the train / validation / test splits."""

    def __init__(self, ticker: str, needed: int, found: int, detail: str) -> None:
        self.ticker = ticker
        self.needed = needed
        self.found = found
        self.detail = detail
        super().__init__(
            f"{ticker}: too little history: needs at least {needed} sessions ({detail}), "
            f"found {found}"
        )

    def __reduce__(self):
        return (type(self), (self.ticker, self.needed, self.found, self.detail), self.__dict__)


class SourceConflictError(InputError):
    """A ticker asked of another source than the one its stored prices came from: one
    home keeps one source per ticker, or its history would mix two series."""

    def __init__(self, ticker: str, stored: str, requested: str) -> None:
        self.ticker = ticker
        self.stored = stored
        self.requested = requested
        super().__init__(
            f"{ticker}: its stored prices came from {stored}, not {requested}; a home keeps "
            f"one source per ticker. Run with --source {stored}, or replace them on purpose: "
            f"tickercast ingest --tickers {ticker} --source {requested} --replace-source "
            "(or use another TICKERCAST_HOME)"
        )

    def __reduce__(self):
        return (type(self), (self.ticker, self.stored, self.requested), self.__dict__)


class SourceUnavailableError(RuntimeError):
    """The source could not answer now: a rate limit (HTTP 429), a network error or a
    timeout, or nothing returned where it had data before. Transient, so retried."""


class TrackingUnavailableError(RuntimeError):
    """The MLflow tracking server did not answer: transient, so retried; nothing is
    published from a run that could not be tracked."""


class StoredFileError(InputError):
    """A file in the store that cannot be read (truncated, overwritten, not Parquet):
    retrying cannot fix it, and the error names it."""


class BrokenPartitionError(StoredFileError):
    """A ticker's stored prices that cannot be read, or whose data no longer matches
    the hash the manifest recorded for them (a full disk, a bad copy, bit rot, a
    deleted file). The ticker's next ingest refetches its history and rewrites them."""

    def __init__(self, ticker: str, path: str, problem: str) -> None:
        self.ticker = ticker
        self.path = path
        self.problem = problem
        super().__init__(
            f"{ticker}: stored prices {path} are broken ({problem}); the next ingest of "
            f"{ticker} refetches them from the source (`tickercast ingest --tickers {ticker}`, "
            "or `tickercast verify --repair`)"
        )

    def __reduce__(self):
        return (type(self), (self.ticker, self.path, self.problem), self.__dict__)


class ModelFormatError(ValueError):
    """Saved model files that this version of tickercast cannot read."""
