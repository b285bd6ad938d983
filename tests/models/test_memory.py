"""What a long-running process (a backfill: one fit per ticker and session) keeps alive
from one fit to the next."""

import gc

import numpy as np
import pytest
from tensorflow.python.framework import ops
from tensorflow.python.framework.func_graph import FuncGraph

from tickercast.models.network import predict_scaled, train_network
from tickercast.models.network_config import ModelConfig

CONFIG = ModelConfig(units=4, layers=1, epochs=1, batch_size=16)


@pytest.fixture(scope="module")
def windows() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 10, 1)).astype("float32")  # 70 = 4 batches and a part
    y = rng.normal(size=(70, 2)).astype("float32")
    return (x, y), (x[:20], y[:20])


def _func_graphs() -> int:
    gc.collect()
    return sum(isinstance(o, FuncGraph) for o in gc.get_objects())


def _custom_gradients() -> set[str]:
    return {name for name in ops.gradient_registry._registry if name.startswith("CustomGradient-")}


@pytest.mark.slow
def test_fits_in_one_process_keep_no_traced_graphs_of_earlier_fits(windows):
    # Each fit traces Keras's train step, whose optimizer registers a `@custom_gradient`
    # holding the traced graph in TensorFlow's global gradient registry; without
    # `train_network` dropping those entries, every fit kept two FuncGraphs (~3,000
    # operations each) for good, ~30 MB per ticker and session in a backfill.
    inputs, validation = windows
    registered = _custom_gradients()
    trained = train_network(inputs, validation, CONFIG)
    predict_scaled(trained.network, validation[0])
    del trained
    after_first = _func_graphs()
    for _ in range(4):
        trained = train_network(inputs, validation, CONFIG)
        predict_scaled(trained.network, validation[0])
        del trained
    assert _func_graphs() <= after_first
    assert _custom_gradients() == registered


def test_a_network_still_trains_after_its_fits_registrations_are_dropped(windows):
    inputs, validation = windows
    trained = train_network(inputs, validation, CONFIG)
    warm = train_network(inputs, validation, CONFIG, initial=trained.network, epochs=1)
    # the same network again: its traced train step is reused, and a new batch size
    # retraces it (a new registration) without needing the dropped ones
    for batch_size in (16, 7):
        history = warm.network.fit(*inputs, epochs=1, batch_size=batch_size, verbose=0).history
        assert np.isfinite(history["loss"][0])
