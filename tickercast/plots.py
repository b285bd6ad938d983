"""Figures for reviewers: forecasts against the truth and the naive line, training curves."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def predicted_vs_actual(
    ticker: str,
    sessions: np.ndarray,
    actual: np.ndarray,
    predicted: np.ndarray,
    naive: np.ndarray,
    rmse_ratio: float,
) -> Figure:
    """Test-period closes, the model's forecasts and the naive forecast, on one axis.

    Args:
        ticker: for the title.
        sessions: (n,) target sessions.
        actual: (n,) realised adjusted closes.
        predicted: (n,) the model's forecasts.
        naive: (n,) previous closes, the naive forecast.
        rmse_ratio: the model's RMSE over the naive one, shown in the title.

    Returns:
        The figure (the caller saves and closes it).
    """
    figure, axis = plt.subplots(figsize=(11, 5))
    axis.plot(sessions, actual, label="actual", color="black", linewidth=1.2)
    axis.plot(sessions, naive, label="naive (last close)", color="tab:gray", linewidth=0.8)
    axis.plot(sessions, predicted, label="LSTM", color="tab:blue", linewidth=1.0)
    axis.set_title(
        f"{ticker}: next-session forecast on the test sessions (RMSE ratio vs naive "
        f"{rmse_ratio:.2f})"
    )
    axis.set_ylabel("adjusted close")
    axis.legend()
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def training_curves(ticker: str, history: dict[str, list[float]], best_epoch: int) -> Figure:
    """Per-epoch training and validation loss, with the kept epoch marked.

    Args:
        ticker: for the title.
        history: `loss` and `val_loss` per epoch.
        best_epoch: 1-based epoch whose weights were kept.

    Returns:
        The figure (the caller saves and closes it).
    """
    figure, axis = plt.subplots(figsize=(7, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    axis.plot(epochs, history["loss"], marker="o", label="train loss")
    axis.plot(epochs, history["val_loss"], marker="o", label="validation loss")
    axis.axvline(best_epoch, color="tab:gray", linestyle="--", label=f"kept epoch {best_epoch}")
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("MSE (scaled)")
    axis.set_title(f"{ticker}: training curves")
    axis.legend()
    figure.tight_layout()
    return figure
