"""The flow run's own records: its MLflow parent run, and each ticker's outcome in one
artifact for the whole universe and under reports/runs/."""

from datetime import UTC, datetime

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from tickercast.data.storage import Store
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking import run_record, run_summary
from tickercast.tracking.run_summary import SummaryRow
from tickercast.tracking.runs import runs_for


@stage(retries=2, backoff_seconds=2)
def publish_run_summary(rows: list[SummaryRow], settings: Settings) -> None:
    """Publish each ticker's outcome: artifact `daily-forecast-summary` and reports/runs/."""
    # One table for the universe, the failed first (a table, so that scripts read its
    # rows: `prefect artifact inspect daily-forecast-summary -o json`); per ticker, only
    # `forecast-<ticker>` (tasks/publish.py) and the reports of data-quality findings
    # and calibration alarms have artifacts of their own.
    create_table_artifact(
        key="daily-forecast-summary",
        table=run_summary.table(rows),
        description=run_summary.headline(rows),
    )
    get_run_logger().info(run_summary.headline(rows))
    at = datetime.now(UTC)
    records = [
        {"ticker": row.ticker, "status": row.status, "detail": row.detail, "at": at.isoformat()}
        | {"flow_run_id": str(flow_run.get_id())}
        for row in rows
    ]
    Store(settings.home).write_run_summary(records, at.strftime("%Y%m%dT%H%M%SZ"))


@stage(retries=3, backoff_seconds=5)
def start_parent_run(settings: Settings) -> str:
    """Open the MLflow run that groups this flow run's ticker runs, named as it is."""
    tags = {"prefect_flow_run_id": str(flow_run.get_id())}
    return runs_for(settings).start_parent_run(flow_run.get_name(), tags)


@stage(retries=3, backoff_seconds=5)
def end_parent_run(run_id: str, rows: list[SummaryRow], title: str, settings: Settings) -> None:
    """Close the flow run's MLflow run: its final name, the per-ticker summary."""
    record = run_record.flow_run(rows)
    runs = runs_for(settings)
    runs.rename_run(run_id, title)
    runs.record(run_id, record)
    runs.end_run(run_id, succeeded=record.metrics["tickers_failed"] == 0)
