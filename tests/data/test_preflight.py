"""What a run is refused for before it starts: tickers its source cannot have or may not mix."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tickercast.data.calendar import calendar_for
from tickercast.data.ingest import ingest_prices
from tickercast.data.preflight import Refusal, refusals
from tickercast.data.sources import SampleSource
from tickercast.data.storage import Store
from tickercast.errors import InputError, NoPricesError, PriceDataError, SourceConflictError


def _calendar(ticker: str) -> str:
    return calendar_for(ticker, "XNYS", {})


def _files(home: Path) -> list[Path]:
    return sorted(path for path in home.rglob("*") if path.is_file()) if home.exists() else []


@pytest.fixture
def folder(tmp_path, sample_aapl) -> Path:
    """A folder of price files as Yahoo's CSV export lays them out: AAPL's real prices."""
    folder = tmp_path / "files"
    folder.mkdir()
    yahoo = sample_aapl.rename(
        columns={
            "session": "Date",
            "open": "Open",
            "high": "High",
            "low": "Low",
            "close": "Close",
            "adjusted_close": "Adj Close",
            "volume": "Volume",
        }
    )
    yahoo[["Date", "Open", "High", "Low", "Close", "Adj Close", "Volume"]].to_csv(
        folder / "AAPL.csv", index=False
    )
    return folder.resolve()  # as the source names it


@pytest.fixture
def sample_home(tmp_path) -> Store:
    """A home whose AAPL prices came from the sample (to 2013-02-28)."""
    store = Store(tmp_path / "home")
    ingest_prices("AAPL", SampleSource(), store, date(2013, 2, 28), "XNYS")
    return store


def test_a_request_every_ticker_of_which_can_run_is_not_refused(tmp_path, folder, sample_home):
    assert refusals(("AAPL", "MSFT"), "sample", Store(tmp_path / "new"), _calendar) == []
    assert refusals(("AAPL",), str(folder), Store(tmp_path / "other"), _calendar) == []
    assert refusals(("AAPL",), "sample", sample_home, _calendar) == []  # the same source


def test_a_ticker_the_sample_does_not_have_is_refused_naming_what_it_has(tmp_path):
    (refused,) = refusals(("AAPL", "NVDA"), "sample", Store(tmp_path), _calendar)
    assert refused.ticker == "NVDA" and isinstance(refused.error, NoPricesError)
    assert refused.line().startswith(
        "NVDA     FAILED before the run: NoPricesError: NVDA: no prices from source 'sample': "
        "the sample has "
    )
    shipped = refused.line().split("the sample has ")[1].split(", ")
    assert {"AAPL", "MSFT", "IBM", "GOOG"} <= set(shipped) and "NVDA" not in shipped


def test_a_ticker_stored_from_another_source_is_refused_with_how_to_replace_it(folder, sample_home):
    (refused,) = refusals(("AAPL",), str(folder), sample_home, _calendar)
    assert isinstance(refused.error, SourceConflictError)
    assert refused.line() == (
        f"AAPL     FAILED before the run: SourceConflictError: AAPL: its stored prices came "
        f"from sample, not {folder}; a home keeps one source per ticker. Run with --source "
        f"sample, or replace them on purpose: tickercast ingest --tickers AAPL --source "
        f"{folder} --replace-source (or use another TICKERCAST_HOME)"
    )
    # nor from Yahoo, the default source: refused before any request is made
    (from_yahoo,) = refusals(("AAPL",), "yfinance", sample_home, _calendar)
    assert str(from_yahoo.error).startswith(
        "AAPL: its stored prices came from sample, not yfinance;"
    )


def test_a_ticker_whose_source_is_replaced_on_purpose_is_not_refused(folder, sample_home):
    assert refusals(("AAPL",), str(folder), sample_home, _calendar, replace_source=True) == []


def test_a_folder_without_the_tickers_file_is_refused_naming_the_folder(tmp_path, folder):
    (refused,) = refusals(("AAPL", "MSFT"), str(folder), Store(tmp_path / "home"), _calendar)
    assert refused.line() == (
        f"MSFT     FAILED before the run: NoPricesError: MSFT: no prices from source "
        f"'{folder}': no MSFT.csv or MSFT.parquet there"
    )


def test_a_file_without_a_close_column_is_refused_naming_its_columns(tmp_path, folder):
    path = folder / "AAPL.csv"
    prices = pd.read_csv(path)
    prices.drop(columns=["Close", "Adj Close"]).to_csv(path, index=False)
    (refused,) = refusals(("AAPL",), str(folder), Store(tmp_path / "home"), _calendar)
    assert isinstance(refused.error, PriceDataError)
    assert str(refused.error) == (
        f"AAPL: {path}: no close column: its columns are Date, Open, High, Low, Volume; "
        "a close column is headed Close (any case)"
    )


def test_refusals_keep_the_requests_order_and_name_each_ticker_once(tmp_path, folder):
    (folder / "IBM.csv").write_text("")  # an empty file
    refused = refusals(("MSFT", "AAPL", "IBM", "GOOG"), str(folder), Store(tmp_path), _calendar)
    assert [refusal.ticker for refusal in refused] == ["MSFT", "IBM", "GOOG"]
    assert all(isinstance(refusal, Refusal) for refusal in refused)
    assert refused[1].line() == (
        f"IBM      FAILED before the run: NoPricesError: IBM: no prices from source "
        f"'{folder / 'IBM.csv'}': empty file"
    )


def test_a_preflight_writes_nothing_to_the_home(tmp_path, folder, sample_home):
    empty = Store(tmp_path / "empty")
    refusals(("AAPL", "NVDA"), "sample", empty, _calendar)
    assert not empty.home.exists()
    before = {path: path.read_bytes() for path in _files(sample_home.home)}
    refusals(("AAPL",), str(folder), sample_home, _calendar)
    refusals(("AAPL",), str(folder), sample_home, _calendar, replace_source=True)
    assert {path: path.read_bytes() for path in _files(sample_home.home)} == before


def test_an_unknown_source_is_an_error_of_the_request_not_a_refusal_per_ticker(tmp_path):
    with pytest.raises(InputError, match="unknown source '/no/such/folder': use yfinance, sample"):
        refusals(("AAPL", "MSFT"), "/no/such/folder", Store(tmp_path), _calendar)
