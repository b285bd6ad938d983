"""Stage 3: retrain the LSTM and log its learning curves."""

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from tasks.retries import retry_unless_input_error
from tickercast.model import ModelConfig, TrainedModel, train_network
from tickercast.settings import Settings
from tickercast.tracking import Tracker
from tickercast.windows import Windows


@task(
    retries=1,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),
    retry_condition_fn=retry_unless_input_error,
    cache_policy=NO_CACHE,
)
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
