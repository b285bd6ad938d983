"""A run's parameters, defined once: their defaults, their meaning and their validation.

The CLI's options, the flows' signatures and the deployments' parameters are derived
from `RunRequest` and checked against it by the tests, so that a default changed
here changes everywhere, and a bad value is refused here, in one line that names
it, before any server starts.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from tickercast.data.calendar import session_on_or_before
from tickercast.data.sources import check_source
from tickercast.data.tickers import normalize_ticker, read_universe
from tickercast.data.windows import TARGETS, WindowSpec
from tickercast.errors import InputError
from tickercast.models.network_config import ModelConfig

ENGINES = ("serial", "dask")
MODELS = ("lstm", "global")


def _parameter(default: Any, help: str, **options: Any) -> Any:
    """A field with the help text its CLI option shows (`options`: argparse extras)."""
    return field(default=default, metadata={"help": help, **options})


@dataclass(frozen=True)
class RunRequest:
    """Everything a user may ask of a run: which tickers, which data, which model.

    Each command and flow takes the subset of these that applies to it
    (`COMMAND_PARAMETERS`); a field means the same thing wherever it appears.
    """

    # Yahoo symbols; validated before any of them becomes a path or a key.
    tickers: tuple[str, ...] = _parameter(("AAPL",), "comma-separated Yahoo symbols")
    # A watch-list file that replaces `tickers`; read when the run starts, so a
    # scheduled deployment picks up edits without being redeployed.
    universe: str | None = _parameter(
        None,
        "a file of tickers: one per line (# comments), or a CSV with a ticker column",
        metavar="FILE",
    )
    # Where prices come from: live Yahoo, the offline sample, or a folder of files.
    source: str = _parameter("yfinance", "yfinance, sample, or a folder of <TICKER>.csv files")
    # The last session a run may see: replays and backfills; None is the latest stored.
    as_of: date | None = _parameter(None, "last session to use (replays); default: the latest")
    # The first session of the history models train on; None is all of it.
    start: date | None = _parameter(None, "first session of the history to train on")
    # The last session of a backtested history; None is the latest stored.
    end: date | None = _parameter(None, "last session of the backtested history")
    # A backfill replays as_of over every session from `first_as_of` to `last_as_of`.
    first_as_of: date | None = _parameter(None, "first as_of to replay", flag="--from")
    last_as_of: date | None = _parameter(None, "last as_of to replay", flag="--to")
    # The most training epochs (early stopping usually ends sooner).
    epochs: int = _parameter(ModelConfig.epochs, "most training epochs")
    # Sessions per input window: the tutorial's 60.
    window: int = _parameter(WindowSpec.window, "sessions per input window")
    # Sessions ahead, each forecast directly.
    horizons: int = _parameter(WindowSpec.horizons, "sessions ahead to forecast")
    # Which network the daily run scores as its new model: the ticker's own LSTM (trained
    # per the retrain policy), or the universe's global network (`train-global`).
    model: str = _parameter("lstm", "the ticker's own LSTM, or the global network", choices=MODELS)
    # `returns` forecasts log returns; `price`, the tutorial's price levels, for comparison.
    target: str = _parameter(WindowSpec.target, "what the network forecasts", choices=TARGETS)
    # Walk-forward folds of `WindowSpec.holdout` sessions each.
    folds: int = _parameter(5, "walk-forward folds")
    # In a backtest, fine-tune the previous fold's network instead of retraining.
    warm_start: bool = _parameter(False, "fine-tune the previous fold's network")
    # An ingest that replaces a ticker's stored prices from another source: one home
    # keeps one source per ticker, so without it such a ticker is refused.
    replace_source: bool = _parameter(
        False, "replace stored prices that came from another source (a revision in the manifest)"
    )
    # Where tickers run: one after another here, or in parallel on Dask.
    task_runner: str = _parameter(
        "serial",
        "serial: one ticker after another here; dask: tickers in parallel on Dask",
        choices=ENGINES,
    )
    # An existing Dask scheduler; without it `dask` starts a local cluster.
    dask_address: str | None = _parameter(
        None, "an existing Dask scheduler", metavar="tcp://HOST:PORT"
    )
    # Worker processes of that local cluster (2 when None).
    dask_workers: int | None = _parameter(None, "worker processes of the local Dask cluster (2)")

    def __post_init__(self) -> None:
        object.__setattr__(self, "tickers", tuple(normalize_ticker(t) for t in self.tickers))
        self.ticker_list  # noqa: B018 - reads the universe: a bad file or line is refused now
        check_source(self.source)
        for name in COUNT_FIELDS:
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 1):
                raise InputError(f"{name} must be a positive whole number, got {value!r}")
        if self.target not in TARGETS:
            raise InputError(f"unknown target {self.target!r}: use one of {', '.join(TARGETS)}")
        if self.model not in MODELS:
            raise InputError(f"unknown model {self.model!r}: use {' or '.join(MODELS)}")
        if self.task_runner not in ENGINES:
            raise InputError(
                f"unknown task runner {self.task_runner!r}: use {' or '.join(ENGINES)}"
            )
        if self.dask_address and self.task_runner != "dask":
            raise InputError("dask_address needs task_runner dask")
        if self.dask_address and self.dask_workers:
            raise InputError(
                "dask_workers sizes a local cluster; the one at dask_address has its own"
            )
        self._check_dates()

    def _check_dates(self) -> None:
        today = date.today()
        for name in DATE_FIELDS:
            value = getattr(self, name)
            if value is not None and value > today:
                raise InputError(
                    f"{name} {value} is after today ({today}): no session after today has closed"
                )
        for first, last in (
            ("start", "as_of"),
            ("start", "end"),
            ("start", "first_as_of"),
            ("first_as_of", "last_as_of"),
        ):
            early, late = getattr(self, first), getattr(self, last)
            if early is not None and late is not None and early > late:
                raise InputError(f"{first} {early} is after {last} {late}")

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> "RunRequest":
        """A request from flow or deployment parameters (lists for tickers, dates as text).

        Raises:
            InputError: an unknown parameter or a bad value, named.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(parameters) - known)
        if unknown:
            raise InputError(
                f"unknown parameters {', '.join(unknown)}: use some of {', '.join(sorted(known))}"
            )
        values = dict(parameters)
        if isinstance(values.get("tickers"), str):  # one symbol, not its letters
            values["tickers"] = [values["tickers"]]
        if "tickers" in values:
            values["tickers"] = tuple(values["tickers"])
        for name in DATE_FIELDS:
            if isinstance(values.get(name), str):
                values[name] = parse_date(values[name], name)
        return cls(**values)

    @cached_property
    def ticker_list(self) -> tuple[str, ...]:
        """The tickers to run: the universe file's (read once), or `tickers`."""
        return tuple(read_universe(self.universe)) if self.universe else self.tickers

    @property
    def spec(self) -> WindowSpec:
        return WindowSpec(window=self.window, horizons=self.horizons, target=self.target)

    @property
    def config(self) -> ModelConfig:
        return ModelConfig(epochs=self.epochs)


