"""Issue 14: does Prefect's own flow timeout end a flow whose ticker thread is blocked?

A flow with `timeout_seconds=3` submits one task to a `ThreadPoolTaskRunner` (as the
daily flow's serial runner does) that sleeps 30 s, standing for a request that never
returns, and waits for it. Printed: the flow's final state and the seconds until it
returned. With Prefect 3.9.1 here: `TimedOut` after 42.6 s, once the task had
returned. The timeout is delivered to the flow's thread, which is waiting for the
task's. That is why tickercast's flow limit is a timer of its own (flows/deadline.py).

    .venv/bin/python benchmarks/prefect_flow_timeout.py
"""

import time

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

LIMIT, BLOCKED = 3, 30


@task
def blocked() -> None:
    time.sleep(BLOCKED)


@flow(timeout_seconds=LIMIT)
def limited() -> None:
    with ThreadPoolTaskRunner(max_workers=1) as runner:
        runner.submit(blocked, {}).wait()


if __name__ == "__main__":
    started = time.perf_counter()
    state = limited(return_state=True)
    print(
        f"flow limited to {LIMIT} s, its task blocked {BLOCKED} s: {state.name} after "
        f"{time.perf_counter() - started:.1f} s (the temporary server's start included)"
    )
