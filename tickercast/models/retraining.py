"""The retraining policy, in one place: on a given evening, whether a ticker's LSTM is
trained from scratch, fine-tuned from its latest trained network, or that network is
reused as it is.

The latest trained network is the one the ticker's last run trained (every trained
LSTM is kept as an MLflow LoggedModel, published or not), not the champion: the gate
rarely lets an LSTM beat naive, so a policy that warm-started only from champions
would retrain from scratch nearly every evening.

A full retrain is due when the period of the cadence has changed since the full
retrain that the latest network descends from; in between, the policy either
fine-tunes the latest network for a few epochs or reuses it. Periods are counted in
weekdays and each ticker's are shifted by a phase of its own, so a universe's full
retrains spread evenly over the evenings (about 1 in 21 of the tickers each evening
for `monthly`) instead of all landing on one evening that runs for hours. The
default is chosen by measurement (`benchmarks/retrain_policy.py`).
"""

import zlib
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from tickercast.data.windows import WindowSpec
from tickercast.errors import InputError

if TYPE_CHECKING:  # settings read the policy without loading TensorFlow
    from tickercast.models.forecasters import LSTMForecaster
    from tickercast.models.global_network import GlobalNetwork


# Weekdays are counted from a Monday: a ticker's periods are the same on every machine.
_FIRST_WEEKDAY = date(2000, 1, 3)


class Cadence(StrEnum):
    """How often the network is trained from scratch."""

    DAILY = "daily"
    WEEKLY = "weekly"  # every 5 weekdays
    MONTHLY = "monthly"  # every 21 weekdays, about a month of sessions
    NEVER = "never"  # only when no earlier network can be used

    @property
    def weekdays(self) -> int | None:
        """The period's length in weekdays (None: a period that never ends)."""
        return {Cadence.DAILY: 1, Cadence.WEEKLY: 5, Cadence.MONTHLY: 21}.get(self)

    def period(self, session: date, ticker: str) -> int | None:
        """The ticker's period that `session` falls in: a full retrain is due when it
        changes. The ticker's phase (crc32 of its symbol) shifts its periods, so each
        evening starts the periods of about 1 in `weekdays` of a universe's tickers.

        Args:
            session: a weekday.
            ticker: the symbol.

        Returns:
            The period's number; None for `never`.
        """
        if self.weekdays is None:
            return None
        phase = zlib.crc32(ticker.encode()) % self.weekdays
        return (int(np.busday_count(_FIRST_WEEKDAY, session)) + phase) // self.weekdays


class Training(StrEnum):
    """What is done to the LSTM on one evening."""

    FULL = "full"  # a fresh network trained from scratch
    FINE_TUNE = "fine_tune"  # the latest network, trained a few epochs more
    REUSE = "reuse"  # the latest network as it is
    GLOBAL = "global"  # the universe's network (`--model global`), on the ticker's scalers


@dataclass(frozen=True)
class RetrainPolicy:
    """When the LSTM is trained from scratch, and what happens on the evenings between.

    Attributes:
        cadence: how often a full retrain happens.
        between: `Training.FINE_TUNE` or `Training.REUSE` on the other evenings.
    """

    cadence: Cadence
    between: Training

    def __post_init__(self) -> None:
        if self.between not in (Training.FINE_TUNE, Training.REUSE):
            raise InputError("between full retrains a policy fine-tunes or reuses")

    @property
    def name(self) -> str:
        """`monthly+fine_tune`, `daily`, ...: how settings and reports name it."""
        if self.cadence is Cadence.DAILY:  # nothing happens between daily full retrains
            return str(self.cadence)
        return f"{self.cadence}+{self.between}"

    @classmethod
    def parse(cls, text: str) -> "RetrainPolicy":
        """A policy from its name (`TICKERCAST_RETRAIN`).

        Raises:
            InputError: an unknown cadence or in-between step, named.
        """
        cadence, _, between = text.strip().lower().partition("+")
        try:
            return cls(Cadence(cadence), Training(between or Training.FINE_TUNE))
        except ValueError:
            known = ", ".join(p.name for p in POLICIES)
            raise InputError(f"unknown retrain policy {text!r}: use one of {known}") from None


@dataclass(frozen=True)
class LatestNetwork:
    """A ticker's most recently trained LSTM, as the tracking store keeps it.

    Attributes:
        forecaster: the network with its scalers; None when its files cannot be read by
            this version (`unreadable` says why): the next evening then trains afresh.
        model_id: its MLflow LoggedModel id.
        as_of: the session it was trained as of.
        full_as_of: the session of the full retrain it descends from.
        unreadable: why its files could not be read, if they could not.
    """

    forecaster: "LSTMForecaster | None"
    model_id: str
    as_of: date
    full_as_of: date
    unreadable: str | None = None


