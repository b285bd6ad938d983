"""Price sources behind one interface: Yahoo (live), the offline sample, local files.

Each source returns canonical price frames (`tickercast.data.prices`) for sessions in
`[start, end]`, and raises `NoPricesError` rather than returning nothing.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow.parquet as pq
from pyarrow import ArrowException

from tickercast.data.calendar import session_is_final
from tickercast.data.prices import check_columns, clip_sessions, normalize_prices
from tickercast.errors import (
    InputError,
    NoPricesError,
    PriceDataError,
    SourceUnavailableError,
)


class PriceSource(Protocol):
    """Anything that can fetch a ticker's daily bars.

    `name` is what the manifest records as the source of a ticker's stored prices; a
    home keeps one source per ticker (`tickercast.data.ingest.replaced_source`).
    """

    name: str

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        """Canonical price frame for `start <= session <= end` (None: unbounded)."""
        ...

    def check(self, ticker: str) -> None:
        """Refuse, before anything is fetched, a ticker the source cannot have: what can
        be told without fetching (a folder without its file, a file without a date or a
        close column). Raises `NoPricesError` or `PriceDataError`."""
        ...


class YFinanceSource:
    """Yahoo Finance through yfinance 1.x: raw OHLC, Adj Close, dividends and splits.

    Uses `Ticker.history(auto_adjust=False, actions=True)` with yfinance's exceptions
    shown (by default it logs a network error and returns an empty frame, which would
    look like an unknown ticker). HTTP 429, network errors and timeouts become
    `SourceUnavailableError` (retried); an unknown or delisted ticker, or an empty
    frame, `NoPricesError` (never retried). A bar of a session whose close has not
    passed is live and is dropped.
    """

    name = "yfinance"

    def __init__(
        self,
        calendar: str,
        ticker_factory: Callable[[str], Any] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        before_request: Callable[[], None] = lambda: None,
    ) -> None:
        """
        Args:
            calendar: exchange calendar code, to tell live bars from final ones.
            ticker_factory: `yfinance.Ticker` (default) or a stand-in with `history`.
            clock: the time now, to tell live bars from final ones.
            before_request: called before each request to Yahoo; blocks to pace them
                (the ingest task passes a Prefect global rate limit).
        """
        import yfinance

        yfinance.config.debug.hide_exceptions = False
        self._calendar = calendar
        self._ticker_factory = ticker_factory or yfinance.Ticker
        self._clock = clock
        self._before_request = before_request

    def _history(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        from yfinance.exceptions import YFException, YFRateLimitError, YFTickerMissingError

        self._before_request()
        try:
            return self._ticker_factory(ticker).history(
                start=start.isoformat() if start else None,
                # yfinance's end is exclusive; ours is inclusive.
                end=(end + timedelta(days=1)).isoformat() if end else None,
                period=None if start else "max",
                interval="1d",
                auto_adjust=False,
                actions=True,
            )
        except YFRateLimitError as error:
            raise SourceUnavailableError(f"{ticker}: Yahoo is rate limiting (HTTP 429)") from error
        except YFTickerMissingError as error:
            raise NoPricesError(ticker, self.name, str(error)) from error
        except (YFException, OSError) as error:  # curl_cffi's errors are OSErrors
            raise SourceUnavailableError(
                f"{ticker}: Yahoo did not answer: {type(error).__name__}: {error}"
            ) from error

    def check(self, ticker: str) -> None:
        """Nothing to tell before a request: Yahoo says what it has when asked."""

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        history = self._history(ticker, start, end)
        prices = normalize_prices(history, ticker, self.name)
        now = self._clock()
        # Only bars of the last few days can still be live; older ones are final.
        recent = prices["session"] >= pd.Timestamp(now.date()) - pd.Timedelta(days=7)
        live = [
            not session_is_final(day.date(), now, self._calendar)
            for day in prices.loc[recent, "session"]
        ]
        prices = clip_sessions(prices.drop(index=prices.index[recent][live]), start, end)
        if prices.empty:
            raise NoPricesError(ticker, self.name, "no final session in the requested range")
        return prices


class SampleSource:
    """Real daily prices shipped in the `bokeh-sampledata` package, for offline runs.

    Quandl WIKI prices of AAPL, MSFT, IBM, GOOG (2000-03-01 to 2013-03-01) and FB
    (2012-05-18 on): raw OHLC and volume, with a split- and dividend-adjusted close.
    """

    name = "sample"

    def check(self, ticker: str) -> None:
        from bokeh_sampledata import stocks

        shipped = [symbol for symbol in stocks.__all__ if symbol != "data"]
        if ticker not in shipped:
            raise NoPricesError(ticker, self.name, f"the sample has {', '.join(shipped)}")

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        from bokeh_sampledata import stocks

        self.check(ticker)
        bars = getattr(stocks, ticker)
        prices = clip_sessions(normalize_prices(pd.DataFrame(bars), ticker, self.name), start, end)
        if prices.empty:
            raise NoPricesError(ticker, self.name, f"no sessions between {start} and {end}")
        return prices


class FolderSource:
    """A folder of `<TICKER>.csv` or `<TICKER>.parquet` files with a date and a close column.

    Headers are matched case-insensitively; the Yahoo layout
    `Date,Open,High,Low,Close[,Adj Close],Volume` and Alpha Vantage's
    `timestamp,...,adjusted_close,...` both work.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).expanduser().resolve()
        self.name = str(self.folder)

    def _file(self, ticker: str) -> Path:
        for suffix in (".parquet", ".csv"):
            for candidate in (ticker, ticker.lower()):
                path = self.folder / f"{candidate}{suffix}"
                if path.exists() and not path.is_dir():  # a file, or a pipe a program writes
                    return path
        raise NoPricesError(ticker, self.name, f"no {ticker}.csv or {ticker}.parquet there")

    def check(self, ticker: str) -> None:
        """The ticker's file is there, and its header has a date and a close column (a
        named pipe is only looked for: reading its header would take what it writes)."""
        path = self._file(ticker)
        if not path.is_file():
            return
        try:
            if path.suffix == ".parquet":
                columns = pq.read_schema(path).names
            else:
                columns = pd.read_csv(path, nrows=0).columns.tolist()
        except pd.errors.EmptyDataError as error:
            raise NoPricesError(ticker, str(path), "empty file") from error
        except (pd.errors.ParserError, UnicodeDecodeError, ArrowException) as error:
            raise PriceDataError(f"{ticker}: {path}: unreadable file: {error}") from error
        check_columns(columns, ticker, str(path))

    def fetch(self, ticker: str, start: date | None, end: date | None) -> pd.DataFrame:
        path = self._file(ticker)
        try:
            if path.suffix == ".parquet":
                prices = normalize_prices(pd.read_parquet(path), ticker, str(path))
            else:
                raw = pd.read_csv(path, dtype=str)
                prices = normalize_prices(raw, ticker, str(path), line_offset=2)
        except pd.errors.EmptyDataError as error:
            raise NoPricesError(ticker, str(path), "empty file") from error
        except (pd.errors.ParserError, UnicodeDecodeError, ArrowException) as error:
            raise PriceDataError(f"{ticker}: {path}: unreadable file: {error}") from error
        prices = clip_sessions(prices, start, end)
        if prices.empty:
            raise NoPricesError(ticker, str(path), f"no sessions between {start} and {end}")
        return prices


