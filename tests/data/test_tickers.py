import pytest

from tickercast.data.tickers import (
    normalize_ticker,
    read_universe,
    registered_model_name,
    ticker_slug,
)
from tickercast.errors import InputError, InvalidTickerError


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


def test_a_universe_lists_one_ticker_per_line(tmp_path):
    universe = tmp_path / "watchlist.txt"
    universe.write_text("# tech\nAAPL\n msft  # Microsoft\n\nbrk.b\nAAPL\n")
    assert read_universe(universe) == ["AAPL", "MSFT", "BRK.B"]


def test_a_universe_can_be_a_csv_column(tmp_path):
    universe = tmp_path / "index.csv"
    universe.write_text("Name,Symbol,Weight\nApple,AAPL,7.1\nMicrosoft,MSFT,6.5\n")
    assert read_universe(universe) == ["AAPL", "MSFT"]
    (tmp_path / "plain.csv").write_text("code,weight\nIBM,1\nGOOG,2\n")
    assert read_universe(tmp_path / "plain.csv") == ["IBM", "GOOG"]


def test_a_bad_universe_names_the_file_and_the_line(tmp_path):
    universe = tmp_path / "watchlist.txt"
    universe.write_text("AAPL\n\nBRK B\n")
    with pytest.raises(InvalidTickerError, match=r"watchlist.txt, line 3: not a ticker: 'BRK B'"):
        read_universe(universe)
    universe.write_text("# nothing yet\n\n")
    with pytest.raises(InputError, match="watchlist.txt: lists no ticker"):
        read_universe(universe)
    with pytest.raises(InputError, match="missing.txt: cannot read it"):
        read_universe(tmp_path / "missing.txt")
    (tmp_path / "short.csv").write_text("name,ticker\nApple,AAPL\nMicrosoft\n")
    with pytest.raises(InputError, match="short.csv, line 3: no 'ticker' cell"):
        read_universe(tmp_path / "short.csv")
