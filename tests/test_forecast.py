from datetime import date

import keras
import pytest

from tickercast.forecast import Published, forecast_frame, forecast_markdown, forecast_next_session
from tickercast.model import TrainedModel
from tickercast.prices import clip_sessions
from tickercast.storage import FORECAST_SCHEMA
from tickercast.windows import WindowSpec, build_windows


def _persistence(window: int) -> TrainedModel:
    inputs = keras.Input(shape=(window, 1))
    network = keras.Model(inputs, keras.layers.Lambda(lambda x: x[:, -1, :])(inputs))
    return TrainedModel(network, {"loss": [], "val_loss": []}, 0, 0.0)


def test_the_forecast_targets_the_next_session_in_the_as_of_price_units(sample_aapl):
    # The sample's adjusted close is in today's split-adjusted units (~ close / 28 for
    # AAPL in 2012); the forecast is reported in the as_of session's own units.
    history = clip_sessions(sample_aapl, date(2011, 6, 1), date(2012, 12, 28))
    windows = build_windows(history, "AAPL", WindowSpec(window=20))
    forecast = forecast_next_session(windows, _persistence(20), "XNYS")
    assert forecast.as_of == date(2012, 12, 28)
    assert forecast.target_date == date(2012, 12, 31)
    assert forecast.last_close == history["close"].iloc[-1]
    assert forecast.forecast == pytest.approx(forecast.last_close, rel=1e-5)  # persistence


def test_forecast_frame_has_the_published_columns(sample_aapl):
    windows = build_windows(
        clip_sessions(sample_aapl, date(2011, 6, 1), None), "AAPL", WindowSpec(window=20)
    )
    forecast = forecast_next_session(windows, _persistence(20), "XNYS")
    frame = forecast_frame(forecast, "lstm", "4", "run123", windows.data_sha256)
    assert list(frame.columns) == FORECAST_SCHEMA.names
    row = frame.iloc[0]
    assert (row["ticker"], row["as_of"], row["target_date"], row["horizon"]) == (
        "AAPL",
        date(2013, 3, 1),
        date(2013, 3, 4),
        1,
    )
    assert row["lower"] is None and row["upper"] is None
    assert (row["model_version"], row["mlflow_run_id"], row["data_sha256"]) == (
        "4",
        "run123",
        windows.data_sha256,
    )


def test_markdown_report_says_whether_the_model_beats_naive():
    published = Published(
        "AAPL",
        date(2013, 3, 1),
        date(2013, 3, 4),
        430.47,
        431.2,
        1.3,
        "2",
        "run1",
        "http://127.0.0.1:5000/#/experiments/1/runs/run1",
        "/f.parquet",
    )
    metrics = {"rmse_ratio": 1.3, "test_rmse": 13.0, "naive_rmse": 10.0}
    text = forecast_markdown(published, metrics)
    assert "does **not** beat the naive forecast" in text
    assert "| `test_rmse` | 13.0000 |" in text
    assert "http://127.0.0.1:5000/#/experiments/1/runs/run1" in text
    assert "beats the naive" in forecast_markdown(published, {**metrics, "rmse_ratio": 0.9})
