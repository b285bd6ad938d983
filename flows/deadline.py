"""A flow run's time limit: when it strikes, say where the run was, and stop it.

Prefect's own flow timeout is delivered to the flow's thread, which is then waiting
for the tickers' threads: a ticker blocked in a system call (a hung mount, a socket
that never answers) would hold it for ever (benchmarks/prefect_flow_timeout.py: a
flow limited to 3 s returned after its 30 s task). So the limit is a timer of our
own. When it strikes it logs the stage runs still running and sets `STOP`: each
ticker's next stage fails at once, a source request being waited for is abandoned, a
training stops at its next batch. The flow then ends as a failed run named
`TimedOut`, which releases the deployment's concurrency slot, so the next queued run
starts.
"""

import threading
import time
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
from prefect.states import Failed, State

from tickercast.data.time_limits import STOP


class FlowTimeLimit:
    """The running flow's limit: how long is left, and what happened when it struck."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.where: str | None = None  # the stage runs still running when it struck
        self._flow_run_id = FlowRunContext.get().flow_run.id
        self._logger = get_run_logger()

    def remaining(self) -> float:
        """Seconds left (0 once the limit struck)."""
        return max(0.0, self.ends - time.monotonic())

    def strike(self) -> None:
        """Stop the run's stages, and log where it was."""
        running = running_stages(self._flow_run_id)
        self.where = ", ".join(running) or "no stage"
        STOP.set()
        self._logger.error("%s; still running: %s", self.message(), self.where)

    def message(self) -> str:
        return f"out of time after {self.seconds:g} s (TICKERCAST_FLOW_TIMEOUT)"

    def outcome(self, state: State | None) -> State | None:
        """The flow's final state: `state`, or a failed `TimedOut` one if it struck."""
        if self.where is None:
            return state
        return Failed(name="TimedOut", message=f"{self.message()}; was running: {self.where}")


@contextmanager
def time_limit(seconds: float) -> Iterator[FlowTimeLimit]:
    """Inside a flow: its work, under a limit of `seconds`; the stages may run again
    once the block is left (the run's summary and parent run are recorded)."""
    limit = FlowTimeLimit(seconds)
    timer = threading.Timer(seconds, limit.strike)
    timer.daemon = True
    STOP.clear()  # one flow run at a time per process, as workers and the CLI run them
    timer.start()
    try:
        yield limit
    finally:
        timer.cancel()
        # a strike already under way (it asks the API what is running) would otherwise
        # set STOP after the clear below, and stop every later training in this process
        timer.join()
        STOP.clear()


def running_stages(flow_run_id) -> list[str]:
    """The names of the flow run's stage runs still running, e.g. `ingest_prices-AAPL`."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            task_run_filter=TaskRunFilter(
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.RUNNING]))
            ),
        )
    return sorted(run.name for run in runs if not run.name.startswith("forecast-"))
