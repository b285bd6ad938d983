import keras
import numpy as np
import pytest

from tickercast.model import ModelConfig, build_network, predict_scaled, train_network
from tickercast.prices import clip_sessions
from tickercast.windows import WindowSpec, build_windows


@pytest.fixture(scope="module")
def windows(sample_aapl):
    from datetime import date

    return build_windows(
        clip_sessions(sample_aapl, date(2011, 6, 1), None), "AAPL", WindowSpec(window=20)
    )


def test_the_default_network_is_the_tutorials():
    network = build_network(ModelConfig(), window=60)
    kinds = [type(layer).__name__ for layer in network.layers]
    assert kinds == ["LSTM", "Dropout", "LSTM", "Dropout", "Dense"]
    assert network.layers[0].units == 50 and network.layers[0].return_sequences
    assert network.layers[2].units == 50 and not network.layers[2].return_sequences
    assert network.layers[1].rate == 0.2
    assert network.input_shape == (None, 60, 1) and network.output_shape == (None, 1)
    assert isinstance(network.optimizer, keras.optimizers.Adam)


def test_training_is_repeatable_with_a_seed(windows):
    config = ModelConfig(epochs=2, units=8)
    first = train_network(windows, config)
    second = train_network(windows, config)
    assert first.history == second.history
    np.testing.assert_array_equal(
        predict_scaled(first.network, windows.x_test),
        predict_scaled(second.network, windows.x_test),
    )
    other = train_network(windows, ModelConfig(epochs=2, units=8, seed=7))
    assert other.history != first.history


def test_early_stopping_keeps_the_best_validation_epoch(windows):
    trained = train_network(windows, ModelConfig(epochs=6, units=8, patience=1, learning_rate=0.05))
    losses = trained.history["val_loss"]
    assert trained.best_epoch == int(np.argmin(losses)) + 1
    assert len(losses) <= 6 and len(trained.history["loss"]) == len(losses)
    assert trained.fit_seconds > 0
    # the restored weights are the best epoch's: their validation loss matches it
    restored = trained.network.evaluate(windows.x_val, windows.y_val, verbose=0)
    assert restored == pytest.approx(min(losses), rel=1e-3)
