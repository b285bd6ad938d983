"""Stage 5: register the model and publish the next session's forecast."""

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.retries import stage
from tickercast.evaluate import Evaluation
from tickercast.forecast import (
    Published,
    forecast_frame,
    forecast_markdown,
    forecast_next_session,
)
from tickercast.model import TrainedModel
from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tickers import ticker_slug
from tickercast.tracking import Tracker
from tickercast.windows import Windows


@stage(retries=3, backoff_seconds=5)
def publish_forecast(
    windows: Windows,
    trained: TrainedModel,
    evaluation: Evaluation,
    run_id: str,
    settings: Settings,
) -> Published:
    """Register the model, write the forecast files and the Prefect artifacts."""
    tracker = Tracker(settings)
    store = Store(settings.home)
    upcoming = forecast_next_session(windows, trained, settings.calendar_for(windows.ticker))
    version = tracker.log_model(run_id, windows.ticker, trained.network, windows.x_test[:5])
    frame = forecast_frame(upcoming, "lstm", version, run_id, windows.data_sha256)
    path = store.write_forecast(frame)
    tracker.log_file(run_id, path, "forecast")
    published = Published(
        ticker=upcoming.ticker,
        as_of=upcoming.as_of,
        target_date=upcoming.target_date,
        last_close=upcoming.last_close,
        forecast=upcoming.forecast,
        rmse_ratio=evaluation.metrics["rmse_ratio"],
        model_version=version,
        mlflow_run_id=run_id,
        mlflow_run_url=tracker.run_url(run_id),
        path=str(path),
    )
    report = forecast_markdown(published, evaluation.metrics)
    tracker.set_tags(run_id, {"mlflow.note.content": report})
    slug = ticker_slug(windows.ticker)
    create_table_artifact(
        key=f"forecast-{slug}",
        table=frame.astype({"as_of": str, "target_date": str}).to_dict("records"),
        description=f"{windows.ticker}: forecast for {upcoming.target_date}",
    )
    create_markdown_artifact(
        key=f"metrics-{slug}", markdown=report, description=f"{windows.ticker}: metrics"
    )
    get_run_logger().info(
        "%s: forecast %.2f for %s (last close %.2f on %s), written to %s",
        windows.ticker,
        upcoming.forecast,
        upcoming.target_date,
        upcoming.last_close,
        upcoming.as_of,
        path,
    )
    return published
