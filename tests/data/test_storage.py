import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tickercast.data.prices import PRICE_SCHEMA
from tickercast.data.storage import FORECAST_SCHEMA, Store, atomic_write
from tickercast.errors import InputError, NoPricesError


def test_prices_are_a_hive_partition_with_the_explicit_schema(tmp_path, sample_aapl):
    store = Store(tmp_path)
    with store.lock("AAPL"):
        store.write_prices("AAPL", sample_aapl.head(100))
    path = tmp_path / "prices" / "ticker=AAPL" / "prices.parquet"
    assert pq.read_schema(path).remove_metadata() == PRICE_SCHEMA
    table = ds.dataset(tmp_path / "prices", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 100 and set(table.column("ticker").to_pylist()) == {"AAPL"}
    pd.testing.assert_frame_equal(store.read_prices("AAPL"), sample_aapl.head(100))


def test_duckdb_and_pyarrow_read_the_same_rows(tmp_path, sample_aapl):
    store = Store(tmp_path)
    msft = sample_aapl.head(50).assign(close=lambda f: f["close"] * 2)
    store.write_prices("AAPL", sample_aapl)
    store.write_prices("MSFT", msft)
    columns = "ticker, session, close, adjusted_close, volume, split_ratio"
    by_duckdb = duckdb.sql(
        f"SELECT {columns} FROM read_parquet('{tmp_path}/prices/*/*.parquet', "
        "hive_partitioning = true) ORDER BY ticker, session"
    ).df()
    by_arrow = (
        ds.dataset(tmp_path / "prices", format="parquet", partitioning="hive")
        .to_table()
        .to_pandas()[columns.split(", ")]
        .sort_values(["ticker", "session"])
        .reset_index(drop=True)
    )
    assert len(by_duckdb) == len(sample_aapl) + 50
    pd.testing.assert_frame_equal(
        by_duckdb.astype({"session": "datetime64[ns]", "volume": "int64"}),
        by_arrow.astype({"session": "datetime64[ns]", "volume": "int64"}),
        check_dtype=False,
    )


def test_a_failed_write_leaves_the_previous_file_intact(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl.head(100))
    path = store.prices_file("AAPL")

    def crash_midway(temporary):
        temporary.write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, crash_midway)
    assert len(store.read_prices("AAPL")) == 100
    assert [p.name for p in path.parent.iterdir()] == ["prices.parquet"]


def test_a_writer_killed_mid_write_leaves_the_previous_version_readable(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl.head(100))
    writer = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from tickercast.data.storage import Store, atomic_write
        store = Store(Path({str(tmp_path)!r}))

        def slow(temporary):
            temporary.write_bytes(b"PAR1 a third of a file")
            time.sleep(60)

        with store.lock("AAPL"):
            atomic_write(store.prices_file("AAPL"), slow)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", writer])
    folder = store.prices_file("AAPL").parent
    deadline = time.monotonic() + 60
    while not list(folder.glob(".prices.parquet.*.tmp")):
        assert time.monotonic() < deadline and child.poll() is None, "the writer never started"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    assert len(store.read_prices("AAPL")) == 100
    table = ds.dataset(tmp_path / "prices", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 100  # dataset readers skip the dot-named temporary file
    with store.lock("AAPL"):  # the dead writer's lock died with it
        store.write_prices("AAPL", sample_aapl.head(120))
    assert [p.name for p in folder.iterdir()] == ["prices.parquet"]  # its leftover is gone
    assert len(store.read_prices("AAPL")) == 120


def test_read_prices_clips_and_says_when_nothing_is_stored(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    assert len(store.read_prices("AAPL", date(2013, 2, 1), date(2013, 2, 28))) == 19
    assert not store.has_prices("MSFT")
    with pytest.raises(NoPricesError, match="MSFT: .*nothing stored at .*ticker=MSFT"):
        store.read_prices("MSFT")


def test_special_tickers_get_uri_encoded_partitions(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("^GSPC", sample_aapl.head(5))
    assert store.prices_file("^GSPC").parent.name == "ticker=%5EGSPC"
    table = ds.dataset(tmp_path / "prices", format="parquet", partitioning="hive").to_table()
    assert set(table.column("ticker").to_pylist()) == {"^GSPC"}


def test_manifest_appends_one_json_line_per_record(tmp_path):
    store = Store(tmp_path)
    store.append_manifest({"ticker": "AAPL", "rows_added": 3, "at": date(2024, 1, 2)})
    store.append_manifest({"ticker": "MSFT", "rows_added": 0})
    lines = store.manifest_file("AAPL").read_text().splitlines()
    assert [json.loads(line)["ticker"] for line in lines] == ["AAPL"]
    assert [r["ticker"] for r in store.read_manifest()] == ["AAPL", "MSFT"]
    assert store.read_manifest("AAPL") == [{"ticker": "AAPL", "rows_added": 3, "at": "2024-01-02"}]


def test_quality_reports_are_stamped_with_a_latest_copy(tmp_path):
    store = Store(tmp_path)
    path = store.write_quality_report(
        "AAPL", {"ticker": "AAPL", "findings": []}, "20240102T000000Z"
    )
    assert path == tmp_path / "reports" / "quality" / "AAPL" / "20240102T000000Z.json"
    assert json.loads((path.parent / "latest.json").read_text()) == json.loads(path.read_text())


def _forecast_row(as_of: date) -> pd.DataFrame:
    row = {
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
    return pd.DataFrame([row], columns=FORECAST_SCHEMA.names)


def test_forecasts_are_written_as_parquet_and_latest_json(tmp_path):
    store = Store(tmp_path)
    path = store.write_forecast(_forecast_row(date(2013, 3, 1)))
    assert path == tmp_path / "forecasts" / "AAPL" / "2013-03-01.parquet"
    assert pq.read_schema(path).remove_metadata() == FORECAST_SCHEMA
    latest = json.loads((tmp_path / "forecasts" / "AAPL" / "latest.json").read_text())
    assert latest[0]["as_of"] == "2013-03-01" and latest[0]["lower_95"] is None
    assert store.read_latest_forecast("AAPL") == latest
    store.write_forecast(_forecast_row(date(2012, 12, 31)))  # a replay of an earlier day
    assert (tmp_path / "forecasts" / "AAPL" / "2012-12-31.parquet").is_file()
    assert store.read_latest_forecast("AAPL")[0]["as_of"] == "2013-03-01"
    assert store.published_tickers() == ["AAPL"]
    with pytest.raises(InputError, match="MSFT: no forecast published"):
        store.read_latest_forecast("MSFT")
