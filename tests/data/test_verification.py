"""Issue 14: a broken price partition is noticed on every read and repaired by the
ticker's next ingest; `tickercast verify [--repair]` checks and repairs a whole home."""

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tickercast.cli.main import main
from tickercast.data.ingest import ingest_prices
from tickercast.data.sources import FolderSource, SampleSource
from tickercast.data.storage import Store
from tickercast.errors import BrokenPartitionError, SourceUnavailableError, StoredFileError
from tickercast.flows.daily_forecast import daily_forecast

AS_OF = date(2013, 2, 25)


def _truncate(path: Path) -> bytes:
    """Cut a file in half, as a full disk or a bad copy leaves it; returns the original."""
    original = path.read_bytes()
    path.write_bytes(original[: len(original) // 2])
    return original


def _folder_with(folder: Path, prices: pd.DataFrame, *tickers: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for ticker in tickers:
        prices.rename(columns={"session": "Date"}).to_csv(folder / f"{ticker}.csv", index=False)
    return folder


def test_every_read_checks_the_partition_against_the_manifest(tmp_path):
    store = Store(tmp_path)
    result, _ = ingest_prices("IBM", SampleSource(), store, AS_OF, "XNYS")
    path = store.prices_file("IBM")
    assert len(store.read_prices("IBM")) == result.sessions_stored
    # valid Parquet, other data: what a stray copy of another version leaves
    other = store.read_prices("IBM")
    other.loc[other.index[-1], "adjusted_close"] *= 1.01
    store.write_prices("IBM", other)
    with pytest.raises(BrokenPartitionError, match=f"IBM: stored prices {path} are broken") as e:
        store.read_prices("IBM")
    assert f"that ingest {result.ingest_id} recorded" in str(e.value)
    _truncate(path)
    with pytest.raises(BrokenPartitionError, match="unreadable") as e:
        store.read_prices("IBM")
    assert "tickercast ingest --tickers IBM" in str(e.value)
    path.unlink()
    with pytest.raises(BrokenPartitionError, match="the file is missing; ingest"):
        store.read_prices("IBM")


def test_a_tickers_last_record_is_found_from_the_end_of_its_manifest(tmp_path):
    store = Store(tmp_path)
    # more than one block of the backward scan, records cut across blocks
    for number in range(600):
        store.append_manifest({"ticker": "T3", "n": number, "pad": "x" * 50})
    assert store.manifest_file("T3").stat().st_size > 2 * (1 << 14)
    assert store.last_ingest("T3") == {"ticker": "T3", "n": 599, "pad": "x" * 50}
    assert store.last_ingest("T3") == store.read_manifest("T3")[-1]
    assert store.last_ingest("T1") is None
    store.append_manifest({"ticker": "T1", "n": 0})
    assert store.last_ingest("T1") == {"ticker": "T1", "n": 0}


def test_the_next_ingest_repairs_a_broken_partition_and_says_so(tmp_path):
    store = Store(tmp_path)
    first, _ = ingest_prices("IBM", SampleSource(), store, AS_OF, "XNYS")
    _truncate(store.prices_file("IBM"))
    result, _ = ingest_prices("IBM", SampleSource(), store, AS_OF, "XNYS")
    assert result.repaired.startswith("unreadable: ")
    assert result.revision and result.revision_reason == f"repair: {result.repaired}"
    assert (result.fetched_start, result.data_sha256) == ("2000-03-01", first.data_sha256)
    assert store.read_prices("IBM")["session"].iloc[-1].date() == AS_OF
    assert store.read_manifest("IBM")[-1]["repaired"] == result.repaired
    report = json.loads(Path(result.quality_report).read_text())
    assert report["repaired"] == result.repaired
    assert result.warnings()[0].startswith("IBM: the stored prices were broken (unreadable")


def test_a_partition_the_source_cannot_supply_fails_with_the_file_and_what_to_do(
    tmp_path, sample_aapl
):
    store, folder = Store(tmp_path / "home"), _folder_with(tmp_path / "files", sample_aapl, "AAPL")
    ingest_prices("AAPL", FolderSource(folder), store, AS_OF, "XNYS")
    original = _truncate(store.prices_file("AAPL"))
    (folder / "AAPL.csv").unlink()
    with pytest.raises(StoredFileError) as error:
        ingest_prices("AAPL", FolderSource(folder), store, AS_OF, "XNYS")
    message = str(error.value)
    assert "\n" not in message and str(store.prices_file("AAPL")) in message
    assert "restore the file from a backup" in message
    # nothing was written: the broken file is as it was, for whoever restores it
    assert store.prices_file("AAPL").read_bytes() == original[: len(original) // 2]


def test_a_source_that_does_not_answer_leaves_the_repair_to_a_retry(tmp_path):
    class Down(SampleSource):
        def fetch(self, ticker, start, end):
            raise SourceUnavailableError("Yahoo: HTTP 503")

    store = Store(tmp_path)
    ingest_prices("IBM", SampleSource(), store, AS_OF, "XNYS")
    _truncate(store.prices_file("IBM"))
    with pytest.raises(SourceUnavailableError, match="broken .* did not answer .* HTTP 503"):
        ingest_prices("IBM", Down(), store, AS_OF, "XNYS")


def test_verify_finds_every_broken_file_and_repair_keeps_them_aside(
    tmp_path, sample_aapl, monkeypatch, capsys
):
    home = tmp_path / "home"
    monkeypatch.setenv("TICKERCAST_HOME", str(home))
    store = Store(home)
    folder = _folder_with(tmp_path / "files", sample_aapl, "AAPL", "MSFT")
    for ticker in ("AAPL", "MSFT"):
        ingest_prices(ticker, FolderSource(folder), store, AS_OF, "XNYS")
    assert main(["verify"]) == 0
    assert "every stored file reads as it should" in capsys.readouterr().out

    report = Path(store.read_manifest("MSFT")[-1]["quality_report"])
    _truncate(store.prices_file("AAPL"))
    with store.manifest_file("MSFT").open("a") as manifest:
        manifest.write('{"ticker": "MSFT", "rows_ad\n')  # a torn append
    _truncate(report)
    truncated = report.read_bytes()
    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN  {store.prices_file('AAPL')}: unreadable" in out
    assert f"BROKEN  {store.manifest_file('MSFT')}: lines 2 are not ingest records" in out
    assert f"BROKEN  {report}: cannot be read" in out and "3 broken files" in out

    assert main(["verify", "--repair", "--source", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "every stored file reads as it should" in out
    assert f"REPAIR  {store.prices_file('AAPL')}: refetched" in out
    assert store.read_prices("AAPL")["session"].iloc[-1].date() == date(2013, 3, 1)
    assert store.read_manifest("AAPL")[-1]["revision_reason"].startswith("repair: unreadable")
    (aside,) = store.manifest_file("MSFT").parent.glob("ingest.jsonl.bad-*")
    assert aside.read_text() == '{"ticker": "MSFT", "rows_ad\n'
    (quarantined,) = (home / "quarantine").rglob(f"{report.name}.*")
    assert quarantined.read_bytes() == truncated and not report.exists()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_truncated_partition_is_repaired_by_the_next_run_not_skipped_by_its_cache(
    settings, capsys
):
    evening = {"tickers": ["IBM"], "source": "sample", "start": date(2011, 6, 1), "as_of": AS_OF}
    small = {"epochs": 2, "window": 20, "horizons": 3}
    assert daily_forecast(return_state=True, **evening, **small).is_completed()
    store = Store(settings.home)
    _truncate(store.prices_file("IBM"))
    # status names the broken file instead of crashing, and exits 1
    assert main(["status", "--tickers", "IBM"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN:   IBM: stored prices {store.prices_file('IBM')} are broken (unreadable" in out
    # the same evening again: its ingest is not taken from the cache, it repairs
    state = daily_forecast(return_state=True, **evening, **small)
    assert state.is_completed(), state.message
    (outcome,) = state.result()
    assert outcome.result.as_of == AS_OF
    last = store.read_manifest("IBM")[-1]
    assert last["revision_reason"].startswith("repair: unreadable") and last["repaired"]
    assert main(["status", "--tickers", "IBM"]) == 0
