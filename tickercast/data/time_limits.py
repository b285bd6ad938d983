"""How long a call to a price source, one attempt of a stage, and a whole flow run may
take before they fail; and how a flow that ran out of time stops its tickers.

A limit ends a hang, never a slow run that works: each default is many times the
durations measured on the 2-core machine (benchmarks/universe_timing.py, S&P 500
members, 10 epochs on the whole history since 1999), and every one is settable. A
stage that times out is retried as its other failures are.

Stages run in worker threads, where Python cannot interrupt a blocking call (a read
from a hung network mount, a socket that never answers), so a stage's limit alone
cannot end one: a price source is called in a thread of its own that is abandoned
after `source_call` seconds (`call_within`), and a flow that ran out of time sets
`STOP`, which fails each ticker's next stage at once instead of running it.
"""

import contextvars
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from tickercast.errors import InputError, SourceUnavailableError

T = TypeVar("T")
HOUR = 3600.0

# One attempt of each stage, in seconds. Measured maxima on the 2-core machine
# (serial, 10 epochs) are in the comments; a stage not named here gets DEFAULT_STAGE.
STAGE_SECONDS: dict[str, float] = {
    "ingest_prices": 900.0,  # a folder: 0.1 s; Yahoo (unreachable here): its own requests
    "build_windows": 600.0,  # 0.05 s
    "train_model": 2 * HOUR,  # a full fit: 37 s; 100 epochs would be about 6 min
    "evaluate_model": 900.0,  # 1 s
    "publish_forecast": 900.0,  # 5 s (the first log_model of a process: +2 s)
    "train_global_model": 6 * HOUR,  # 3 to 6 s per universe ticker: 480 in under an hour
    "backtest_ticker": 6 * HOUR,  # 5 folds, each a full fit
}
DEFAULT_STAGE = 900.0  # MLflow and file stages: under 1 s each
# A whole flow run: a first run trains every network from scratch, about 37 s a
# ticker on the 30-member run, so 480 tickers serially would take about 5 hours (an
# extrapolation); a wedged run must still end well before the next evening's, which
# the deployment queues behind it.
DEFAULT_FLOW = 10 * HOUR
# One request to a price source: Yahoo answers in seconds, a local file in
# milliseconds; a network mount that stopped answering never does.
DEFAULT_SOURCE_CALL = 120.0

# Set when a flow run has run out of time: each ticker's next stage fails at once.
STOP = threading.Event()


class Stopped(RuntimeError):
    """The flow run ran out of time: the stage was not started. Never retried."""


def refuse_when_out_of_time(what: str) -> None:
    """Raise `Stopped` for `what` once the flow run is out of time.

    A function, not `STOP` itself, is what stage wrappers refer to: Dask pickles a
    wrapper with what it refers to, and an event's lock cannot be pickled.
    """
    if STOP.is_set():
        raise Stopped(f"{what} not started: the flow run ran out of time")


@dataclass(frozen=True)
class TimeLimits:
    """Time limits in seconds.

    Attributes:
        source_call: one request to a price source (`TICKERCAST_SOURCE_TIMEOUT`, 120).
        stages: one attempt of a stage, by stage name; others get `DEFAULT_STAGE`
            (`TICKERCAST_STAGE_TIMEOUTS="train_model=10800,ingest_prices=600"`).
        flow: a whole flow run (`TICKERCAST_FLOW_TIMEOUT`, 36000: 10 hours).
    """

    source_call: float = DEFAULT_SOURCE_CALL
    stages: Mapping[str, float] = field(default_factory=lambda: dict(STAGE_SECONDS))
    flow: float = DEFAULT_FLOW

    def stage(self, name: str) -> float:
        """The limit of one attempt of the stage `name`."""
        return self.stages.get(name, DEFAULT_STAGE)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "TimeLimits":
        """The limits the environment sets, the defaults elsewhere.

        Raises:
            InputError: a limit that is not a positive number of seconds, or an
                unknown stage, named.
        """
        stages = dict(STAGE_SECONDS)
        text = env.get("TICKERCAST_STAGE_TIMEOUTS") or ""
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, seconds = item.partition("=")
            stages[name.strip()] = _seconds(f"TICKERCAST_STAGE_TIMEOUTS {item!r}", seconds)
        return cls(
            source_call=_seconds(
                "TICKERCAST_SOURCE_TIMEOUT",
                env.get("TICKERCAST_SOURCE_TIMEOUT"),
                DEFAULT_SOURCE_CALL,
            ),
            stages=stages,
            flow=_seconds(
                "TICKERCAST_FLOW_TIMEOUT", env.get("TICKERCAST_FLOW_TIMEOUT"), DEFAULT_FLOW
            ),
        )


def _seconds(name: str, text: str | None, default: float | None = None) -> float:
    if not (text or "").strip() and default is not None:
        return default
    try:
        value = float(text or "")
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{name}: a time limit is a positive number of seconds, got {text!r}")
    return value


def call_within(call: Callable[[], T], seconds: float, what: str) -> T:
    """`call()`, or an error once `seconds` have passed or the flow has run out of time.

    The call runs in a daemon thread, abandoned if it never returns: a blocked read
    cannot be interrupted, but it no longer holds up the stage, the flow, or the
    process's exit.

    Args:
        call: the request.
        seconds: how long to wait for it.
        what: names the request in the error, e.g. `AAPL: yfinance`.

    Returns:
        What `call` returned.

    Raises:
        SourceUnavailableError: no answer in time (transient: the stage retries it).
        Stopped: the flow run ran out of time while waiting.
        Exception: whatever `call` raised.
    """
    outcome: dict[str, object] = {}
    done = threading.Event()
    context = contextvars.copy_context()  # the caller's run context, logger, API settings

    def run() -> None:
        try:
            outcome["value"] = context.run(call)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name=f"call {what}", daemon=True).start()
    deadline = time.monotonic() + seconds
    # in slices of a second at most, so that a flow out of time is noticed
    while not done.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
        if STOP.is_set():
            raise Stopped(f"{what}: the flow run ran out of time while waiting for an answer")
        if time.monotonic() >= deadline:
            raise SourceUnavailableError(f"{what} did not answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
