"""Daily price frames: one canonical schema, and normalization from any source's layout.

Every source's frame goes through `normalize_prices` (columns, types, parse errors)
and then `tickercast.data.quality.clean_prices` (validation) before it is stored, so the
store and the windows only ever see the canonical columns, one row per session,
sorted, with positive closes.
"""

import hashlib
import re
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from tickercast.errors import NoPricesError, PriceDataError

PRICE_SCHEMA = pa.schema(
    [
        pa.field("session", pa.date32(), nullable=False),
        pa.field("open", pa.float64()),
        pa.field("high", pa.float64()),
        pa.field("low", pa.float64()),
        pa.field("close", pa.float64(), nullable=False),
        pa.field("adjusted_close", pa.float64(), nullable=False),
        pa.field("volume", pa.int64()),
        pa.field("dividend", pa.float64()),
        pa.field("split_ratio", pa.float64()),
    ]
)
PRICE_COLUMNS = PRICE_SCHEMA.names

# Header spellings of Yahoo/yfinance, Alpha Vantage, Quandl/bokeh and plain files,
# compared after lower-casing and turning spaces and dashes into underscores.
_ALIASES = {
    "date": "session",
    "datetime": "session",
    "timestamp": "session",
    "session": "session",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "adj_close": "adjusted_close",
    "adjclose": "adjusted_close",
    "adjusted_close": "adjusted_close",
    "volume": "volume",
    "dividends": "dividend",
    "dividend": "dividend",
    "dividend_amount": "dividend",
    "stock_splits": "split_ratio",
    "split_coefficient": "split_ratio",
    "split_ratio": "split_ratio",
}
_ISO_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")
_MAX_LISTED = 10


def _listing(labels: list) -> str:
    shown = ", ".join(str(label) for label in labels[:_MAX_LISTED])
    more = len(labels) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _single_ticker_columns(frame: pd.DataFrame, ticker: str, origin: str) -> pd.DataFrame:
    """Flatten yf.download's (Price, Ticker) MultiIndex columns to one ticker's prices."""
    if frame.columns.nlevels == 1:
        return frame
    names = list(frame.columns.names)
    level = names.index("Ticker") if "Ticker" in names else frame.columns.nlevels - 1
    symbols = frame.columns.get_level_values(level)
    if ticker not in set(symbols):
        raise NoPricesError(ticker, origin, f"columns hold tickers {sorted(set(symbols))}")
    return frame.xs(ticker, axis=1, level=level)


def _canonical(column: object) -> str | None:
    """The canonical name of a header (`Adj Close` -> `adjusted_close`), or None."""
    return _ALIASES.get(re.sub(r"[\s\-]+", "_", str(column).strip().lower()))


def check_columns(columns: list, ticker: str, origin: str) -> None:
    """Refuse a header without a date or a close column, naming the file's own columns.

    Args:
        columns: the header as the file or frame has it.
        ticker: the symbol, for the message.
        origin: the file or source, for the message.

    Raises:
        PriceDataError: no date column, or no close column.
    """
    found = {_canonical(column) for column in columns}
    for required, names in (
        ("session", "Date, Datetime, Timestamp or Session"),
        ("close", "Close"),
    ):
        if required not in found:
            what = "date" if required == "session" else "close"
            raise PriceDataError(
                f"{ticker}: {origin}: no {what} column: its columns are "
                f"{_listing([str(column) for column in columns]) or 'none'}; a {what} column "
                f"is headed {names} (any case)"
            )


