"""The flow run's own records: its MLflow parent run, and each ticker's outcome in one
artifact for the whole universe and under reports/runs/."""

from datetime import UTC, date, datetime

from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from tickercast import run_record
from tickercast.forecast import run_summary_headline, run_summary_markdown, run_summary_table
from tickercast.settings import Settings
from tickercast.storage import Store
from tickercast.tasks.retries import stage
from tickercast.tracking import tracker_for


@stage(retries=2, backoff_seconds=2)
def publish_run_summary(rows: list[tuple[str, str, str]], settings: Settings) -> None:
    """Publish each ticker's outcome: artifact `daily-forecast-summary` and reports/runs/."""
    # One table for the universe, the failed first (a table, so that scripts read its
    # rows: `prefect artifact inspect daily-forecast-summary -o json`); per ticker, only
    # `forecast-<ticker>` (tasks/publish.py) and the reports of data-quality findings
    # and calibration alarms have artifacts of their own.
    create_table_artifact(
        key="daily-forecast-summary",
        table=run_summary_table(rows),
        description=run_summary_headline(rows),
    )
    at = datetime.now(UTC)
    records = [
        {"ticker": ticker, "status": status, "detail": detail, "at": at.isoformat()}
        | {"flow_run_id": str(flow_run.get_id())}
        for ticker, status, detail in rows
    ]
    Store(settings.home).write_run_summary(records, at.strftime("%Y%m%dT%H%M%SZ"))


@stage(retries=3, backoff_seconds=5)
def start_parent_run(tickers: list[str], as_of: date | None, settings: Settings) -> str:
    """Open the MLflow run that groups this flow run's ticker runs."""
    name = f"daily forecast as of {as_of or 'the latest session'}: {', '.join(tickers)}"
    tags = {"prefect_flow_run_id": str(flow_run.get_id())}
    tags["prefect_flow_run_name"] = flow_run.get_name()
    return tracker_for(settings).start_parent_run(name, tags)


@stage(retries=3, backoff_seconds=5)
def end_parent_run(run_id: str, rows: list[tuple[str, str, str]], settings: Settings) -> None:
    """Close the flow run's MLflow run with its per-ticker summary as its description."""
    record = run_record.flow_run(rows, run_summary_markdown(rows))
    tracker = tracker_for(settings)
    tracker.record(run_id, record)
    tracker.end_run(run_id, succeeded=record.metrics["tickers_failed"] == 0)
