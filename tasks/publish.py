"""Stage 5: register the model, move the champion alias if it earned it, publish, and
keep every candidate's forecast in the ledger (`tickercast.tracking.release`)."""

from datetime import UTC, datetime

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact

from tickercast.data.storage import Store
from tickercast.data.tickers import ticker_slug
from tickercast.data.windows import TrainingSet
from tickercast.evaluation.champion import Champion, Evaluation
from tickercast.ledger.forecasts import Published
from tickercast.models.fit_store import kept_in
from tickercast.models.fitting import Fitted
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking.release import release


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
    with kept_in(Store(settings.home).fits_folder):  # the published intervals, frozen
        done = release(
            training, fitted, evaluation, champion, alarm, run_id, settings, datetime.now(UTC)
        )
    published = done.publication
    # The one artifact per ticker: people look a forecast up by its key, and the key's
    # versions are its history. The report on its metrics is the MLflow run's
    # description; the run's summary artifact lists every ticker (`publish_run_summary`).
    create_table_artifact(
        key=f"forecast-{ticker_slug(training.ticker)}",
        table=published.table(),
        description=published.summary(),
    )
    get_run_logger().info(done.summary())
    return published.published
