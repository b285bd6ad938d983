import pytest

from tickercast.errors import InvalidTickerError
from tickercast.tickers import normalize_ticker, registered_model_name, ticker_slug


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AAPL", "AAPL"),
        ("msft", "MSFT"),
        (" jpm ", "JPM"),
        ("BRK-B", "BRK-B"),
        ("BRK.B", "BRK.B"),
        ("^GSPC", "^GSPC"),
        ("EURUSD=X", "EURUSD=X"),
        ("7203.T", "7203.T"),
    ],
)
def test_accepts_yahoo_symbols(raw, expected):
    assert normalize_ticker(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["../x", "a/b", "", "   ", "AA PL", "..", "A..B", "C:\\x", "^", "A" * 21, "$AAPL", None, 42],
)
def test_rejects_what_is_not_a_ticker(raw):
    with pytest.raises(InvalidTickerError, match="not a ticker"):
        normalize_ticker(raw)


def test_artifact_keys_and_registered_names_are_sanitised():
    assert ticker_slug("AAPL") == "aapl"
    assert ticker_slug("BRK.B") == "brk-b"
    assert ticker_slug("^GSPC") == "gspc"
    assert registered_model_name("AAPL") == "tickercast-AAPL"
    assert registered_model_name("EURUSD=X") == "tickercast-EURUSD_X"
    assert registered_model_name("^GSPC") == "tickercast-_GSPC"
