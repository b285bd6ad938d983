"""The registered model's files: plain data in a versioned format, a model from code with
nothing of ours pickled, answering the published forecast, its intervals included, in its
units; models saved by earlier tickercasts (tests/fixtures/model-v1 and model-v2, see
make_model_v1.py and make_model_v2.py) still load and serve."""

import io
import json
import pickle
import pickletools
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from tickercast.data.windows import WindowSpec, split_origins
from tickercast.errors import ModelFormatError
from tickercast.evaluation.interval_gate import INCUMBENT
from tickercast.ledger.forecasts import forecast_frame
from tickercast.models.fitting import fit_candidates, recalibrated
from tickercast.models.har import RECENT_SESSIONS
from tickercast.models.network_config import ModelConfig
from tickercast.models.prediction import BOUND_COLUMNS, forecast_latest, with_intervals
from tickercast.models.saved_candidate import (
    INPUT_COLUMNS,
    STATE,
    PublishedIntervals,
    SavedCandidate,
    forecast_recent,
    load_candidate,
    recent_sessions,
    save_candidate,
)
from tickercast.models.scaling import Preprocessor
from tickercast.tracking.model_store import pyfunc_model

DATA = Path(__file__).resolve().parents[1] / "fixtures"
MODEL_V1, MODEL_V2 = DATA / "model-v1", DATA / "model-v2"
ANSWER = ["as_of", "horizon", "last_close", "forecast", *BOUND_COLUMNS]


@pytest.fixture(scope="module")
def published(fitted_aapl, small_spec):
    """The LSTM as the publish stage registers it, with the interval gate's incumbent
    (the conformalized blend of GJR and the log-HAR) frozen as of the as_of, and the
    forecast it publishes."""
    history, fitted = fitted_aapl
    lstm, incumbent = (
        recalibrated(fitted.candidates[name], history, fitted.split, small_spec)
        for name in ("lstm", INCUMBENT)
    )
    frozen = replace(incumbent, volatility=incumbent.volatility.frozen(history))
    prices = history.prices
    as_of = prices["session"].iloc[-1].date()
    saved = SavedCandidate(lstm, PublishedIntervals(INCUMBENT, as_of, frozen))
    frame, intervals = (
        forecast_frame(
            "AAPL", prices, forecast_latest(c, history, small_spec), "XNYS", name, "1", "", "", ""
        )
        for name, c in (("lstm", lstm), (INCUMBENT, incumbent))
    )
    return saved, with_intervals(frame, intervals)


@pytest.fixture(scope="module")
def saved_model(fitted_aapl, published, tmp_path_factory) -> Path:
    """A freshly saved model folder, with the arguments `ModelStore.log_model` logs."""
    history, _ = fitted_aapl
    folder = tmp_path_factory.mktemp("saved") / "model"
    mlflow.pyfunc.save_model(
        str(folder),
        **pyfunc_model(published[0], history.prices, tmp_path_factory.mktemp("candidate")),
        pip_requirements=[],
    )
    return folder


def _recent(history: pd.DataFrame, sessions: int) -> pd.DataFrame:
    """The last sessions as a client sends them: date strings, float volumes."""
    recent = history[["session", "adjusted_close", "close", "volume", "open", "high", "low"]]
    recent = recent.tail(sessions).copy()
    recent["session"] = recent["session"].dt.strftime("%Y-%m-%d")
    return recent.astype({"volume": "float64"})


FRESH_PROCESS = """
import json, sys
import mlflow
from mlflow.models import Model
from tickercast.models.saved_candidate import load_candidate

folder = sys.argv[1]
saved = load_candidate(folder + "/artifacts/candidate")
forecaster = saved.lstm.forecaster
model = mlflow.pyfunc.load_model(folder)
answer = model.predict(Model.load(folder).load_input_example(folder))
spec = forecaster.preprocessor.spec
print(json.dumps({
    "forecaster": type(forecaster).__name__,
    "interval_model": saved.interval_model,
    "spec": [spec.window, spec.horizons],
    "answer": answer.to_dict("records"),
}))
"""


