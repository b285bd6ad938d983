import json
import multiprocessing
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tickercast.data.ingest import OVERLAP_SESSIONS, ingest_prices
from tickercast.data.sources import FolderSource, SampleSource
from tickercast.data.storage import Store
from tickercast.errors import NoPricesError, PriceDataError, SourceConflictError


def _write_csv(folder: Path, ticker: str, prices: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    prices.rename(columns={"session": "Date"}).to_csv(folder / f"{ticker}.csv", index=False)


def test_first_ingest_stores_the_history_and_records_it(tmp_path):
    store = Store(tmp_path)
    result, report = ingest_prices("IBM", SampleSource(), store, date(2012, 12, 31), "XNYS")
    assert result.last_session == "2012-12-31" and result.rows_added == result.sessions_stored
    assert result.wrote and not result.revision and result.fetched_start == "2000-03-01"
    assert report.last_session == "2012-12-31"
    (record,) = store.read_manifest("IBM")
    assert record == result.as_record()
    assert Path(result.quality_report).is_file()


def test_later_ingests_fetch_from_a_few_sessions_back_and_append(tmp_path, sample_aapl):
    store = Store(tmp_path)
    ingest_prices("IBM", SampleSource(), store, date(2012, 12, 31), "XNYS")
    result, _ = ingest_prices("IBM", SampleSource(), store, None, "XNYS")
    assert result.fetched_start == "2012-12-24"  # the 5 last stored sessions overlap
    assert result.rows_fetched == OVERLAP_SESSIONS + 41
    assert (result.rows_added, result.rows_changed, result.revision) == (41, 0, False)
    assert result.last_session == "2013-03-01"


def test_a_rerun_with_nothing_new_writes_nothing(tmp_path):
    store = Store(tmp_path)
    ingest_prices("IBM", SampleSource(), store, None, "XNYS")
    before = store.prices_file("IBM").stat().st_mtime_ns
    result, _ = ingest_prices("IBM", SampleSource(), store, None, "XNYS")
    assert (result.rows_added, result.rows_changed, result.wrote) == (0, 0, False)
    assert store.prices_file("IBM").stat().st_mtime_ns == before
    first, second = store.read_manifest("IBM")
    assert first["data_sha256"] == second["data_sha256"]


def test_a_revised_volume_is_updated_without_rewriting_history(tmp_path, sample_aapl):
    store, folder = Store(tmp_path / "home"), tmp_path / "files"
    _write_csv(folder, "AAPL", sample_aapl.iloc[:-1])
    ingest_prices("AAPL", FolderSource(folder), store, None, "XNYS")
    revised = sample_aapl.copy()
    revised.loc[revised.index[-2], "volume"] += 1000  # a late print
    _write_csv(folder, "AAPL", revised)
    result, _ = ingest_prices("AAPL", FolderSource(folder), store, None, "XNYS")
    assert (result.rows_added, result.rows_changed, result.revision) == (1, 1, False)
    assert store.read_prices("AAPL")["volume"].iloc[-2] == revised["volume"].iloc[-2]


def test_a_new_split_between_ingests_rewrites_the_history(tmp_path, shared_data):
    """Alpha Vantage AAPL: ingest up to 2020-08-28 as the source adjusted it then (the
    later 4:1 split not applied), then the full file after the split of 2020-08-31."""
    store, folder = Store(tmp_path / "home"), tmp_path / "files"
    full = FolderSource(shared_data / "alphavantage").fetch("AAPL", None, None)
    full = full.sort_values("session").reset_index(drop=True)
    before_split = full[full["session"] <= "2020-08-28"].copy()
    before_split["adjusted_close"] *= 4.0
    _write_csv(folder, "AAPL", before_split)
    ingest_prices("AAPL", FolderSource(folder), store, None, "XNYS")

    _write_csv(folder, "AAPL", full)
    result, _ = ingest_prices("AAPL", FolderSource(folder), store, None, "XNYS")
    assert result.revision and result.wrote
    assert result.revision_reason.startswith("stored prices changed at the source on 2020-08-2")
    assert result.fetched_start == "1999-11-01"  # the whole history, fetched again
    stored = store.read_prices("AAPL")
    pd.testing.assert_series_equal(stored["adjusted_close"], full["adjusted_close"])
    assert result.rows_changed == len(before_split)


def test_a_new_split_in_the_increment_alone_triggers_a_rewrite(tmp_path, shared_data):
    store, folder = Store(tmp_path / "home"), tmp_path / "files"
    full = FolderSource(shared_data / "alphavantage").fetch("AAPL", None, None)
    full = full.sort_values("session").reset_index(drop=True)
    _write_csv(folder, "AAPL", full[full["session"] <= "2020-08-28"])
    ingest_prices("AAPL", FolderSource(folder), store, None, "XNYS")
    _write_csv(folder, "AAPL", full[full["session"] <= "2020-09-01"])
    result, _ = ingest_prices("AAPL", FolderSource(folder), store, None, "XNYS")
    assert result.revision_reason == "new split 4:1 on 2020-08-31 rescales past adjusted prices"


def test_adjusted_close_has_no_split_jumps_while_the_raw_close_keeps_them(tmp_path, shared_data):
    store = Store(tmp_path)
    ingest_prices("AAPL", FolderSource(shared_data / "alphavantage"), store, None, "XNYS")
    stored = store.read_prices("AAPL").set_index("session")
    for split_day, ratio in (("2014-06-09", 7.0), ("2020-08-31", 4.0)):
        day = stored.index.get_loc(pd.Timestamp(split_day))
        raw_move = stored["close"].iloc[day] / stored["close"].iloc[day - 1]
        adjusted_move = stored["adjusted_close"].iloc[day] / stored["adjusted_close"].iloc[day - 1]
        assert raw_move == pytest.approx(1 / ratio, rel=0.05)
        assert adjusted_move == pytest.approx(1.0, abs=0.05)
        assert stored["split_ratio"].iloc[day] == pytest.approx(ratio, rel=1e-5)


def test_bad_input_stores_nothing_and_keeps_what_was_stored(tmp_path, sample_aapl):
    store = Store(tmp_path)
    with pytest.raises(NoPricesError, match="ZZZZ"):
        ingest_prices("ZZZZ", SampleSource(), store, None, "XNYS")
    assert not store.prices_file("ZZZZ").parent.exists() and store.read_manifest() == []
    with store.lock("AAPL"):
        store.write_prices("AAPL", sample_aapl.head(50))
    _write_csv(tmp_path / "files", "AAPL", sample_aapl.head(60).assign(close=-1.0))
    with pytest.raises(PriceDataError, match="close failing greater_than"):
        ingest_prices("AAPL", FolderSource(tmp_path / "files"), store, None, "XNYS")
    pd.testing.assert_frame_equal(store.read_prices("AAPL"), sample_aapl.head(50))
    rejected = json.loads((tmp_path / "reports" / "quality" / "AAPL" / "latest.json").read_text())
    assert (
        rejected["rejected"].startswith("AAPL: ")
        and "close failing greater_than" in rejected["rejected"]
    )
    assert store.read_manifest() == []


def _ingest_repeatedly(home: str, folder: str, times: int) -> None:
    store = Store(Path(home))
    for _ in range(times):
        source = FolderSource(Path(folder))
        ingest_prices("AAPL", source, store, None, "XNYS", replace_source=True)


def test_two_processes_ingesting_one_ticker_never_corrupt_it(tmp_path, sample_aapl):
    """Two writers whose sources disagree, each replacing the other's prices on purpose,
    force a full rewrite on every ingest."""
    home = tmp_path / "home"
    _write_csv(tmp_path / "a", "AAPL", sample_aapl)
    _write_csv(
        tmp_path / "b",
        "AAPL",
        sample_aapl.assign(adjusted_close=sample_aapl["adjusted_close"] * 1.01),
    )
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_ingest_repeatedly, args=(str(home), str(tmp_path / side), 6))
        for side in ("a", "b")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=300)
        assert writer.exitcode == 0
    store = Store(home)
    stored = store.read_prices("AAPL")
    assert len(stored) == len(sample_aapl) and stored["session"].is_unique
    ratio = stored["adjusted_close"] / sample_aapl["adjusted_close"]
    assert ratio.round(6).nunique() == 1  # one writer's version, not a mix
    manifest = store.read_manifest("AAPL")
    assert len(manifest) == 12
    assert sum(record["revision"] for record in manifest) >= 1


