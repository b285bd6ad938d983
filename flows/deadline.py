"""What a flow does when its time limit strikes: say where it was, and stop.

Prefect raises the flow's timeout in the flow's own thread; the tickers' stages run
in others, which it cannot interrupt. So the flow sets `STOP` (each ticker's next
stage then fails at once, and a source request being waited for is abandoned), logs
the stage runs that were still running, and lets the timeout fail the run: the
deployment's concurrency slot is released and the next queued run starts.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_client, get_run_logger
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.context import FlowRunContext

from tickercast.tasks.retries import LIMITS
from tickercast.time_limits import STOP


@contextmanager
def stop_when_out_of_time() -> Iterator[None]:
    """Around the flow's work (inside its task runner, so that the runner's exit finds
    the tickers stopping): on the flow's timeout, stop the tickers and log where they
    were."""
    STOP.clear()  # one flow run at a time per process, as workers and the CLI run them
    try:
        yield
    except TimeoutError:
        STOP.set()
        running = running_stages()
        get_run_logger().error(
            "out of time after %g s (TICKERCAST_FLOW_TIMEOUT); still running: %s",
            LIMITS.flow,
            ", ".join(running) or "no stage",
        )
        raise


def running_stages() -> list[str]:
    """The names of this flow run's task runs still running, e.g. `ingest_prices-AAPL`."""
    flow_run_id = FlowRunContext.get().flow_run.id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            task_run_filter=TaskRunFilter(
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.RUNNING]))
            ),
        )
    return sorted(run.name for run in runs if not run.name.startswith("forecast-"))