def open_source(
    spec: str, calendar: str, before_request: Callable[[], None] = lambda: None
) -> PriceSource:
    """The source a flow parameter names.

    Args:
        spec: `yfinance`, `sample`, or the path of a folder of price files.
        calendar: exchange calendar code, used by yfinance to drop live bars.
        before_request: paces requests to Yahoo (see `YFinanceSource`); local
            sources make none.

    Returns:
        The source.

    Raises:
        InputError: `spec` is neither a source name nor an existing folder.
    """
    check_source(spec)
    if spec == "yfinance":
        return YFinanceSource(calendar, before_request=before_request)
    if spec == "sample":
        return SampleSource()
    return FolderSource(Path(spec).expanduser())


def check_source(spec: str) -> None:
    """Refuse a source that names neither yfinance, the sample, nor an existing folder.

    Raises:
        InputError: naming the source.
    """
    if spec not in ("yfinance", "sample") and not Path(spec).expanduser().is_dir():
        raise InputError(f"unknown source {spec!r}: use yfinance, sample, or an existing folder")


def source_version(spec: str, ticker: str) -> str:
    """What identifies a source's current data for `ticker`, beyond the day: a local
    file's size and modification time; empty for Yahoo and the sample."""
    if spec in ("yfinance", "sample"):
        return ""
    folder = Path(spec).expanduser()
    for suffix in (".parquet", ".csv"):
        for name in (ticker, ticker.lower()):
            path = folder / f"{name}{suffix}"
            if path.is_file():
                stat = path.stat()
                return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    return ""