@dataclass(frozen=True)
class TrainingPlan:
    """What to do to the LSTM this evening, and why.

    Attributes:
        training: full, fine-tune, reuse, or the global network.
        start_from: the network fine-tuned or reused, with the scalers its weights
            need; None for a full retrain and the global network.
        full_as_of: the session of the full retrain today's network descends from.
        reason: one line for the run's log and tags.
        global_network: the universe's network, for `Training.GLOBAL`.
        logged_as: the LoggedModel that already holds tonight's network (the one
            reused, or the global network); None when tonight trains a new one. A
            network is logged once, not again on every evening that reuses it.
    """

    training: Training
    start_from: "LSTMForecaster | None"
    full_as_of: date
    reason: str
    global_network: "GlobalNetwork | None" = None
    logged_as: str | None = None

    @classmethod
    def full(cls, as_of: date, reason: str = "full retrain") -> "TrainingPlan":
        """Train a fresh network as of `as_of`."""
        return cls(Training.FULL, None, as_of, reason)

    def epochs(self, full_epochs: int, fine_tune_epochs: int) -> int:
        """The epochs to train: all of them, the fine-tune's few, or none (reuse)."""
        return {
            Training.FULL: full_epochs,
            Training.FINE_TUNE: fine_tune_epochs,
            Training.REUSE: 0,
            Training.GLOBAL: 0,
        }[self.training]


def plan_training(
    latest: LatestNetwork | None,
    ticker: str,
    as_of: date,
    spec: WindowSpec,
    policy: RetrainPolicy,
) -> TrainingPlan:
    """Decide this evening's training.

    A full retrain when there is no usable latest network (none, unreadable, trained
    as of today or later as in a replay, or on other windows) or when the cadence's
    period changed since the latest network's full retrain; otherwise the policy's
    in-between step on the latest network.

    Args:
        latest: the ticker's latest trained network, if any.
        ticker: the symbol: its phase in the cadence.
        as_of: today's session.
        spec: today's windows.
        policy: the retrain policy.

    Returns:
        The plan.
    """

    if latest is None:
        return TrainingPlan.full(as_of, "no earlier network")
    if latest.forecaster is None:
        return TrainingPlan.full(
            as_of, f"the latest network {latest.model_id} cannot be read: {latest.unreadable}"
        )
    if latest.as_of >= as_of:
        return TrainingPlan.full(
            as_of, f"the latest network was trained as of {latest.as_of}, not before {as_of}"
        )
    if latest.forecaster.preprocessor.spec != spec:
        return TrainingPlan.full(as_of, "the latest network was trained on other windows")
    cadence = policy.cadence
    if cadence.period(latest.full_as_of, ticker) != cadence.period(as_of, ticker):
        return TrainingPlan.full(
            as_of, f"{cadence} full retrain (the last was as of {latest.full_as_of})"
        )
    reused = policy.between is Training.REUSE
    return TrainingPlan(
        policy.between,
        latest.forecaster,
        latest.full_as_of,
        f"{'reused' if reused else 'fine-tuned'} the network trained as of {latest.as_of} "
        f"({latest.model_id})",
        logged_as=latest.model_id if reused else None,
    )


def plan_global(
    model: "GlobalNetwork | None",
    model_id: str | None,
    ticker: str,
    as_of: date,
    spec: WindowSpec,
) -> TrainingPlan:
    """This evening's plan with `--model global`: the latest global network trained
    as of `as_of` or earlier on today's windows, with the ticker's own scalers; never
    a per-ticker fit in its place.

    Args:
        model: the latest global network trained as of `as_of` or earlier, if any.
        model_id: its LoggedModel id.
        ticker: the symbol, for messages.
        as_of: today's session.
        spec: today's windows.

    Returns:
        The plan.

    Raises:
        InputError: no usable global network: the error says what to run.
    """
    remedy = "run `tickercast train-global` (the `global` deployment) first"
    if model is None:
        raise InputError(f"{ticker}: no global model trained as of {as_of} or earlier: {remedy}")
    if model.spec != spec:
        raise InputError(
            f"{ticker}: the global model {model_id} was trained on other windows: {remedy}"
        )
    reason = f"the global network trained as of {model.as_of} on {len(model.tickers)} tickers"
    return TrainingPlan(
        Training.GLOBAL, None, model.as_of, f"{reason} ({model_id})", model, model_id
    )


# The policies the backtest compares (benchmarks/retrain_policy.py).
POLICIES = (
    RetrainPolicy(Cadence.DAILY, Training.FINE_TUNE),
    RetrainPolicy(Cadence.WEEKLY, Training.FINE_TUNE),
    RetrainPolicy(Cadence.WEEKLY, Training.REUSE),
    RetrainPolicy(Cadence.MONTHLY, Training.FINE_TUNE),
    RetrainPolicy(Cadence.MONTHLY, Training.REUSE),
    RetrainPolicy(Cadence.NEVER, Training.REUSE),
)