def _dates_as_column(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with dates held in its index (yfinance's `Date`) as a column."""
    if "session" not in map(str.lower, map(str, frame.columns)) and (
        isinstance(frame.index, pd.DatetimeIndex) or frame.index.name is not None
    ):
        return frame.reset_index()
    return frame


def _rename_columns(frame: pd.DataFrame) -> pd.DataFrame:
    renamed = {}
    for column in frame.columns:
        name = _canonical(column)
        if name is not None and name not in renamed.values():
            renamed[column] = name
    return frame[list(renamed)].rename(columns=renamed)


def _parse_sessions(raw: pd.Series) -> pd.Series:
    """Session dates as naive midnight timestamps, NaT where unparseable.

    Timezone-aware stamps keep their local calendar day (a yfinance bar at
    00:00 America/New_York is that day's session, whatever UTC says).
    """
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_localize(None).dt.normalize()
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.normalize()
    text = raw.astype("string")
    iso_day = text.str.extract(_ISO_DAY, expand=False)
    parsed = pd.to_datetime(iso_day, format="%Y-%m-%d", errors="coerce")
    fallback = parsed.isna() & text.notna()
    if fallback.any():
        parsed[fallback] = (
            pd.to_datetime(text[fallback], errors="coerce", utc=True)
            .dt.tz_localize(None)
            .dt.normalize()
        )
    return parsed.astype("datetime64[ns]")


def _where(rows: pd.Index, line_offset: int | None) -> str:
    if line_offset is None:
        return "rows " + _listing(list(rows))
    return "lines " + _listing([row + line_offset for row in rows])


def normalize_prices(
    frame: pd.DataFrame, ticker: str, origin: str, line_offset: int | None = None
) -> pd.DataFrame:
    """Turn a source's frame into the canonical price frame, or say exactly what is wrong.

    Args:
        frame: daily bars with at least a date and a close, as columns or as the index;
            headers are matched case-insensitively (`Date`, `timestamp`, `Adj Close`,
            `adjusted_close`, ...); yf.download's `(Price, Ticker)` columns are accepted.
        ticker: the symbol, for messages and to pick the MultiIndex column.
        origin: the source or file, named in every error.
        line_offset: for files, the line number of the frame's first row (2 for a CSV
            with a header), so that errors name file lines; None names row positions.

    Returns:
        A frame with `PRICE_COLUMNS`, in the source's row order (repeated, empty or
        out-of-order rows are `tickercast.data.quality`'s to judge). `adjusted_close`
        equals `close` when the source has no adjusted column; `split_ratio` is 1.0
        and `dividend` 0.0 on days without an action.

    Raises:
        NoPricesError: the frame has no rows.
        PriceDataError: no date or close column, unparseable dates or numbers. The
            message names the file or source, and the lines.
    """
    if frame is None or frame.empty:
        raise NoPricesError(ticker, origin, "empty result")
    frame = _dates_as_column(_single_ticker_columns(frame, ticker, origin))
    check_columns(list(frame.columns), ticker, origin)
    frame = _rename_columns(frame).reset_index(drop=True)
    if frame.dropna(how="all", subset=[c for c in frame.columns if c != "session"]).empty:
        raise NoPricesError(ticker, origin, "no rows with prices")

    sessions = _parse_sessions(frame["session"])
    bad_dates = sessions.index[sessions.isna()]
    if len(bad_dates):
        raise PriceDataError(
            f"{ticker}: {origin}: unparseable dates at {_where(bad_dates, line_offset)} "
            f"(e.g. {frame['session'].iloc[bad_dates[0]]!r})"
        )

    prices = pd.DataFrame({"session": sessions})
    for column in (
        "open",
        "high",
        "low",
        "close",
        "adjusted_close",
        "volume",
        "dividend",
        "split_ratio",
    ):
        if column not in frame.columns:
            continue
        raw = frame[column]
        numbers = pd.to_numeric(raw.replace({"null": np.nan, "": np.nan}), errors="coerce")
        garbled = numbers.index[numbers.isna() & raw.notna() & ~raw.isin(["null", ""])]
        if len(garbled):
            raise PriceDataError(
                f"{ticker}: {origin}: non-numeric {column} at {_where(garbled, line_offset)} "
                f"(e.g. {raw.iloc[garbled[0]]!r})"
            )
        prices[column] = numbers.astype("float64")
    if "adjusted_close" not in prices.columns:
        prices["adjusted_close"] = prices["close"]
    prices["dividend"] = prices.get("dividend", pd.Series(0.0, index=prices.index)).fillna(0.0)
    # yfinance writes 0 for "no split", Alpha Vantage 1.0; the store uses the ratio, 1.0.
    split = prices.get("split_ratio", pd.Series(1.0, index=prices.index)).fillna(0.0)
    prices["split_ratio"] = split.where(split != 0.0, 1.0)
    prices["volume"] = (
        prices.get("volume", pd.Series(np.nan, index=prices.index)).round().astype("Int64")
    )
    for column in ("open", "high", "low"):
        if column not in prices.columns:
            prices[column] = np.nan

    return prices[PRICE_COLUMNS]


def clip_sessions(prices: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    """Rows with `start <= session <= end` (either bound may be None)."""
    keep = pd.Series(True, index=prices.index)
    if start is not None:
        keep &= prices["session"] >= pd.Timestamp(start)
    if end is not None:
        keep &= prices["session"] <= pd.Timestamp(end)
    return prices.loc[keep].reset_index(drop=True)


def prices_sha256(prices: pd.DataFrame) -> str:
    """SHA-256 of the sessions and adjusted closes: the exact series a model is trained on.

    Args:
        prices: a canonical price frame.

    Returns:
        Hex digest; equal frames give equal digests on any machine.
    """
    digest = hashlib.sha256()
    digest.update(prices["session"].to_numpy("datetime64[D]").astype("<i8").tobytes())
    digest.update(prices["adjusted_close"].to_numpy("<f8").tobytes())
    return digest.hexdigest()