def parse_date(text: str, name: str) -> date:
    """`YYYY-MM-DD`, or an error naming the parameter and the text."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: not a date (YYYY-MM-DD): {text!r}") from None


# The parameters of each kind, from the annotations (the CLI parses them so).
DATE_FIELDS = tuple(f.name for f in fields(RunRequest) if f.type == date | None)
COUNT_FIELDS = tuple(f.name for f in fields(RunRequest) if f.type in (int, int | None))
DEFAULTS = RunRequest()

# Parameter groups shared by several commands.
_WHICH = ("tickers", "universe", "source")
_MODEL = ("epochs", "window", "horizons", "target")
_RUNNER = ("task_runner", "dask_address", "dask_workers")
# The parameters of each command, in the order the CLI lists them; a flow of the
# same purpose takes exactly these (a test checks the signatures and prefect.yaml).
COMMAND_PARAMETERS: dict[str, tuple[str, ...]] = {
    "run": (*_WHICH, "as_of", "start", *_MODEL, "model", *_RUNNER),
    "ingest": (*_WHICH, "as_of", "replace_source"),
    "backtest": (*_WHICH, "start", "end", "folds", *_MODEL, "warm_start"),
    "backfill": (*_WHICH, "first_as_of", "last_as_of", "start", *_MODEL, "model", *_RUNNER),
    # trains on the stored prices that the daily runs ingest
    "train-global": ("tickers", "universe", "as_of", "start", *_MODEL),
    "status": ("tickers", "universe"),
}
# Parameters a command cannot run without (the others have defaults).
REQUIRED: dict[str, tuple[str, ...]] = {"backfill": ("first_as_of", "last_as_of")}


def run_title(
    flow_name: str,
    parameters: dict[str, Any],
    calendar_for: Callable[[str], str],
    sessions: Iterable[date] = (),
) -> str:
    """A flow run's name that says what it did, e.g. `daily-forecast 2013-02-28: AAPL,
    MSFT` or `backfill 2013-02-01 to 2013-02-28: AAPL`, so that the runs list reads as
    a diary; its MLflow parent run takes the same name. Made from the raw parameters: a
    bad value fails the run, not its name.

    Args:
        flow_name: the flow's name.
        parameters: the flow run's parameters, as given.
        calendar_for: each ticker's exchange calendar, to name an `as_of` by its session
            (the one before, when it is not a session).
        sessions: the as_of sessions the run's tickers used, once known (a run without
            `as_of` uses the latest stored session): they name it instead.

    Returns:
        The name.
    """
    if parameters.get("universe"):
        tickers = []
        who = f"universe {Path(str(parameters['universe'])).name}"
    else:
        tickers = [str(t) for t in parameters.get("tickers") or DEFAULTS.tickers]
        more = f", … (+{len(tickers) - 4})" if len(tickers) > 4 else ""
        who = ", ".join(tickers[:4]) + more
    used = sorted(set(sessions))
    if used:
        when = str(used[0]) if len(used) == 1 else f"{used[0]} to {used[-1]}"
    elif parameters.get("first_as_of") or parameters.get("last_as_of"):
        when = f"{parameters.get('first_as_of') or '…'} to {parameters.get('last_as_of') or '…'}"
    elif parameters.get("end"):
        when = f"to {parameters['end']}"
    elif parameters.get("as_of"):
        when = str(_session(parameters["as_of"], tickers, calendar_for))
    else:
        when = "latest"
    return f"{flow_name} {when}: {who}"


def _session(as_of: Any, tickers: list[str], calendar_for: Callable[[str], str]) -> Any:
    """The session an `as_of` parameter asks for on the first ticker's calendar (the
    default calendar's for a universe), or the value as given when it is not a date."""
    try:
        day = as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of))
        return session_on_or_before(day, calendar_for(tickers[0] if tickers else ""))
    except (InputError, ValueError):
        return as_of


def as_of_note(
    as_of: date | None, tickers: tuple[str, ...], calendar_for: Callable[[str], str]
) -> str | None:
    """One line when `as_of` is not a session of a ticker's calendar (a weekend, a
    holiday): the run is as of the session before, on each calendar.

    Args:
        as_of: the requested as_of, if any.
        tickers: the run's tickers.
        calendar_for: each ticker's exchange calendar.

    Returns:
        The line, or None when `as_of` is a session (or not given).
    """
    if as_of is None:
        return None
    calendars = sorted({calendar_for(ticker) for ticker in tickers})
    moved = {
        calendar: session
        for calendar in calendars
        if (session := session_on_or_before(as_of, calendar)) != as_of
    }
    if not moved:
        return None
    where = ", ".join(f"{session} on {calendar}" for calendar, session in moved.items())
    return f"as_of {as_of} is not a session: the run is as of the session before, {where}"
