"""Score the forecast ledger as sessions close, and show each ticker's live track record."""

from datetime import UTC, date, datetime

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact

from tickercast.data.storage import Store
from tickercast.data.tickers import ticker_slug
from tickercast.evaluation.track_record import TrackRecord, alarm_is_new, track_record
from tickercast.ledger.scoring import score_ticker
from tickercast.settings import Settings
from tickercast.tasks.alarms import emit_calibration_drift
from tickercast.tasks.retries import stage
from tickercast.tracking import run_record
from tickercast.tracking.runs import runs_for


@stage(retries=2, backoff_seconds=2)
def score_forecasts(ticker: str, as_of: date | None, settings: Settings) -> TrackRecord:
    """Score every ledgered forecast whose session has closed; compute the track record."""
    scoring = score_ticker(Store(settings.home), ticker, as_of, datetime.now(UTC))
    logger = get_run_logger()
    logger.info(scoring.summary(ticker))
    if warning := scoring.missing_warning(ticker):
        logger.warning(warning)
    return track_record(
        ticker,
        scoring.scores,
        scoring.as_of,
        settings.shadow_forecasts,
        missing=len(scoring.missing),
    )


@stage(retries=3, backoff_seconds=5)
def report_track_record(track: TrackRecord, run_id: str, settings: Settings) -> None:
    """Show the live track record: run metrics (and plot), report file; on an alarm, a
    warning, an event and an artifact."""
    store, logger = Store(settings.home), get_run_logger()
    previous = store.write_track_record(track.ticker, track.as_dict())
    runs_for(settings).record(run_id, run_record.live_track_record(track))
    logger.info(track.summary())
    if track.alarm is not None:
        logger.warning(track.alarm.message())
        # An artifact only where someone will look: a record without an alarm is in the
        # run's metrics, reports/track/ and `tickercast track`, not one more of 480 keys.
        create_markdown_artifact(
            key=f"track-record-{ticker_slug(track.ticker)}",
            markdown=track.markdown(),
            description=track.summary(),
        )
        if alarm_is_new(track, previous):
            emit_calibration_drift(track.alarm)
