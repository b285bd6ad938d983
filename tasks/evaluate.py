"""Stage 4: score the model on the test sessions against the naive forecast."""

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from tasks.retries import retry_unless_input_error
from tickercast import plots
from tickercast.evaluate import Evaluation
from tickercast.evaluate import evaluate_model as evaluate
from tickercast.model import TrainedModel
from tickercast.settings import Settings
from tickercast.tracking import Tracker
from tickercast.windows import Windows


@task(
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_condition_fn=retry_unless_input_error,
    cache_policy=NO_CACHE,
)
def evaluate_model(
    windows: Windows, trained: TrainedModel, run_id: str, settings: Settings
) -> Evaluation:
    """Compute test metrics and the naive baseline; log them and the plots to MLflow."""
    evaluation = evaluate(windows, trained)
    tracker = Tracker(settings)
    tracker.log_metrics(
        run_id, {**evaluation.metrics, "predict_seconds": evaluation.predict_seconds}
    )
    tracker.log_figure(
        run_id,
        plots.predicted_vs_actual(
            windows.ticker,
            windows.test_sessions,
            windows.test_actual,
            evaluation.predicted,
            windows.test_previous_close,
            evaluation.metrics["rmse_ratio"],
        ),
        "plots/predicted_vs_actual.png",
    )
    tracker.log_figure(
        run_id,
        plots.training_curves(windows.ticker, trained.history, trained.best_epoch),
        "plots/training_curves.png",
    )
    get_run_logger().info(
        "%s: test RMSE %.4f vs naive %.4f (ratio %.3f), directional accuracy %.3f",
        windows.ticker,
        evaluation.metrics["test_rmse"],
        evaluation.metrics["naive_rmse"],
        evaluation.metrics["rmse_ratio"],
        evaluation.metrics["directional_accuracy"],
    )
    return evaluation
