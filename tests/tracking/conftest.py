"""The local MLflow store of a test's home, as each part of `tickercast.tracking` uses it."""

import pytest

from tickercast.tracking.experiment import experiment_for
from tickercast.tracking.model_store import ModelStore
from tickercast.tracking.registry import Registry
from tickercast.tracking.runs import Runs


@pytest.fixture
def experiment(settings):
    return experiment_for(settings)


@pytest.fixture
def runs(experiment):
    return Runs(experiment)


@pytest.fixture
def registry(experiment):
    return Registry(experiment)


@pytest.fixture
def models(experiment):
    return ModelStore(experiment)
