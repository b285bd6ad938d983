"""Stage 3: retrain the LSTM (or fine-tune the champion) and fit the baselines."""

import time

from prefect import get_run_logger

from tickercast import run_record
from tickercast.champion import Champion, warm_start_network
from tickercast.fitting import Fitted, fit_candidates
from tickercast.model_config import ModelConfig
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking import tracker_for
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
    warm = warm_start_network(champion, training.as_of, training.spec, settings.warm_start)
    warm_from = champion if warm else None
    started = time.perf_counter()
    fitted = fit_candidates(training.prices, training.ticker, training.spec, config, warm)
    record = run_record.training(fitted, warm_from, time.perf_counter() - started)
    tracker_for(settings).record(run_id, record)
    get_run_logger().info(fitted.summary(training.ticker, warm_from and warm_from.version))
    return fitted
