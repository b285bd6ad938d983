"""Stage 4: score every candidate on the holdout, decide what to publish, plot it."""

import tempfile
import time
from pathlib import Path

from prefect import get_run_logger

from tickercast.data.windows import TrainingSet
from tickercast.evaluation.champion import Champion, Evaluation, evaluate_candidates
from tickercast.evaluation.track_record import LiveRecord
from tickercast.models.fitting import Fitted
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking import run_record
from tickercast.tracking.runs import runs_for


@stage(retries=2, backoff_seconds=2)
def evaluate_model(
    training: TrainingSet,
    fitted: Fitted,
    champion: Champion | None,
    live: LiveRecord,
    run_id: str,
    settings: Settings,
) -> Evaluation:
    """Compare the LSTM, the baselines and the champion on the holdout, and the LSTM's
    live record; log metrics, the plots' data and, where reviewed, the plots."""
    started = time.perf_counter()
    evaluation = evaluate_candidates(
        training.history,
        fitted,
        champion,
        settings.gate_margin,
        settings.gate_significance,
        live,
        settings.shadow_forecasts,
        settings.interval_significance,
    )
    seconds = time.perf_counter() - started
    holdout = run_record.holdout_plots(training, fitted, evaluation)
    runs = runs_for(settings)
    runs.record(run_id, run_record.evaluation(holdout, evaluation, seconds))
    with tempfile.TemporaryDirectory() as folder:
        saved = holdout.save(Path(folder) / run_record.HOLDOUT_PLOTS.name)
        runs.log_file(run_id, saved, str(run_record.HOLDOUT_PLOTS.parent))
    get_run_logger().info(evaluation.summary(training.ticker))
    return evaluation
