"""The global network's stage: train it on the universe's stored prices and log it."""

from datetime import date

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from tickercast.data.storage import Store
from tickercast.data.windows import WindowSpec
from tickercast.models.global_network import train_universe
from tickercast.models.network_config import ModelConfig
from tickercast.settings import Settings
from tickercast.tasks.retries import stage
from tickercast.tracking import run_record
from tickercast.tracking.model_store import model_store_for
from tickercast.tracking.runs import runs_for


@stage(retries=1, backoff_seconds=10)
def train_global_model(
    tickers: list[str],
    start: date | None,
    as_of: date | None,
    spec: WindowSpec,
    config: ModelConfig,
    settings: Settings,
) -> str:
    """Train one LSTM on the pooled windows of every ticker; log it as a LoggedModel."""
    store, runs = Store(settings.home), runs_for(settings)
    training = train_universe(store, tickers, start, as_of, spec, config, settings.calendar_for)
    name = f"global network as of {training.model.as_of}"
    run_id = runs.start_parent_run(
        name, {"kind": "global", "prefect_flow_run_id": str(flow_run.get_id())}
    )
    record = run_record.global_training(training, config, spec)
    runs.record(run_id, record)
    model_id = model_store_for(settings).log_global(run_id, training.model, record.metrics)
    runs.end_run(run_id, succeeded=True)
    create_markdown_artifact(key="global-model", markdown=record.tags["mlflow.note.content"])
    for reason in training.skipped.values():
        get_run_logger().warning("left out of the global network: %s", reason)
    return f"{training.summary()}; logged as {model_id}"
