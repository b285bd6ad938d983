"""Stage 4: score the model on the test sessions against the naive forecast."""

from prefect import get_run_logger

from tasks.retries import stage
from tickercast import plots
from tickercast.evaluate import Evaluation
from tickercast.evaluate import evaluate_model as evaluate
from tickercast.model import TrainedModel
from tickercast.settings import Settings
from tickercast.tracking import Tracker
from tickercast.windows import Windows


@stage(retries=2, backoff_seconds=2)
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
