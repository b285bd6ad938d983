from datetime import date

import mlflow
import numpy as np
import pytest

from tickercast.models.prediction import BOUND_COLUMNS
from tickercast.models.saved_candidate import FORMAT_VERSION, SavedCandidate
from tickercast.tracking.runs import Record


def test_the_registered_model_takes_recent_prices_and_returns_forecasts(
    runs, registry, models, fitted_aapl
):
    history, fitted = fitted_aapl
    run_id = runs.start_run("AAPL", date(2013, 3, 1), Record())
    saved = SavedCandidate(fitted.candidates["lstm"])
    model_id = models.log_model(run_id, saved, history.prices, {}, {})
    version = registry.register(run_id, "AAPL", model_id, "why it was registered", {"as_of": "x"})
    info = mlflow.models.get_model_info(f"models:/tickercast-AAPL/{version}")
    assert [c["name"] for c in info.signature.inputs.to_dict()][:2] == ["session", "adjusted_close"]
    model = mlflow.pyfunc.load_model(f"models:/tickercast-AAPL/{version}")
    recent = (
        history.prices[["session", "adjusted_close", "close", "volume", "open", "high", "low"]]
        .tail(30)
        .copy()
    )
    recent["session"] = recent["session"].dt.strftime("%Y-%m-%d")
    recent["volume"] = recent["volume"].astype("float64")
    columns = ["as_of", "horizon", "last_close", "forecast", *BOUND_COLUMNS]
    assert [c["name"] for c in info.signature.outputs.to_dict()] == columns
    assert info.metadata["tickercast_format_version"] == FORMAT_VERSION
    forecast = model.predict(recent)
    assert forecast.columns.tolist() == columns
    assert forecast["horizon"].tolist() == [1, 2, 3]
    assert (forecast["lower_95"] < forecast["forecast"]).all() and (
        forecast["forecast"] < forecast["upper_95"]
    ).all()
    # the as_of session's units: its close, not the adjusted close (AAPL's sample history
    # is adjusted for later splits, so the two differ about 7.7 times)
    last_close = recent["close"].iloc[-1]
    assert (forecast["as_of"] == "2013-03-01").all() and (
        forecast["last_close"] == last_close
    ).all()
    assert forecast["forecast"].between(0.5 * last_close, 2 * last_close).all()
    with pytest.raises(Exception, match="needs at least 21 recent sessions"):
        model.predict(recent.tail(10))


def test_every_lstm_is_a_logged_model_of_its_run_and_the_latest_before_as_of_warm_starts(
    runs, models, experiment, fitted_aapl
):
    history, fitted = fitted_aapl
    candidate = SavedCandidate(fitted.candidates["lstm"])
    assert models.latest_network("AAPL", date(2013, 3, 4)) is None
    logged = {}
    for as_of in (date(2013, 2, 27), date(2013, 2, 28)):
        run_id = runs.start_run("AAPL", as_of, Record())
        tags = {"ticker": "AAPL", "as_of": as_of.isoformat(), "full_as_of": "2013-02-25"}
        logged[as_of] = models.log_model(
            run_id, candidate, history.prices, tags, {"rmse_ratio_h1": 0.98}
        )
    run_id = runs.start_run("MSFT", date(2013, 3, 1), Record())
    msft = {"ticker": "MSFT", "as_of": "2013-03-01", "full_as_of": "2013-03-01"}
    models.log_model(run_id, candidate, history.prices, msft, {})
    model = experiment.client.get_logged_model(logged[date(2013, 2, 28)])
    assert model.source_run_id != run_id and model.tags["ticker"] == "AAPL"
    assert {m.key: m.value for m in model.metrics} == {"rmse_ratio_h1": 0.98}
    assert not experiment.client.search_registered_models()  # logged, not registered
    latest = models.latest_network("AAPL", date(2013, 3, 4))
    assert (latest.model_id, latest.as_of, latest.full_as_of) == (
        logged[date(2013, 2, 28)],
        date(2013, 2, 28),
        date(2013, 2, 25),
    )
    origins = fitted.split.holdout
    np.testing.assert_allclose(
        latest.forecaster.predict(history, origins),
        candidate.lstm.forecaster.predict(history, origins),
        rtol=1e-5,
    )
    # a replay of 2013-02-28 starts from the network before it, never a later one
    assert models.latest_network("AAPL", date(2013, 2, 28)).model_id == logged[date(2013, 2, 27)]
