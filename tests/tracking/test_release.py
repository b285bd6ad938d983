"""Releasing a day's forecast on a real home and MLflow store: the LSTM logged, the
registry touched only when the gate asks, the chosen forecast written and every
candidate's forecast in the ledger."""

from dataclasses import replace
from datetime import UTC, datetime

import mlflow
import pandas as pd
import pytest

from tickercast.data.prices import prices_sha256
from tickercast.data.storage import Store
from tickercast.data.windows import TrainingSet
from tickercast.evaluation.champion import Choice, evaluate_candidates
from tickercast.tracking.release import release
from tickercast.tracking.runs import Record, runs_for

pytestmark = pytest.mark.slow  # the shared fit, then a LoggedModel per release


@pytest.fixture
def released(fitted_aapl, settings):
    history, fitted = fitted_aapl
    training = TrainingSet(
        "AAPL", history, fitted.spec, fitted.split, prices_sha256(history.prices)
    )
    evaluation = evaluate_candidates(history, fitted, None, margin=0.01)
    runs = runs_for(settings)

    def release_as(published: Choice):
        decision = replace(
            evaluation.decision, published=published, promote=published is Choice.LSTM
        )
        chosen = replace(evaluation, decision=decision)
        run_id = runs.start_run("AAPL", training.as_of, Record())
        at = datetime(2013, 3, 1, 23, tzinfo=UTC)
        return run_id, release(training, fitted, chosen, None, None, run_id, settings, at)

    return training, release_as


def test_a_naive_evening_logs_the_network_but_registers_nothing(released, settings):
    training, release_as = released
    run_id, done = release_as(Choice.NAIVE)
    assert done.version is None and not done.promoted
    client = mlflow.MlflowClient(tracking_uri=Store(settings.home).local_tracking_uri)
    assert client.get_logged_model(done.model_id).source_run_id == run_id
    assert client.search_registered_models() == []
    forecast = pd.read_parquet(Store(settings.home).forecast_file("AAPL", training.as_of))
    assert len(forecast) == training.spec.horizons and set(forecast["model"]) == {"naive"}
    assert (forecast["forecast"] == forecast["last_close"]).all()  # naive: today's close
    ledger = Store(settings.home).read_ledger("AAPL")
    assert {"lstm", "naive", "drift", "ar"} <= set(ledger["model"])


def test_an_lstm_that_earned_it_is_registered_and_becomes_champion(released, settings):
    training, release_as = released
    _, done = release_as(Choice.LSTM)
    assert done.version == "1" and done.promoted
    client = mlflow.MlflowClient(tracking_uri=Store(settings.home).local_tracking_uri)
    champion = client.get_model_version_by_alias("tickercast-AAPL", "champion")
    assert str(champion.version) == "1"
    forecast = pd.read_parquet(Store(settings.home).forecast_file("AAPL", training.as_of))
    assert set(forecast["model"]) == {"lstm"} and set(forecast["model_version"]) == {"1"}
