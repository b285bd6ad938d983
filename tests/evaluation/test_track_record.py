"""The live track record, its windows and its calibration alarm, from real scores."""

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from tickercast.data.calendar import sessions_after
from tickercast.data.storage import FORECAST_SCHEMA, SCORE_SCHEMA, Store
from tickercast.evaluation.metrics import christoffersen_pvalue, coverage_by_tercile, kupiec_pvalue
from tickercast.evaluation.track_record import (
    ALARM_PVALUE,
    alarm_is_new,
    stored_track_record,
    track_record,
)
from tickercast.ledger.scoring import score_ledger

T0 = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)


def _scores(prices: pd.DataFrame, sessions: int, half_width: float) -> pd.DataFrame:
    """`sessions` daily naive forecasts (h=1) up to the data's end, published and as an
    `lstm` shadow that forecasts 0.1 % too high, scored against the real closes."""
    as_ofs = prices["session"].dt.date.to_numpy()[-sessions - 1 : -1]
    closes = prices.set_index(prices["session"].dt.date)["close"]
    rows = []
    for as_of in as_ofs:
        last_close = closes[as_of]
        for model, shadow, forecast in (("naive", False, 1.0), ("lstm", True, 1.001)):
            rows.append(
                {
                    "ticker": "AAPL",
                    "as_of": as_of,
                    "target_date": sessions_after(as_of, 1, "XNYS")[0],
                    "horizon": 1,
                    "last_close": last_close,
                    "forecast": last_close * forecast,
                    **{
                        f"{side}_{level}": last_close * (1 + sign * half_width * k)
                        for level, k in ((80, 1), (95, 2))
                        for side, sign in (("lower", -1), ("upper", 1))
                    },
                    "model": model,
                    "model_version": None,
                    "reason": "test",
                    "interval_model": model,
                    "interval_reason": "test",
                    "mlflow_run_id": "run",
                    "data_sha256": "sha",
                    "shadow": shadow,
                    "published_at": T0,
                }
            )
    ledger = pd.DataFrame(rows).astype({"horizon": "int32"})[
        [*FORECAST_SCHEMA.names, "published_at", "shadow"]
    ]
    empty = SCORE_SCHEMA.empty_table().to_pandas()
    return score_ledger(ledger, prices, empty, None, T0).scores


def test_windows_hold_the_most_recent_scored_forecasts(sample_aapl):
    scores = _scores(sample_aapl, 70, half_width=0.02)
    record = track_record("AAPL", scores, date(2013, 3, 1), live_forecasts=60)
    counts = {r.window: r.forecasts for r in record.rows if r.model == "published"}
    assert counts == {"20": 20, "60": 60, "250": 70, "all": 70}
    published = record.row("published", 1, 20)
    assert published.rmse_ratio == 1.0  # naive against itself
    last20 = scores[~scores["shadow"]].tail(20)
    assert published.coverage_80 == pytest.approx(last20["inside_80"].mean())
    assert published.kupiec_p_80 == pytest.approx(kupiec_pvalue(last20["inside_80"], 0.8))
    assert published.interval_score_80 == pytest.approx(last20["interval_score_80"].mean())
    assert published.christoffersen_p_95 == christoffersen_pvalue(last20["inside_95"])
    pinball = (last20["pinball_lower_95"] + last20["pinball_upper_95"]) / 2
    assert published.pinball_95 == pytest.approx(pinball.mean())
    by_tercile = coverage_by_tercile(last20["inside_95"], last20["origin_volatility"])
    assert published.coverage_95_high_vol == by_tercile["high_vol"]
    assert published.coverage_95_low_vol == by_tercile["low_vol"]
    lstm = record.row("lstm", 1, None)
    assert lstm.rmse_ratio != 1.0 and 0 <= lstm.dm_pvalue <= 1
    assert record.live.forecasts == 60 and record.live.model == "lstm"
    assert record.live.rmse_ratio == pytest.approx(record.row("lstm", 1, 60).rmse_ratio)
    assert len(record.recent) == 70 and record.alarm is None


def test_only_forecasts_whose_session_closed_by_as_of_count(sample_aapl):
    scores = _scores(sample_aapl, 70, half_width=0.02)
    record = track_record("AAPL", scores, date(2013, 2, 1), live_forecasts=60)
    assert record.row("published", 1, None).forecasts == int(
        (scores[~scores["shadow"]]["target_date"] <= date(2013, 2, 1)).sum()
    )


def test_intervals_too_narrow_raise_the_calibration_alarm_once(sample_aapl):
    narrow = track_record("AAPL", _scores(sample_aapl, 60, 0.002), date(2013, 3, 1), 60)
    alarm = narrow.alarm
    assert alarm is not None and alarm.kupiec_pvalue < ALARM_PVALUE
    assert (alarm.forecasts, alarm.level) == (60, 0.8) and alarm.coverage < 0.5
    assert "AAPL: calibration drift" in alarm.message() and "2013-03-01" in alarm.message()
    assert "**Alarm**" in narrow.markdown() and narrow.as_dict()["alarm"] == alarm.message()
    # notified when raised, not every day it lasts, and never by a replay behind the latest
    assert alarm_is_new(narrow, None)
    assert alarm_is_new(narrow, {"as_of": "2013-02-28", "alarm": None})
    assert not alarm_is_new(narrow, {"as_of": "2013-02-28", "alarm": "drift"})
    assert not alarm_is_new(narrow, {"as_of": "2013-03-04", "alarm": None})
    wide = track_record("AAPL", _scores(sample_aapl, 60, 0.02), date(2013, 3, 1), 60)
    assert wide.alarm is None and not alarm_is_new(wide, None)
    # fewer than 60 scored forecasts: no alarm yet, however narrow
    assert track_record("AAPL", _scores(sample_aapl, 59, 0.002), date(2013, 3, 1), 60).alarm is None


def test_the_stored_track_record_reads_the_scores_file(tmp_path, sample_aapl):
    store = Store(tmp_path)
    assert stored_track_record(store, "AAPL").rows == ()
    store.write_scores("AAPL", _scores(sample_aapl, 30, 0.02))
    record = stored_track_record(store, "AAPL", windows=(10,))
    assert record.as_of == date(2013, 3, 1)
    assert {(r.model, r.window, r.forecasts) for r in record.rows} == {
        ("published", "10", 10),
        ("lstm", "10", 10),
    }
    assert store.scored_tickers() == ["AAPL"]
    assert np.isfinite(record.as_dict()["rows"][0]["rmse_ratio"])
