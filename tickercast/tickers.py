"""Ticker symbols: validation before a symbol is ever used in a path or a key."""

import re

from tickercast.errors import InvalidTickerError

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


def ticker_slug(ticker: str) -> str:
    """Lower-case key for Prefect artifacts: `BRK.B` -> `brk-b`, `^GSPC` -> `gspc`.

    Args:
        ticker: a symbol already checked by `normalize_ticker`.

    Returns:
        Lower-case letters, digits and dashes only.
    """
    return re.sub(r"[^a-z0-9]+", "-", ticker.lower()).strip("-")


def registered_model_name(ticker: str) -> str:
    """MLflow registered model name for a ticker: `tickercast-AAPL`, `tickercast-EURUSD_X`.

    Args:
        ticker: a symbol already checked by `normalize_ticker`.

    Returns:
        The name, with characters outside letters, digits, `.`, `-` and `_` replaced by `_`.
    """
    return "tickercast-" + re.sub(r"[^A-Za-z0-9._-]", "_", ticker)
