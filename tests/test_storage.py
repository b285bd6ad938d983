import json
from datetime import date

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tickercast.errors import InputError, NoPricesError
from tickercast.prices import PRICE_SCHEMA
from tickercast.storage import FORECAST_SCHEMA, Store, atomic_write


def test_upsert_writes_a_hive_partition_with_the_explicit_schema(tmp_path, sample_aapl):
    store = Store(tmp_path)
    result = store.upsert_prices("AAPL", sample_aapl.head(100))
    assert (result.rows_added, result.rows_changed, result.rows_total) == (100, 0, 100)
    path = tmp_path / "prices" / "ticker=AAPL" / "prices.parquet"
    assert pq.read_schema(path).remove_metadata() == PRICE_SCHEMA
    dataset = ds.dataset(tmp_path / "prices", format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert table.num_rows == 100 and set(table.column("ticker").to_pylist()) == {"AAPL"}


def test_upsert_merges_and_counts_new_and_changed_sessions(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.upsert_prices("AAPL", sample_aapl.head(100))
    revised = sample_aapl.iloc[90:120].copy()
    revised.loc[revised.index[:3], "adjusted_close"] *= 1.5  # a revision of 3 stored sessions
    result = store.upsert_prices("AAPL", revised)
    assert (result.rows_added, result.rows_changed, result.rows_total) == (20, 3, 120)
    stored = store.read_prices("AAPL")
    assert stored["session"].is_unique and stored["session"].is_monotonic_increasing
    assert stored["adjusted_close"].iloc[90] == pytest.approx(
        sample_aapl["adjusted_close"].iloc[90] * 1.5
    )
    pd.testing.assert_frame_equal(stored.iloc[:90], sample_aapl.head(90).reset_index(drop=True))


def test_a_rerun_with_nothing_new_writes_nothing(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.upsert_prices("AAPL", sample_aapl.head(100))
    path = store.prices_file("AAPL")
    before = path.stat().st_mtime_ns
    result = store.upsert_prices("AAPL", sample_aapl.head(100))
    assert (result.rows_added, result.rows_changed) == (0, 0)
    assert path.stat().st_mtime_ns == before


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.upsert_prices("AAPL", sample_aapl.head(100))
    path = store.prices_file("AAPL")

    def crash_midway(temporary):
        temporary.write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, crash_midway)
    assert len(store.read_prices("AAPL")) == 100
    assert [p.name for p in path.parent.iterdir()] == ["prices.parquet"]


def test_read_prices_clips_and_says_when_nothing_is_stored(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.upsert_prices("AAPL", sample_aapl)
    assert len(store.read_prices("AAPL", date(2013, 2, 1), date(2013, 2, 28))) == 19
    with pytest.raises(NoPricesError, match="MSFT: .*nothing stored at .*ticker=MSFT"):
        store.read_prices("MSFT")


def test_special_tickers_get_uri_encoded_partitions(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.upsert_prices("^GSPC", sample_aapl.head(5))
    assert store.prices_file("^GSPC").parent.name == "ticker=%5EGSPC"
    table = ds.dataset(tmp_path / "prices", format="parquet", partitioning="hive").to_table()
    assert set(table.column("ticker").to_pylist()) == {"^GSPC"}


def _forecast_row(as_of: date) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "ticker": "AAPL",
                "as_of": as_of,
                "target_date": date(2013, 3, 4),
                "horizon": 1,
                "last_close": 430.47,
                "forecast": 431.0,
                "lower": None,
                "upper": None,
                "model": "lstm",
                "model_version": "3",
                "mlflow_run_id": "abc",
                "data_sha256": "f" * 64,
            }
        ],
        columns=FORECAST_SCHEMA.names,
    )


def test_forecasts_are_written_as_parquet_and_latest_json(tmp_path):
    store = Store(tmp_path)
    path = store.write_forecast(_forecast_row(date(2013, 3, 1)))
    assert path == tmp_path / "forecasts" / "AAPL" / "2013-03-01.parquet"
    assert pq.read_schema(path).remove_metadata() == FORECAST_SCHEMA
    latest = json.loads((tmp_path / "forecasts" / "AAPL" / "latest.json").read_text())
    assert latest[0]["as_of"] == "2013-03-01" and latest[0]["lower"] is None
    assert store.read_latest_forecast("AAPL") == latest
    assert store.published_tickers() == ["AAPL"]
    with pytest.raises(InputError, match="MSFT: no forecast published"):
        store.read_latest_forecast("MSFT")
