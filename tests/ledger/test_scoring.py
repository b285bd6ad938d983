"""The forecast ledger and its scores, on real Parquet files and real prices."""

import os
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tickercast.data.calendar import sessions_after
from tickercast.data.prices import prices_sha256
from tickercast.data.sources import FolderSource
from tickercast.data.storage import FORECAST_SCHEMA, SCORE_SCHEMA, Store
from tickercast.errors import InputError, StoredFileError
from tickercast.evaluation.track_record import stored_track_record
from tickercast.ledger.scoring import score_ledger, score_ticker

T0 = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)


def _publication(
    prices: pd.DataFrame, as_of: date, forecast_move: float = 0.0, half_width: float = 0.02
) -> pd.DataFrame:
    """A forecast file's rows as of `as_of` (3 horizons), as published and as a shadow."""
    history = prices[prices["session"].dt.date <= as_of]
    last_close = float(history["close"].iloc[-1])
    forecast = last_close * (1 + forecast_move)
    rows = pd.DataFrame(
        {
            "ticker": "AAPL",
            "as_of": as_of,
            "target_date": sessions_after(as_of, 3, "XNYS"),
            "horizon": np.arange(1, 4, dtype="int32"),
            "last_close": last_close,
            "forecast": forecast,
            "lower_80": forecast * (1 - half_width),
            "upper_80": forecast * (1 + half_width),
            "lower_95": forecast * (1 - 2 * half_width),
            "upper_95": forecast * (1 + 2 * half_width),
            "model": "naive",
            "model_version": None,
            "reason": "no model beats naive",
            "interval_model": "garch",
            "interval_reason": "garch beats naive",
            "mlflow_run_id": "run",
            "data_sha256": "sha",
        }
    )[FORECAST_SCHEMA.names]
    shadow = rows.assign(model="lstm", reason="shadow", shadow=True)
    return pd.concat([rows.assign(shadow=False), shadow], ignore_index=True)


@pytest.fixture
def alphavantage_aapl(shared_data) -> pd.DataFrame:
    """Real AAPL prices with raw closes, adjusted closes, splits and dividends, to 2021-04."""
    return FolderSource(shared_data / "alphavantage").fetch("AAPL", None, None)


def test_a_split_between_as_of_and_target_is_no_error(tmp_path, alphavantage_aapl):
    # AAPL split 4:1 on 2020-08-31: the raw close fell from 499.23 to 129.04
    store = Store(tmp_path)
    store.write_prices("AAPL", alphavantage_aapl)
    store.append_ledger(_publication(alphavantage_aapl, date(2020, 8, 28)), T0)
    scoring = score_ticker(store, "AAPL", date(2020, 9, 2), T0)
    published = scoring.scores[~scoring.scores["shadow"]].set_index("horizon")
    raw = alphavantage_aapl.set_index(alphavantage_aapl["session"].dt.date)["close"]
    assert raw[date(2020, 8, 31)] < raw[date(2020, 8, 28)] / 3.5  # the split is in the data
    # the realized close in the 2020-08-28 units: the post-split close times 4
    assert published.loc[1, "realized_close"] == pytest.approx(4 * raw[date(2020, 8, 31)], rel=1e-5)
    assert abs(published.loc[1, "naive_error"]) < 0.05 * raw[date(2020, 8, 28)]
    assert published.loc[1, "inside_95"]
    assert (scoring.scored, scoring.rescored, scoring.pending) == (6, 0, 0)
    assert pq.read_schema(store.scores_file("AAPL")).remove_metadata() == SCORE_SCHEMA


def test_scores_survive_a_later_split_or_dividend(tmp_path, alphavantage_aapl):
    """A split or dividend after the target rescales every earlier adjusted close by one
    factor; the stored scores must not move, and none is recomputed."""
    store = Store(tmp_path)
    before = alphavantage_aapl[alphavantage_aapl["session"] <= "2020-06-30"].copy()
    before["adjusted_close"] *= 4.37  # history as the source gave it before the actions
    store.write_prices("AAPL", before)
    for as_of in (date(2020, 6, 1), date(2020, 6, 15), date(2020, 6, 22)):
        store.append_ledger(_publication(before, as_of, 0.01), T0)
    first = score_ticker(store, "AAPL", None, T0)
    store.write_prices("AAPL", alphavantage_aapl)  # the revised, later history
    later = T0 + timedelta(days=400)
    again = score_ticker(store, "AAPL", date(2020, 6, 30), later)
    assert first.scored == 18 and (again.scored, again.rescored) == (0, 0)
    pd.testing.assert_frame_equal(again.scores, first.scores)
    assert store.read_scores("AAPL")["rescored_at"].isna().all()


