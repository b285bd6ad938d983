"""Ticker symbols: validation before a symbol is ever used in a path or a key."""

import csv
import re
from pathlib import Path

from tickercast.errors import InputError, InvalidTickerError

# Yahoo symbols: AAPL, BRK-B, BRK.B, ^GSPC, EURUSD=X, GC=F, 7203.T, BTC-USD.
_TICKER = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,19}$")


def normalize_ticker(raw: str) -> str:
    """Validate a ticker symbol and return it upper-cased.

    Args:
        raw: the symbol as the user or a universe file gave it.

    Returns:
        The upper-cased symbol, safe to use in paths and artifact keys.

    Raises:
        InvalidTickerError: for empty strings, inner spaces, path separators, `..`
            and any character Yahoo symbols do not use. Surrounding spaces are trimmed.
    """
    if not isinstance(raw, str):
        raise InvalidTickerError(f"not a ticker: {raw!r} (expected a string)")
    symbol = raw.strip().upper()
    if not _TICKER.fullmatch(symbol) or ".." in symbol:
        raise InvalidTickerError(
            f"not a ticker: {raw!r} (letters, digits and . - = ^ only, at most 20 characters)"
        )
    return symbol


def read_universe(path: Path | str) -> list[str]:
    """The tickers of a universe file, normalized, in file order, without repeats.

    Either one ticker per line (blank lines and `#` comments skipped), or a CSV file
    with a header whose `ticker` or `symbol` column (any case) lists them; a CSV
    without either takes its first column.

    Args:
        path: the file.

    Returns:
        The tickers.

    Raises:
        InputError: the file is missing, unreadable or lists no ticker, or a line
            is not a ticker (the error names the file and the line).
    """
    path = Path(path).expanduser()
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"universe {path}: cannot read it: {error}") from error
    numbered = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if numbered and "," in numbered[0][1]:
        numbered = _csv_column(path, numbered)
    tickers = []
    for number, text in numbered:
        entry = text.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            ticker = normalize_ticker(entry)
        except InvalidTickerError as error:
            raise InvalidTickerError(f"universe {path}, line {number}: {error}") from None
        if ticker not in tickers:
            tickers.append(ticker)
    if not tickers:
        raise InputError(f"universe {path}: lists no ticker")
    return tickers


def _csv_column(path: Path, numbered: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """`(line number, cell)` of the ticker column of a CSV universe's data lines."""
    rows = list(csv.reader(line for _, line in numbered))
    header = [name.strip().lower() for name in rows[0]]
    column = next((header.index(name) for name in ("ticker", "symbol") if name in header), 0)
    cells = []
    for (number, _), row in zip(numbered[1:], rows[1:], strict=True):
        if column >= len(row):
            raise InputError(f"universe {path}, line {number}: no {header[column]!r} cell")
        cells.append((number, row[column]))
    return cells


def ticker_slug(ticker: str) -> str:
    """Lower-case key for Prefect artifacts: `BRK.B` -> `brk-b`, `^GSPC` -> `gspc`.

    Args:
        ticker: a symbol already checked by `normalize_ticker`.

    Returns:
        Lower-case letters, digits and dashes only.
    """
    return re.sub(r"[^a-z0-9]+", "-", ticker.lower()).strip("-")


# The alias of the registered model version that the gate last promoted.
CHAMPION_ALIAS = "champion"


def registered_model_name(ticker: str) -> str:
    """MLflow registered model name for a ticker: `tickercast-AAPL`, `tickercast-EURUSD_X`.

    Args:
        ticker: a symbol already checked by `normalize_ticker`.

    Returns:
        The name, with characters outside letters, digits, `.`, `-` and `_` replaced by `_`.
    """
    return "tickercast-" + re.sub(r"[^A-Za-z0-9._-]", "_", ticker)
