"""Stage 3: train the LSTM as the retrain policy says (or take the global network), and
fit the baselines."""

import time

from prefect import get_run_logger

from tickercast.data.storage import Store
from tickercast.data.windows import TrainingSet
from tickercast.models.fit_store import kept_in
from tickercast.models.fitting import Fitted, fit_candidates
from tickercast.models.network_config import ModelConfig
from tickercast.models.retraining import plan_global, plan_training
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking import run_record
from tickercast.tracking.model_store import model_store_for
from tickercast.tracking.runs import runs_for


@stage(retries=1, backoff_seconds=10)
def train_model(
    training: TrainingSet, config: ModelConfig, model: str, run_id: str, settings: Settings
) -> Fitted:
    """Train, fine-tune or reuse the LSTM (or take the global one); fit the baselines."""
    models, as_of, spec = model_store_for(settings), training.as_of, training.spec
    if model == "global":
        plan = plan_global(*models.latest_global(as_of), training.ticker, as_of, spec)
    else:
        latest = models.latest_network(training.ticker, before=as_of)
        plan = plan_training(latest, training.ticker, as_of, spec, settings.retrain)
    started = time.perf_counter()
    with kept_in(Store(settings.home).fits_folder):  # filter what earlier evenings fitted
        fitted = fit_candidates(training.history, training.ticker, spec, config, plan)
    runs_for(settings).record(run_id, run_record.training(fitted, time.perf_counter() - started))
    logger = get_run_logger()
    logger.info(fitted.summary(training.ticker))
    if fitted.close_only:
        logger.warning(fitted.close_only)
    return fitted
