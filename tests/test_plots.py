import numpy as np

from tickercast import plots


def test_predicted_vs_actual_draws_the_naive_line():
    sessions = np.arange("2013-01-02", "2013-01-12", dtype="datetime64[D]")
    actual = np.linspace(10, 12, len(sessions))
    figure = plots.predicted_vs_actual("AAPL", sessions, actual, actual + 0.1, actual - 0.1, 1.25)
    axis = figure.axes[0]
    assert [line.get_label() for line in axis.get_lines()] == [
        "actual",
        "naive (last close)",
        "LSTM",
    ]
    assert "1.25" in axis.get_title()


def test_training_curves_mark_the_kept_epoch():
    figure = plots.training_curves(
        "AAPL", {"loss": [0.3, 0.2, 0.25], "val_loss": [0.4, 0.1, 0.2]}, 2
    )
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["train loss", "validation loss", "kept epoch 2"]
