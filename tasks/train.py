"""Stage 3: retrain the LSTM (or fine-tune the champion) and fit the baselines."""

import time

from prefect import get_run_logger
from tickercast.tasks.retries import stage

from tickercast.fitting import Fitted, fit_candidates, warm_start_from
from tickercast.model import ModelConfig
from tickercast.settings import Settings
from tickercast.tracking import Champion, Tracker
from tickercast.windows import TrainingSet


@stage(retries=1, backoff_seconds=10)
def train_model(
    training: TrainingSet,
    config: ModelConfig,
    champion: Champion | None,
    run_id: str,
    settings: Settings,
) -> Fitted:
    """Train the LSTM and the baselines on the fit origins; calibrate their intervals."""
    warm = warm_start_from(
        champion.candidate.forecaster if champion else None,
        champion.as_of if champion else None,
        training.as_of,
        training.spec,
        settings.warm_start,
    )
    started = time.perf_counter()
    fitted = fit_candidates(training.prices, training.ticker, training.spec, config, warm)
    seconds = time.perf_counter() - started
    trained = fitted.trained
    tracker = Tracker(settings)
    tracker.log_history(run_id, trained.history)
    tracker.log_metrics(
        run_id,
        {
            "best_epoch": trained.best_epoch,
            "fit_seconds": trained.fit_seconds,
            "train_seconds": seconds,
        },
    )
    tracker.set_tags(run_id, {"warm_start": f"champion v{champion.version}" if warm else "no"})
    get_run_logger().info(
        "%s: %s %d epochs in %.1f s, kept epoch %d (val_loss %.3g)",
        training.ticker,
        f"fine-tuned champion v{champion.version}" if warm else "trained",
        len(trained.history["loss"]),
        trained.fit_seconds,
        trained.best_epoch,
        min(trained.history["val_loss"]),
    )
    return fitted