@pytest.mark.parametrize(
    ("folder", "interval_model"),
    [(MODEL_V1, "lstm"), (MODEL_V2, "gjr_conformal")],
    ids=["v1", "v2"],
)
def test_a_model_saved_by_an_earlier_format_loads_and_answers_in_a_fresh_process(
    folder, interval_model
):
    """Format 1 answers with the LSTM's own intervals, format 2 with those published
    with it: each, the forecast file its tickercast published for its input example."""
    result = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["forecaster"] == "LSTMForecaster" and loaded["spec"] == [20, 3]
    assert loaded["interval_model"] == interval_model
    answer = pd.DataFrame(loaded["answer"])
    expected = pd.DataFrame(
        json.loads(folder.with_name(f"{folder.name}-forecast.json").read_text())
    )
    assert answer.columns.tolist() == ANSWER
    assert answer["as_of"].tolist() == ["2013-03-01"] * 3
    assert answer["horizon"].tolist() == [1, 2, 3]
    pd.testing.assert_frame_equal(answer, expected, rtol=1e-6)


def _pickles(folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every pickle among the files under `folder` and inside their zip archives (a
    `.keras` file is one): whatever pickletools reads from start to STOP."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        blobs = [(str(path), data)]
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                blobs += [(f"{path}!{name}", archive.read(name)) for name in archive.namelist()]
        for name, blob in blobs:
            try:
                ops = [op.name for op, _, _ in pickletools.genops(blob)]
            except Exception:  # not a pickle: pickletools stops at the first bad opcode
                continue
            if ops and ops[-1] == "STOP":
                yield name, blob


def test_a_saved_model_holds_no_pickled_object_of_ours(saved_model, tmp_path):
    spec_pickle = tmp_path / "spec.pkl"  # the scan finds what a pickled model would hold
    spec_pickle.write_bytes(pickle.dumps(WindowSpec()))
    assert [b"tickercast" in blob for _, blob in _pickles(tmp_path)] == [True]

    assert not (saved_model / "python_model.pkl").exists()
    ours = [name for name, blob in _pickles(saved_model) if b"tickercast" in blob]
    assert ours == []
    files = {p.relative_to(saved_model).as_posix() for p in saved_model.rglob("*") if p.is_file()}
    assert {"model_code.py", "artifacts/candidate/candidate.json"} <= files
    assert "artifacts/candidate/network.keras" in files
    state = json.loads((saved_model / "artifacts" / "candidate" / STATE).read_text())
    assert state["format_version"] == 3 and state["published_intervals"]["model"] == INCUMBENT
    metadata = mlflow.models.Model.load(saved_model).metadata
    assert metadata["tickercast_format_version"] == 3
    assert metadata["interval_model"] == INCUMBENT


def test_the_model_answers_the_published_forecast_in_its_units(saved_model, published, fitted_aapl):
    prices = fitted_aapl[0].prices
    _, frame = published
    model = mlflow.pyfunc.load_model(str(saved_model))
    outputs = [column["name"] for column in model.metadata.signature.outputs.to_dict()]
    assert outputs == ANSWER
    answer = model.predict(_recent(prices, 30))
    expected = frame[ANSWER].astype({"as_of": str})
    pd.testing.assert_frame_equal(answer, expected, rtol=1e-9)  # the published bounds
    # the as_of session's close, not the adjusted one (the sample is adjusted for 2014's split)
    last = prices.iloc[-1]
    assert (answer["last_close"] == last["close"]).all() and last["close"] > 7 * last[
        "adjusted_close"
    ]
    # the window's 21 sessions, and the published blend's log-HAR asks a month of ranges
    with pytest.raises(Exception, match="needs at least 23 recent sessions, got 22"):
        model.predict(_recent(prices, 22))
    # the frozen variance starts at the as_of: an input must reach it
    with pytest.raises(Exception, match="must hold that session and the one before it"):
        model.predict(_recent(prices.iloc[:-1], 30))


def test_a_candidate_round_trips_through_plain_data(published, fitted_aapl, tmp_path):
    history, fitted = fitted_aapl
    saved, _ = published
    loaded = load_candidate(save_candidate(saved, tmp_path / "candidate"))
    origins = fitted.split.holdout
    lstm = saved.lstm
    np.testing.assert_allclose(
        loaded.lstm.forecaster.predict(history, origins), lstm.forecaster.predict(history, origins)
    )
    assert loaded.lstm.intervals.quantiles.keys() == lstm.intervals.quantiles.keys()
    for level, quantiles in lstm.intervals.quantiles.items():
        np.testing.assert_array_equal(loaded.lstm.intervals.quantiles[level], quantiles)
    last = np.array([len(history) - 1])
    np.testing.assert_array_equal(
        loaded.published_intervals.candidate.forecast(history, last)[1][0.8],
        saved.published_intervals.candidate.forecast(history, last)[1][0.8],
    )


def test_a_price_target_preprocessor_round_trips_through_json(fitted_aapl):
    history, _ = fitted_aapl
    spec = WindowSpec(window=20, horizons=3, target="price", holdout=40, min_fit_origins=50)
    split = split_origins(len(history), spec, "AAPL")
    fitted = Preprocessor.fit(history, spec, split.fit)
    loaded = Preprocessor.from_dict(json.loads(json.dumps(fitted.as_dict())))
    assert loaded.spec == spec and loaded.target_scaler is None
    np.testing.assert_array_equal(
        loaded.inputs(history, split.holdout), fitted.inputs(history, split.holdout)
    )
    np.testing.assert_array_equal(
        loaded.targets(history, split.holdout), fitted.targets(history, split.holdout)
    )


def test_an_unknown_format_version_is_refused_naming_the_file_and_the_version(tmp_path):
    folder = shutil.copytree(MODEL_V2 / "artifacts" / "candidate", tmp_path / "candidate")
    state = json.loads((folder / STATE).read_text())
    (folder / STATE).write_text(json.dumps({**state, "format_version": 4}))
    with pytest.raises(ModelFormatError) as error:
        load_candidate(folder)
    assert str(folder / STATE) in str(error.value) and "format_version 4" in str(error.value)
    (folder / STATE).unlink()  # a model registered before format_version 1: state.pkl
    with pytest.raises(ModelFormatError, match="candidate.json is missing"):
        load_candidate(folder)


def test_a_short_window_model_still_asks_a_month_for_its_har(fitted_aapl):
    """Window 20 needs 21 sessions, a frozen log-HAR 23: a served model with HAR
    intervals asks the more; one without, as models saved before them, the window's."""
    history, fitted = fitted_aapl
    spec = fitted.candidates["lstm"].forecaster.preprocessor.spec
    har = fitted.candidates["har_conformal"]
    frozen = replace(har, volatility=har.volatility.frozen(history))
    as_of = history.prices["session"].iloc[-1].date()
    published = PublishedIntervals("har_conformal", as_of, frozen)
    saved = SavedCandidate(fitted.candidates["lstm"], published)
    assert spec.window + 1 < RECENT_SESSIONS == recent_sessions(saved) == 23
    assert recent_sessions(SavedCandidate(fitted.candidates["lstm"])) == spec.window + 1
    recent = history.prices[INPUT_COLUMNS]
    assert len(forecast_recent(saved, recent.tail(23))) == spec.horizons
    with pytest.raises(ValueError, match="needs at least 23 recent sessions, got 22"):
        forecast_recent(saved, recent.tail(22))


@pytest.mark.slow  # fits a small network of its own
def test_a_window_shorter_than_the_volatility_lookback_asks_for_the_lookback(fitted_aapl):
    """The LSTM's own intervals scale by the realized volatility of the last 20 returns:
    a served model of window 10 asks 21 sessions (as its logged input example holds),
    and answers from them."""
    history, _ = fitted_aapl
    spec = WindowSpec(window=10, horizons=2, holdout=40, min_fit_origins=50)
    fitted = fit_candidates(history, "AAPL", spec, ModelConfig(epochs=1, units=4))
    saved = SavedCandidate(recalibrated(fitted.candidates["lstm"], history, fitted.split, spec))
    assert recent_sessions(saved) == spec.volatility_lookback + 1 == 21
    recent = history.prices[INPUT_COLUMNS]
    assert len(forecast_recent(saved, recent.tail(21))) == spec.horizons
