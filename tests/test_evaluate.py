from datetime import date

import keras
import numpy as np
import pytest

from tickercast.evaluate import evaluate_model
from tickercast.model import TrainedModel
from tickercast.prices import clip_sessions
from tickercast.windows import WindowSpec, build_windows


def _persistence_network(window: int) -> keras.Model:
    """A network that repeats the last close of its window: the naive forecast."""
    inputs = keras.Input(shape=(window, 1))
    outputs = keras.layers.Lambda(lambda x: x[:, -1, :])(inputs)
    return keras.Model(inputs, outputs)


def test_a_model_that_repeats_the_last_close_scores_exactly_naive(sample_aapl):
    windows = build_windows(
        clip_sessions(sample_aapl, date(2011, 6, 1), None), "AAPL", WindowSpec(window=20)
    )
    trained = TrainedModel(_persistence_network(20), {"loss": [], "val_loss": []}, 0, 0.0)
    evaluation = evaluate_model(windows, trained)
    assert evaluation.metrics["rmse_ratio"] == pytest.approx(1.0, abs=1e-5)
    assert evaluation.metrics["test_rmse"] == pytest.approx(
        evaluation.metrics["naive_rmse"], rel=1e-5
    )
    np.testing.assert_allclose(evaluation.predicted, windows.test_previous_close, rtol=1e-5)
    assert evaluation.predicted.shape == windows.test_actual.shape
    assert evaluation.predict_seconds >= 0