def test_a_corrected_price_recomputes_the_scores_it_touches_and_says_why(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 20)), T0)
    first = score_ticker(store, "AAPL", None, T0)
    corrected = sample_aapl.copy()
    target = corrected["session"] == "2013-02-22"  # the h=2 target
    corrected.loc[target, ["close", "adjusted_close"]] *= 1.01
    store.write_prices("AAPL", corrected)
    store.append_manifest(  # as the revising ingest records it
        {
            "ticker": "AAPL",
            "revision": True,
            "revision_reason": "close changed on 2013-02-22",
            "data_sha256": prices_sha256(corrected),
        }
    )
    later = T0 + timedelta(days=1)
    again = score_ticker(store, "AAPL", None, later)
    assert (again.scored, again.rescored) == (0, 2)  # h=2, published and shadow
    scores = store.read_scores("AAPL").set_index(["horizon", "shadow"])
    redone = scores.xs(2, level="horizon")
    assert (redone["rescore_reason"] == "close changed on 2013-02-22").all()
    assert (redone["rescored_at"] == later).all() and (redone["scored_at"] == T0).all()
    old = first.scores.set_index(["horizon", "shadow"]).xs(2, level="horizon")
    assert (redone["realized_close"] / old["realized_close"]).to_numpy() == pytest.approx(1.01)
    assert scores.loc[[1, 3], "rescored_at"].isna().all()


def test_a_replay_never_replaces_the_official_version(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 20), 0.0), T0)
    # replayed later with hindsight: a better forecast, published after the sessions closed
    replay = T0 + timedelta(days=30)
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 20), 0.02), replay)
    ledger = store.read_ledger("AAPL")
    assert len(ledger) == 12 and ledger["published_at"].nunique() == 2  # both versions kept
    scores = score_ticker(store, "AAPL", None, replay).scores
    assert len(scores) == 6 and (scores["published_at"] == T0).all()
    assert (scores["forecast"] == scores["last_close"]).all()  # the first version's forecasts


def test_a_missing_target_session_stays_unscored_and_is_reported(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl[sample_aapl["session"] != "2013-02-21"])
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 20)), T0)  # h=1: 2013-02-21
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 28)), T0)  # the data ends 03-01
    scoring = score_ticker(store, "AAPL", None, T0)
    scored = {date(2013, 2, 22), date(2013, 2, 25), date(2013, 3, 1)}
    assert set(scoring.scores["target_date"]) == scored
    assert list(scoring.missing["target_date"]) == [date(2013, 2, 21)] * 2
    assert scoring.pending == 4  # as of 2013-02-28: h=2 and h=3, published and shadow
    assert "2013-02-21" in scoring.missing_warning("AAPL")


def test_a_truncated_ledger_file_is_named_and_nothing_is_lost(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 19)), T0)
    score_ticker(store, "AAPL", None, T0)
    scores_before = store.scores_file("AAPL").read_bytes()
    broken = store.append_ledger(_publication(sample_aapl, date(2013, 2, 20)), T0 + timedelta(1))
    kept = store.append_ledger(_publication(sample_aapl, date(2013, 2, 21)), T0 + timedelta(2))
    kept_bytes = kept.read_bytes()
    broken.write_bytes(broken.read_bytes()[:100])  # what a full disk or a bad copy leaves
    with pytest.raises(StoredFileError, match=f"ledger file {broken}") as failure:
        score_ticker(store, "AAPL", None, T0 + timedelta(3))
    assert isinstance(failure.value, InputError)  # not retried: the file must be moved aside
    assert "move it aside" in str(failure.value)
    assert store.scores_file("AAPL").read_bytes() == scores_before
    assert kept.read_bytes() == kept_bytes


def _score_in_a_process(home: str) -> int:
    return score_ticker(Store(Path(home)), "AAPL", None, datetime.now(UTC)).scored


