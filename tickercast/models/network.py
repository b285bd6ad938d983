"""The forecasting network: the tutorial's stacked LSTM and its training."""

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

from tickercast.data.time_limits import STOP, Stopped
from tickercast.models.network_config import ModelConfig


@dataclass
class TrainedModel:
    """A fitted network and how its training went.

    Attributes:
        network: the Keras model; maps (n, window, 1) scaled closes to (n, 1).
        history: per-epoch `loss` and `val_loss`.
        best_epoch: 1-based epoch whose weights were kept (lowest `val_loss`).
        fit_seconds: wall time inside `fit`.
    """

    network: keras.Model
    history: dict[str, list[float]]
    best_epoch: int
    fit_seconds: float


def build_network(config: ModelConfig, window: int, features: int, horizons: int) -> keras.Model:
    """LSTM(units) x layers, each with dropout, then Dense(horizons); Adam + MSE.

    Args:
        config: the hyperparameters.
        window: sessions per input window.
        features: inputs per session.
        horizons: outputs, one per session ahead.

    Returns:
        An untrained, compiled model taking (n, window, features) and returning (n, horizons).
    """
    layers: list[keras.Layer] = [keras.Input(shape=(window, features))]
    for index in range(config.layers):
        last = index == config.layers - 1
        layers += [
            keras.layers.LSTM(config.units, return_sequences=not last),
            keras.layers.Dropout(config.dropout),
        ]
    network = keras.Sequential([*layers, keras.layers.Dense(horizons)], name="lstm")
    network.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="mse")
    return network


def limit_threads(threads: int) -> None:
    """Cap TensorFlow's CPU threads in this process, e.g. to the cores a Dask worker
    slot owns, so that workers sharing a machine do not oversubscribe it.

    Args:
        threads: threads for the intra-op and inter-op pools (both 0: TensorFlow's
            default, every core).

    Raises:
        RuntimeError: TensorFlow already ran an operation here with other limits;
            they can only be set before the first one.
    """
    threading = tf.config.threading
    if (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    ) == (
        threads,
        threads,
    ):
        return
    threading.set_intra_op_parallelism_threads(threads)
    threading.set_inter_op_parallelism_threads(threads)


def train_network(
    inputs: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    config: ModelConfig,
    initial: keras.Model | None = None,
    epochs: int | None = None,
) -> TrainedModel:
    """Fit a network, stopping early on validation loss.

    Args:
        inputs: (x, y) training windows (n, window, F) and scaled targets (n, H).
        validation: (x, y) validation windows and targets.
        config: the hyperparameters; `seed` makes the result repeatable.
        initial: a trained network to fine-tune (warm start); a fresh one when None.
        epochs: overrides `config.epochs` (fewer for a warm start).

    Returns:
        The network with the weights of its best validation epoch, and its history.
    """
    keras.utils.clear_session()
    keras.utils.set_random_seed(config.seed)
    # Multi-threaded CPU kernels may otherwise sum in varying order, and training
    # amplifies the last bits: equal inputs must give equal metrics.
    tf.config.experimental.enable_op_determinism()
    x, y = inputs
    network = build_network(config, x.shape[1], x.shape[2], y.shape[1])
    if initial is not None:
        network.set_weights(initial.get_weights())
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    out_of_time = keras.callbacks.LambdaCallback(on_train_batch_end=_stop_if_out_of_time)
    started = time.perf_counter()
    with _custom_gradients_released():
        fitted = network.fit(
            x,
            y,
            validation_data=validation,
            epochs=epochs or config.epochs,
            batch_size=config.batch_size,
            callbacks=[stop, out_of_time],
            verbose=0,
        )
    fit_seconds = time.perf_counter() - started
    history = {name: [float(v) for v in fitted.history[name]] for name in ("loss", "val_loss")}
    return TrainedModel(
        network=network,
        history=history,
        best_epoch=int(np.argmin(history["val_loss"])) + 1,
        fit_seconds=fit_seconds,
    )


def _stop_if_out_of_time(batch: int, logs: dict | None = None) -> None:
    """Abandon the training once the flow run is out of time (`time_limits.STOP`)."""
    if STOP.is_set():
        raise Stopped(f"training stopped at batch {batch}: the flow run ran out of time")


# TensorFlow's `@custom_gradient`, when traced into a graph, registers its gradient
# function in the process-wide gradient registry under a new name
# ("CustomGradient-<uid>") and never removes it; the function's closure holds the traced
# tensors, hence the whole FuncGraph (tensorflow/tensorflow#97697, #27492). Every trace
# of Keras's train step goes through one (the optimizer's all-reduce of the gradients),
# so each `fit` kept its train-step graphs (~3,000 operations each, two traces a fit)
# alive for good: about 30 MB per ticker and session in a backfill, which trains in one
# process session after session. `keras.utils.clear_session` does not touch the
# registry. An entry is only looked up to differentiate symbolically the graph that made
# it, which nothing does with a train step: the tape differentiates it while it is
# traced, and a later fit of the same network reuses the traced step or retraces it
# under a new name. So the entries a fit added are dropped when it returns; fits hold a
# lock meanwhile, so that no other fit of this process is mid-trace when they are.
_FIT_LOCK = threading.Lock()


@contextmanager
def _custom_gradients_released() -> Iterator[None]:
    """Drop the `CustomGradient-*` registrations made inside (see `_FIT_LOCK`)."""
    registry = getattr(getattr(tf_ops, "gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):  # another TensorFlow: leave it as it is
        yield
        return
    with _FIT_LOCK:
        before = set(registry)
        try:
            yield
        finally:
            for name in set(registry) - before:
                if name.startswith("CustomGradient-"):
                    registry.pop(name, None)


# Each network's forward pass, traced on first use (see `_forward`).
_FORWARD: weakref.WeakKeyDictionary[
    keras.Model, Callable[[np.ndarray], tuple[tf.Tensor, tf.Tensor]]
] = weakref.WeakKeyDictionary()


def _forward(network: keras.Model) -> Callable[[np.ndarray], tuple[tf.Tensor, tf.Tensor]]:
    """The network in inference mode as one `tf.function` for any number of windows,
    returning its body's state (every layer but the output Dense) and its output.

    Traced once per network: `network.predict` traces again for each new batch shape
    (TensorFlow warns of the retracing) and builds a `tf.data` pipeline for every call.
    """
    forward = _FORWARD.get(network)
    if forward is None:
        model = weakref.ref(network)  # the cache must not keep its key alive
        spec = tf.TensorSpec((None, *network.input_shape[1:]), network.inputs[0].dtype)

        @tf.function(input_signature=[spec])
        def forward(inputs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            *body, output = model().layers
            state = inputs
            for layer in body:
                state = layer(state, training=False)
            return state, output(state, training=False)

        _FORWARD[network] = forward
    return forward


def predict_scaled(network: keras.Model, inputs: np.ndarray) -> np.ndarray:
    """(n, window, F) scaled windows -> (n, H) scaled outputs."""
    return _forward(network)(inputs)[1].numpy()


def hidden_state(network: keras.Model, inputs: np.ndarray) -> np.ndarray:
    """(n, window, F) scaled windows -> (n, units): the last LSTM layer's final state,
    what the output layer reads (dropout is off at inference)."""
    return _forward(network)(inputs)[0].numpy()
