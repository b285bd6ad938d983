from datetime import date

import pytest

from tickercast.errors import NoPricesError, PriceDataError
from tickercast.ingest import ingest_prices
from tickercast.sources import FolderSource, SampleSource
from tickercast.storage import Store


def test_ingest_stores_the_history_up_to_as_of(tmp_path):
    store = Store(tmp_path)
    result = ingest_prices("IBM", SampleSource(), store, date(2012, 12, 31))
    assert result.last_session == date(2012, 12, 31) and result.rows_added == result.rows_total
    again = ingest_prices("IBM", SampleSource(), store, None)
    assert again.rows_added == 41 and again.last_session == date(2013, 3, 1)


def test_bad_input_stores_nothing_and_keeps_what_was_stored(tmp_path, sample_aapl):
    store = Store(tmp_path)
    with pytest.raises(NoPricesError, match="ZZZZ"):
        ingest_prices("ZZZZ", SampleSource(), store, None)
    assert not store.prices_file("ZZZZ").parent.exists()
    store.upsert_prices("AAPL", sample_aapl.head(50))
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "AAPL.csv").write_text("Date,Close\n2013-03-01,-1\n")
    with pytest.raises(PriceDataError, match="non-positive close on 2013-03-01"):
        ingest_prices("AAPL", FolderSource(tmp_path / "files"), store, None)
    assert len(store.read_prices("AAPL")) == 50