def test_two_scorers_at_once_never_write_a_score_twice(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    for day in pd.bdate_range("2012-06-01", "2013-01-31"):
        if day.date() in set(sample_aapl["session"].dt.date):
            store.append_ledger(_publication(sample_aapl, day.date()), T0)
    with ProcessPoolExecutor(2) as pool:
        counts = list(pool.map(_score_in_a_process, [str(tmp_path)] * 2))
    scores = store.read_scores("AAPL")
    assert not scores.duplicated(["as_of", "horizon", "model", "shadow"]).any()
    assert sum(counts) == len(scores) == len(store.read_ledger("AAPL"))
    assert not [p for p in store.scores_file("AAPL").parent.iterdir() if p.name.startswith(".")]


def test_scoring_again_changes_nothing(tmp_path, sample_aapl):
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 20)), T0)
    score_ticker(store, "AAPL", None, T0)
    written = os.stat(store.scores_file("AAPL")).st_mtime_ns
    again = score_ticker(store, "AAPL", None, T0 + timedelta(1))
    assert not again.changed and os.stat(store.scores_file("AAPL")).st_mtime_ns == written


def test_interval_scores_and_pinball_losses_of_a_scored_row(sample_aapl):
    rows = _publication(sample_aapl, date(2013, 2, 20), 0.0, half_width=0.001)
    ledger = rows.assign(published_at=T0).iloc[:1]
    empty = SCORE_SCHEMA.empty_table().to_pandas()
    (row,) = score_ledger(ledger, sample_aapl, empty, None, T0).scores.itertuples()
    closes = sample_aapl.set_index(sample_aapl["session"].dt.date)["close"]
    realized = closes[date(2013, 2, 21)]  # no action in between: raw ratio = adjusted ratio
    assert row.realized_close == pytest.approx(realized)
    assert realized < row.lower_95  # AAPL fell 2 % that day: outside the narrow intervals
    width, miss = row.upper_80 - row.lower_80, row.lower_80 - realized
    assert row.interval_score_80 == pytest.approx(width + 2 / 0.2 * miss)
    assert row.pinball_lower_80 == pytest.approx(0.9 * miss)
    assert row.pinball_upper_80 == pytest.approx(0.1 * (row.upper_80 - realized))
    assert not row.inside_80 and not row.inside_95
    # the 20-session realized volatility up to as_of, for coverage by volatility tercile
    adjusted = sample_aapl["adjusted_close"].to_numpy()
    position = int(np.flatnonzero(sample_aapl["session"].dt.date == date(2013, 2, 20))[0])
    returns = np.diff(np.log(adjusted[position - 20 : position + 1]))
    assert row.origin_volatility == pytest.approx(np.std(returns, ddof=1))


def test_a_ledger_file_written_before_intervals_were_chosen_apart_still_scores(
    tmp_path, sample_aapl
):
    """A home's ledger files from before `interval_model` and `interval_reason` existed
    read with those columns null, and score like today's."""
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    new = store.append_ledger(_publication(sample_aapl, date(2013, 2, 20)), T0)
    old = pq.read_table(new).drop_columns(["interval_model", "interval_reason"])
    path = new.with_name(f"2013-02-19_{T0:%Y%m%dT%H%M%S%fZ}.parquet")
    pq.write_table(
        old.set_column(1, "as_of", pa.array([date(2013, 2, 19)] * len(old), pa.date32())), path
    )
    ledger = store.read_ledger("AAPL")
    before = ledger[ledger["as_of"] == date(2013, 2, 19)]
    assert len(before) == 6 and before["interval_model"].isna().all()
    assert score_ticker(store, "AAPL", None, T0).scored == 12


def test_scores_written_before_origin_volatility_was_kept_still_read(tmp_path, sample_aapl):
    """A scores file without `origin_volatility` reads it as null; the track record's
    coverage by tercile then uses the scores that have it."""
    store = Store(tmp_path)
    store.write_prices("AAPL", sample_aapl)
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 19)), T0)
    score_ticker(store, "AAPL", None, T0)
    path = store.scores_file("AAPL")
    pq.write_table(pq.read_table(path).drop_columns(["origin_volatility"]), path)
    assert store.read_scores("AAPL")["origin_volatility"].isna().all()
    store.append_ledger(_publication(sample_aapl, date(2013, 2, 20)), T0 + timedelta(1))
    score_ticker(store, "AAPL", None, T0 + timedelta(1))
    scores = store.read_scores("AAPL")
    assert scores["origin_volatility"].notna().sum() == 6  # the new publication's
    record = stored_track_record(store, "AAPL")
    published = record.row("published", 1, None)
    assert published.forecasts == 2
    one = scores[~scores["shadow"] & (scores["horizon"] == 1) & scores["origin_volatility"].notna()]
    terciles = [published.coverage_80_low_vol, published.coverage_80_mid_vol]
    terciles.append(published.coverage_80_high_vol)
    # the one forecast that kept its volatility falls in one tercile; the others are empty
    assert [t for t in terciles if not np.isnan(t)] == [float(one["inside_80"].iloc[0])]
