"""Stage 5: register the model, move the champion alias if it earned it, publish."""

from datetime import UTC, datetime

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from tickercast.tasks.retries import stage

from tickercast.fitting import Fitted, recalibrated
from tickercast.forecast import (
    Published,
    forecast_frame,
    forecast_latest,
    forecast_markdown,
    run_summary_markdown,
)
from tickercast.gate import Evaluation, may_move_alias
from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tickers import ticker_slug
from tickercast.tracking import Champion, Tracker
from tickercast.windows import TrainingSet


@stage(retries=3, backoff_seconds=5)
def publish_forecast(
    training: TrainingSet,
    fitted: Fitted,
    evaluation: Evaluation,
    champion: Champion | None,
    run_id: str,
    settings: Settings,
) -> Published:
    """Register the new model, promote it if it won, and publish the chosen forecast."""
    ticker, decision = training.ticker, evaluation.decision
    tracker = Tracker(settings)
    lstm = recalibrated(fitted.candidates["lstm"], training.prices, fitted.split, training.spec)
    version = tracker.log_model(run_id, ticker, lstm, training.prices)
    # a replay of an earlier day never takes the alias from a champion trained later
    if decision.promote and may_move_alias(champion.as_of if champion else None, training.as_of):
        tracker.set_champion(ticker, version)
    chosen = {
        "lstm": (fitted.candidates["lstm"], "lstm", version),
        "champion": (
            champion.candidate if champion else None,
            "lstm",
            champion and champion.version,
        ),
        "naive": (fitted.candidates["naive"], "naive", None),
    }
    candidate, model, model_version = chosen[decision.published]
    # published intervals use every residual no model was fitted on, the latest included
    candidate = recalibrated(candidate, training.prices, fitted.split, training.spec)
    latest = forecast_latest(candidate, training.prices, training.spec)
    frame = forecast_frame(
        ticker,
        training.prices,
        latest,
        settings.calendar_for(ticker),
        model,
        model_version,
        decision.reason,
        run_id,
        training.data_sha256,
    )
    path = Store(settings.home).write_forecast(frame)
    tracker.log_file(run_id, path, "forecast")
    first = frame.iloc[0]
    published = Published(
        ticker=ticker,
        as_of=first["as_of"],
        target_date=first["target_date"],
        last_close=float(first["last_close"]),
        forecast=float(first["forecast"]),
        lower_80=float(first["lower_80"]),
        upper_80=float(first["upper_80"]),
        model=model,
        model_version=model_version,
        reason=decision.reason,
        rmse_ratio=evaluation.scored[decision.published].metrics[0]["rmse_ratio"],
        mlflow_run_id=run_id,
        mlflow_run_url=tracker.run_url(run_id),
        path=str(path),
    )
    report = forecast_markdown(published, frame, evaluation.metrics_table())
    tracker.set_tags(run_id, {"mlflow.note.content": report, "registered_version": version})
    slug = ticker_slug(ticker)
    create_table_artifact(
        key=f"forecast-{slug}",
        table=frame.astype({"as_of": str, "target_date": str}).to_dict("records"),
        description=f"{ticker}: {model} forecast, {len(frame)} sessions after {published.as_of}",
    )
    create_markdown_artifact(
        key=f"metrics-{slug}", markdown=report, description=f"{ticker}: metrics"
    )
    get_run_logger().info(
        "%s: published %s forecast %.2f [%.2f, %.2f] for %s (close %.2f on %s); registered v%s%s",
        ticker,
        model,
        published.forecast,
        published.lower_80,
        published.upper_80,
        published.target_date,
        published.last_close,
        published.as_of,
        version,
        ", now champion" if decision.promote else "",
    )
    return published


@stage(retries=2, backoff_seconds=2)
def publish_run_summary(rows: list[tuple[str, str, str]], settings: Settings) -> None:
    """Publish each ticker's outcome: artifact `daily-forecast-summary` and reports/runs/."""
    create_markdown_artifact(
        key="daily-forecast-summary",
        markdown=run_summary_markdown(rows),
        description="forecasts published and tickers failed in this run",
    )
    at = datetime.now(UTC)
    records = [
        {
            "ticker": ticker,
            "status": status,
            "detail": detail,
            "at": at.isoformat(),
            "flow_run_id": str(flow_run.get_id()),
        }
        for ticker, status, detail in rows
    ]
    Store(settings.home).write_run_summary(records, at.strftime("%Y%m%dT%H%M%SZ"))
