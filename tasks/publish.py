"""Stage 5: register the model, move the champion alias if it earned it, publish, and
keep every candidate's forecast in the ledger."""

from datetime import UTC, datetime

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tickercast import run_record
from tickercast.champion import Champion, Evaluation, alias_moves
from tickercast.fitting import Fitted
from tickercast.forecast import Published
from tickercast.publish import publication, registered_lstm
from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tasks.retries import stage
from tickercast.tickers import ticker_slug
from tickercast.tracking import tracker_for
from tickercast.windows import TrainingSet


@stage(retries=3, backoff_seconds=5)
def publish_forecast(
    training: TrainingSet,
    fitted: Fitted,
    evaluation: Evaluation,
    champion: Champion | None,
    alarm: str | None,
    run_id: str,
    settings: Settings,
) -> Published:
    """Register the new model, promote it if it won, publish the chosen forecast, ledger it."""
    ticker, tracker, store = training.ticker, tracker_for(settings), Store(settings.home)
    lstm = registered_lstm(training, fitted)
    version = tracker.log_model(run_id, ticker, lstm, training.prices)
    promoted = alias_moves(evaluation.decision, champion, training.as_of)
    if promoted:
        tracker.set_champion(ticker, version)
    path = store.forecast_file(ticker, training.as_of)
    calendar, run_url = settings.calendar_for(ticker), tracker.run_url(run_id)
    done = publication(
        training,
        fitted,
        evaluation,
        champion,
        lstm,
        version,
        run_id,
        run_url,
        path,
        calendar,
        alarm,
    )
    tracker.log_file(run_id, store.write_forecast(done.frame), "forecast")
    store.append_ledger(done.ledger, published_at=datetime.now(UTC))
    tracker.record(run_id, run_record.publication(done, version))
    slug, rows = ticker_slug(ticker), done.frame.astype({"as_of": str, "target_date": str})
    create_table_artifact(
        key=f"forecast-{slug}", table=rows.to_dict("records"), description=done.summary()
    )
    create_markdown_artifact(
        key=f"metrics-{slug}", markdown=done.report, description=f"{ticker}: metrics"
    )
    promotion = ", now champion" if promoted else ""
    get_run_logger().info(f"{done.summary()}; registered v{version}{promotion}")
    return done.published
