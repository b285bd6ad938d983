"""The retry policy every stage shares, and the decorator that applies it."""

from collections.abc import Callable

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.tasks import exponential_backoff

from tickercast.errors import InputError


def retry_unless_input_error(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry transient failures (network, rate limits, a busy server), never bad input."""
    return not isinstance(state.data, InputError)


def stage(retries: int, backoff_seconds: float) -> Callable[[Callable], Task]:
    """A pipeline stage: a task retried with exponential backoff, except on bad input.

    Args:
        retries: how many times a failed run is retried.
        backoff_seconds: the first delay; each later one doubles.

    Returns:
        The task decorator. Results are not cached yet: inputs are arrays and models,
        which Prefect should not hash.
    """
    return task(
        retries=retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=backoff_seconds),
        retry_condition_fn=retry_unless_input_error,
        cache_policy=NO_CACHE,
    )
