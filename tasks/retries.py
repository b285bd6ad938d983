"""The retry policy every stage shares."""

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from tickercast.errors import InputError


def retry_unless_input_error(task: Task, task_run: TaskRun, state: State) -> bool:
    """Retry transient failures (network, rate limits, a busy server), never bad input."""
    return not isinstance(state.data, InputError)
