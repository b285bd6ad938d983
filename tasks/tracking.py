"""Open and close the MLflow run that the train, evaluate and publish stages log to."""

from datetime import date
from pathlib import Path

from prefect.runtime import flow_run
from tickercast.tasks.retries import stage

from tickercast.forecast import run_summary_markdown
from tickercast.ingest import IngestResult
from tickercast.model import ModelConfig
from tickercast.settings import Settings
from tickercast.tracking import Champion, Tracker
from tickercast.windows import TrainingSet


@stage(retries=3, backoff_seconds=5)
def start_tracking_run(
    training: TrainingSet,
    config: ModelConfig,
    ingested: IngestResult,
    settings: Settings,
    parent_run_id: str | None = None,
) -> str:
    """Open the ticker's MLflow run with its parameters, data hash and quality report."""
    spec = training.spec
    params = {
        "source": ingested.source,
        "window": spec.window,
        "horizons": spec.horizons,
        "target": spec.target,
        "features": ",".join(spec.feature_names),
        "holdout": spec.holdout,
        "calibration_fraction": spec.calibration_fraction,
        "sessions": len(training.prices),
        "gate_margin": settings.gate_margin,
        **training.split.sessions(training.prices["session"].dt.date.to_numpy()),
        **config.as_params(),
    }
    tags = {
        "data_sha256": training.data_sha256,
        "prefect_flow_run_id": str(flow_run.get_id()),
        "source": ingested.source,
        # The manifest record of the ingest this run trained on.
        "ingest_id": ingested.ingest_id,
        "ingest_data_sha256": ingested.data_sha256,
    }
    tracker = Tracker(settings)
    run_id = tracker.start_run(
        training.ticker, training.as_of, tags, params, parent_run_id=parent_run_id
    )
    if ingested.quality_report is not None:
        tracker.log_file(run_id, Path(ingested.quality_report), "quality")
    return run_id


@stage(retries=3, backoff_seconds=5)
def end_tracking_run(run_id: str, succeeded: bool, settings: Settings) -> None:
    """Close the ticker's MLflow run as FINISHED or FAILED."""
    Tracker(settings).end_run(run_id, succeeded)


@stage(retries=3, backoff_seconds=5)
def load_champion(ticker: str, settings: Settings) -> Champion | None:
    """Load the ticker's registered champion (alias `champion`), if there is one."""
    return Tracker(settings).load_champion(ticker)


@stage(retries=3, backoff_seconds=5)
def start_parent_run(tickers: list[str], as_of: date | None, settings: Settings) -> str:
    """Open the MLflow run that groups this flow run's ticker runs."""
    name = f"daily forecast as of {as_of or 'the latest session'}: {', '.join(tickers)}"
    tags = {
        "prefect_flow_run_id": str(flow_run.get_id()),
        "prefect_flow_run_name": flow_run.get_name(),
    }
    return Tracker(settings).start_parent_run(name, tags)


@stage(retries=3, backoff_seconds=5)
def end_parent_run(run_id: str, rows: list[tuple[str, str, str]], settings: Settings) -> None:
    """Close the flow run's MLflow run with its per-ticker summary as its description."""
    tracker = Tracker(settings)
    published = sum(status == "published" for _, status, _ in rows)
    tracker.log_metrics(
        run_id, {"tickers_published": published, "tickers_failed": len(rows) - published}
    )
    tracker.set_tags(run_id, {"mlflow.note.content": run_summary_markdown(rows)})
    tracker.end_run(run_id, succeeded=published == len(rows))
