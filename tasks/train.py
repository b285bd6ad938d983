"""Stage 3: retrain the LSTM and log its learning curves."""

from prefect import get_run_logger

from tasks.retries import stage
from tickercast.model import ModelConfig, TrainedModel, train_network
from tickercast.settings import Settings
from tickercast.tracking import Tracker
from tickercast.windows import Windows


@stage(retries=1, backoff_seconds=10)
def train_model(
    windows: Windows, config: ModelConfig, run_id: str, settings: Settings
) -> TrainedModel:
    """Train the LSTM on the training windows, stopping early on validation loss."""
    trained = train_network(windows, config)
    tracker = Tracker(settings)
    tracker.log_history(run_id, trained.history)
    tracker.log_metrics(
        run_id, {"best_epoch": trained.best_epoch, "fit_seconds": trained.fit_seconds}
    )
    get_run_logger().info(
        "%s: trained %d epochs in %.1f s, kept epoch %d (val_loss %.3g)",
        windows.ticker,
        len(trained.history["loss"]),
        trained.fit_seconds,
        trained.best_epoch,
        min(trained.history["val_loss"]),
    )
    return trained