def test_one_source_per_ticker_unless_replaced_on_purpose(tmp_path, sample_aapl):
    """A ticker stored from the sample is refused from a folder, whatever the as_of, and
    nothing stored changes; replaced on purpose, the folder's whole history is stored as
    a revision that says so, and the sample is then the one refused."""
    store = Store(tmp_path / "home")
    ingest_prices("AAPL", SampleSource(), store, None, "XNYS")
    prices, manifest = store.prices_file("AAPL"), store.manifest_file("AAPL")
    before = (prices.read_bytes(), manifest.read_bytes())
    later = sample_aapl.tail(300).assign(adjusted_close=lambda f: f["adjusted_close"] * 1.5)
    _write_csv(tmp_path / "files", "AAPL", later)
    folder = FolderSource(tmp_path / "files")
    for as_of in (None, date(2012, 12, 31)):  # a replay too: nothing is fetched for it
        with pytest.raises(SourceConflictError) as refused:
            ingest_prices("AAPL", folder, store, as_of, "XNYS")
        assert (prices.read_bytes(), manifest.read_bytes()) == before
    assert str(refused.value).startswith(
        f"AAPL: its stored prices came from sample, not {folder.name}; a home keeps one "
        "source per ticker. Run with --source sample, or replace them on purpose: "
        f"tickercast ingest --tickers AAPL --source {folder.name} --replace-source"
    )
    result, _ = ingest_prices("AAPL", folder, store, None, "XNYS", replace_source=True)
    assert result.revision and result.sessions_stored == 300 and result.source == folder.name
    assert result.revision_reason == f"source replaced on purpose: sample -> {folder.name}"
    assert store.read_manifest("AAPL")[-1] == result.as_record()
    assert store.read_prices("AAPL")["adjusted_close"].iloc[-1] == later["adjusted_close"].iloc[-1]
    with pytest.raises(SourceConflictError, match="came from .*files, not sample"):
        ingest_prices("AAPL", SampleSource(), store, None, "XNYS")
