"""The retry policy every stage shares, and the decorator that applies it."""

import errno
import functools
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from prefect import Task, task
from prefect.cache_policies import NO_CACHE, CachePolicy
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

from tickercast.data.time_limits import Stopped, TimeLimits, refuse_when_out_of_time
from tickercast.errors import InputError, SourceUnavailableError

# The time limits of this process's stages and flows (the CLI checks the same
# variables with the other settings before anything is imported).
LIMITS = TimeLimits.from_env(os.environ)


class _RoutineLines(logging.Filter):
    """Keep a run's log for what tickercast did: one line per stage and ticker saying
    what it did, every warning and failure. Left out, at every handler (the UI too):

    - Prefect's routine lines at INFO, for each of a ticker's ten task runs and the flow
      run: "Finished in state Completed()", "Running hook '_stage_ended' ...", "Hook
      '_stage_ended' finished running successfully", "Beginning flow run ..." (75 of a
      two-ticker run's 87 lines). The run's states show in the UI anyway; a run that
      fails or retries still logs it, at WARNING and above or as a retry.
    - the warning, at every stage run in a worker thread, that its timeout cannot
      interrupt a blocking call: tickercast bounds those calls itself (`time_limits`).
    """

    ROUTINE = re.compile(r"^(Finished in state (Completed|Cached)|Running hook |Hook '|Beginning )")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno <= logging.INFO and self.ROUTINE.match(message):
            return False
        return "but the task is running in a worker thread" not in message


for _logger in ("prefect.task_runs", "prefect.flow_runs"):
    logging.getLogger(_logger).addFilter(_RoutineLines())

STAGE_NOTE = "stage: "
# The ticker whose stages run in this context. Not a Prefect tag: a tagged task run
# checks tag concurrency limits on the server first, which cost ~0.4 s a run here.
_ticker: ContextVar[str | None] = ContextVar("ticker", default=None)
# Told `(stage, ticker, state)` when a stage run of this process ends (`stage_progress`).
StageListener = Callable[[str, str | None, State], None]
_listeners: list[StageListener] = []


def retry_unless_input_error(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry transient failures (network, rate limits, a busy server, a stage attempt
    out of time), never bad input, a full disk, nor a flow run out of time."""
    return not isinstance(state.data, InputError | Stopped) and not _disk_full(state.data)


def retry_if_source_unavailable(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry only what waiting can fix: a rate limit (HTTP 429), a network error or a
    timeout; never an unknown ticker, bad data, a full disk or a bug."""
    return isinstance(state.data, SourceUnavailableError | OSError) and not _disk_full(state.data)


def _disk_full(error: object) -> bool:
    # minutes of backoff rarely free a disk: the run fails at once and says where
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def stages_of(ticker: str) -> Iterator[None]:
    """Stage runs started inside are named `stage-TICKER`, e.g. `train_model-AAPL`."""
    token = _ticker.set(ticker)
    try:
        yield
    finally:
        _ticker.reset(token)


@contextmanager
def stage_progress(listener: StageListener) -> Iterator[None]:
    """Tell `listener` of every stage run that ends in this process while inside:
    completed (cached included) or failed for good. Task state hooks call it, so a
    progress display never reads Prefect's log wording."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def _stage_ended(task: Task, task_run: TaskRun, state: State) -> None:
    for listener in list(_listeners):
        listener(task.name, _ticker.get(), state)


def run_name(stage_name: str) -> str:
    """`stage-TICKER` inside `stages_of(TICKER)`, else the stage's name."""
    ticker = _ticker.get()
    return f"{stage_name}-{ticker}" if ticker else stage_name


def failed_stage(error: BaseException) -> str | None:
    """The stage an exception escaped from, as `stage` noted it."""
    notes = [note for note in getattr(error, "__notes__", []) if note.startswith(STAGE_NOTE)]
    return notes[-1].removeprefix(STAGE_NOTE) if notes else None


def stage(
    retries: int,
    backoff_seconds: float,
    cache_policy: CachePolicy = NO_CACHE,
    cache_expiration: timedelta | None = None,
    retry_condition: Callable[[Task, TaskRun, State], bool] = retry_unless_input_error,
) -> Callable[[Callable], Task]:
    """A pipeline stage: a task retried with exponential backoff, except on bad input,
    each attempt within its time limit (`TimeLimits.stage`, read from the environment
    when the stages are imported), and not started once the flow is out of time.

    An exception leaving the stage carries a note naming it, so that a failed
    ticker's report says where it failed.

    Args:
        retries: how many times a failed run is retried.
        backoff_seconds: the first delay; each later one doubles.
        cache_policy: what makes two runs the same (default: never cached; stages
            whose inputs are arrays and models should not be hashed). A cached
            stage's results are persisted.
        cache_expiration: how long a cached result is reused.
        retry_condition: which failures are retried (default: all but bad input).

    Returns:
        The task decorator.
    """

    def decorate(function: Callable) -> Task:
        @functools.wraps(function)
        def noted(*args, **kwargs):
            try:
                refuse_when_out_of_time(function.__name__)
                return function(*args, **kwargs)
            except Exception as error:
                if failed_stage(error) is None:
                    error.add_note(STAGE_NOTE + function.__name__)
                raise

        return task(
            retries=retries,
            retry_delay_seconds=exponential_backoff(backoff_factor=backoff_seconds),
            retry_condition_fn=retry_condition,
            # a partial of a module function: pickled by reference to Dask workers
            task_run_name=functools.partial(run_name, function.__name__),
            cache_policy=cache_policy,
            cache_expiration=cache_expiration,
            persist_result=cache_policy is not NO_CACHE,
            on_completion=[_stage_ended],
            on_failure=[_stage_ended],
            timeout_seconds=LIMITS.stage(function.__name__),
        )(noted)

    return decorate
