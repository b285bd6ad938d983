import gc
import subprocess
import sys
import weakref
from datetime import date

import keras
import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec, select_history, split_origins
from tickercast.models import network as model
from tickercast.models.network import build_network, predict_scaled, train_network
from tickercast.models.network_config import ModelConfig
from tickercast.models.scaling import Preprocessor

SPEC = WindowSpec(window=20, horizons=3, holdout=40, min_fit_origins=50)


@pytest.fixture(scope="module")
def data(sample_aapl):
    history = History.of(select_history(sample_aapl, "AAPL", date(2011, 6, 1), None, "XNYS"))
    split = split_origins(len(history), SPEC, "AAPL")
    preprocessor = Preprocessor.fit(history, SPEC, split.fit)
    fit = (preprocessor.inputs(history, split.fit), preprocessor.targets(history, split.fit))
    validation = (
        preprocessor.inputs(history, split.calibration),
        preprocessor.targets(history, split.calibration),
    )
    return fit, validation


def test_the_default_network_is_the_tutorials_with_one_output_per_horizon():
    network = build_network(ModelConfig(), window=60, features=1, horizons=5)
    kinds = [type(layer).__name__ for layer in network.layers]
    assert kinds == ["LSTM", "Dropout", "LSTM", "Dropout", "Dense"]
    assert network.layers[0].units == 50 and network.layers[0].return_sequences
    assert network.layers[2].units == 50 and not network.layers[2].return_sequences
    assert network.layers[1].rate == 0.2
    assert network.input_shape == (None, 60, 1) and network.output_shape == (None, 5)
    assert isinstance(network.optimizer, keras.optimizers.Adam)


@pytest.mark.slow
def test_training_is_repeatable_with_a_seed(data):
    fit, validation = data
    config = ModelConfig(epochs=2, units=8)
    first = train_network(fit, validation, config)
    second = train_network(fit, validation, config)
    assert first.history == second.history
    np.testing.assert_array_equal(
        predict_scaled(first.network, validation[0]), predict_scaled(second.network, validation[0])
    )
    assert (
        train_network(fit, validation, ModelConfig(epochs=2, units=8, seed=7)).history
        != first.history
    )


def test_early_stopping_keeps_the_best_validation_epoch(data):
    fit, validation = data
    trained = train_network(
        fit, validation, ModelConfig(epochs=6, units=8, patience=1, learning_rate=0.05)
    )
    losses = trained.history["val_loss"]
    assert trained.best_epoch == int(np.argmin(losses)) + 1
    assert trained.fit_seconds > 0
    restored = trained.network.evaluate(*validation, verbose=0)
    assert restored == pytest.approx(min(losses), rel=1e-3)


@pytest.mark.slow
def test_a_warm_start_begins_from_the_given_weights(data):
    fit, validation = data
    base = train_network(fit, validation, ModelConfig(epochs=2, units=8))
    # with a zero learning rate the fine-tuned network keeps the weights it started from
    frozen = ModelConfig(epochs=2, units=8, learning_rate=0.0, seed=99)
    warm = train_network(fit, validation, frozen, initial=base.network, epochs=1)
    assert len(warm.history["loss"]) == 1
    np.testing.assert_allclose(
        predict_scaled(warm.network, validation[0]),
        predict_scaled(base.network, validation[0]),
        rtol=1e-6,
    )


def test_predictions_equal_keras_predict_and_trace_once_per_network(data):
    fit, validation = data
    network = train_network(fit, validation, ModelConfig(epochs=1, units=8)).network
    windows = validation[0]
    for count in (len(windows), 40, 1, 40):  # calibration, holdout, latest: shapes vary
        np.testing.assert_array_equal(
            predict_scaled(network, windows[:count]),
            network.predict(windows[:count], batch_size=1024, verbose=0),
        )
    # one graph for every batch size: no retracing, so no TensorFlow warning about it
    assert model._FORWARD[network].experimental_get_tracing_count() == 1
    # the cache holds no network alive
    released = weakref.ref(network)
    del network
    gc.collect()
    assert released() is None


def test_thread_limits_apply_before_tensorflow_runs_and_then_hold():
    # A fresh process: this one already ran TensorFlow with its default pools.
    script = (
        "import tensorflow as tf\n"
        "from tickercast.models.network import limit_threads\n"
        "limit_threads(1)\n"
        "tf.constant([1.0]) + 1\n"
        "limit_threads(1)\n"  # the same limits again: nothing to change
        "print(tf.config.threading.get_intra_op_parallelism_threads(),"
        " tf.config.threading.get_inter_op_parallelism_threads())\n"
        "try:\n"
        "    limit_threads(2)\n"
        "except RuntimeError:\n"
        "    print('too late')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split("\n")[:2] == ["1 1", "too late"]
