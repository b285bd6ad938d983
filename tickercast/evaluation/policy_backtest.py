"""Replaying retrain policies evening by evening: what each would have forecast, and
what its training would have cost (`benchmarks/retrain_policy.py` compares them).

A replay walks the sessions `first`..`last` as the daily run would have, each evening
as of its session alone: the policy plans the LSTM's training from the previous
evening's network (`plan_training`; the first evening has none and trains afresh),
`fit_candidates` fits everything on the prices up to the session, and the LSTM
forecasts from the session (the latest origin) with its intervals recalibrated as
published. The forecasts are then scored against the prices that followed, which
the replay is given but no evening sees.

Policies replay side by side and share an evening's fit wherever their networks are
the same: a full retrain as of a session is the same whatever came before it
(training is seeded and deterministic), and so is a fine-tune or a reuse of one same
network. Each shared fit is run and timed once, and counted by every policy that
made it, so that the policies' costs and forecasts differ only where their plans do.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec, realized_volatility
from tickercast.errors import InputError
from tickercast.evaluation.scores import Scored, mase_scales
from tickercast.models.fitting import fit_candidates, recalibrated
from tickercast.models.forecasters import LSTMForecaster
from tickercast.models.network_config import ModelConfig
from tickercast.models.retraining import (
    LatestNetwork,
    RetrainPolicy,
    Training,
    TrainingPlan,
    plan_training,
)


@dataclass(frozen=True)
class EveningFit:
    """What one evening's fit gave; shared by every policy whose plan made the same fit.

    Attributes:
        forecaster: the LSTM fitted (or reused) that evening.
        lstm_fit_seconds: the Keras fit's wall time (0 when the network was reused).
        fit_seconds: the wall time of the whole `fit_candidates` (the LSTM, the
            baselines, the volatility models and every calibration).
        forecast: (H,) the LSTM's cumulative log-return forecasts from the session.
        bounds: `{level: (lower, upper)}`, (H,) each, around them, in log returns, with
            the intervals recalibrated as published (`recalibrated`).
        scales: (H,) the MASE denominators of that evening's fit origins.
    """

    forecaster: LSTMForecaster
    lstm_fit_seconds: float
    fit_seconds: float
    forecast: np.ndarray
    bounds: dict[float, tuple[np.ndarray, np.ndarray]]
    scales: np.ndarray


@dataclass(frozen=True)
class Evening:
    """One evening of a policy's replay: what its plan was, and what the fit gave."""

    session: date
    plan: TrainingPlan
    fit: EveningFit

    def latest(self) -> LatestNetwork:
        """The network as the next evening's plan sees it (the tracking store's latest)."""
        return LatestNetwork(
            self.fit.forecaster,
            model_id=f"replayed as of {self.session}",
            as_of=self.session,
            full_as_of=self.plan.full_as_of,
        )


@dataclass(frozen=True)
class PolicyReplay:
    """One policy's evenings and the LSTM's forecasts from them, scored.

    Attributes:
        ticker: the symbol.
        policy: the retrain policy replayed.
        evenings: one per session, oldest first.
        scored: the forecasts from each evening's session (one origin per evening),
            against the prices that followed, in prices (`Scored.build`).
    """

    ticker: str
    policy: RetrainPolicy
    evenings: tuple[Evening, ...]
    scored: Scored

    @property
    def trainings(self) -> list[Training]:
        """What each evening did to the LSTM."""
        return [evening.plan.training for evening in self.evenings]

    @property
    def lstm_fit_seconds(self) -> float:
        """Keras fit seconds per evening, on average."""
        return float(np.mean([evening.fit.lstm_fit_seconds for evening in self.evenings]))

    @property
    def fit_seconds(self) -> float:
        """`fit_candidates` seconds per evening, on average."""
        return float(np.mean([evening.fit.fit_seconds for evening in self.evenings]))

    @property
    def rmse_ratios(self) -> np.ndarray:
        """(H,) the LSTM's RMSE over naive's (zero log return) per horizon."""
        return np.array([row["rmse_ratio"] for row in self.scored.metrics])

    def coverage(self, level: float) -> np.ndarray:
        """(H,) the share of outcomes inside the `level` intervals, per horizon."""
        return np.array([row[f"coverage_{round(level * 100)}"] for row in self.scored.metrics])

    @property
    def squared_errors(self) -> np.ndarray:
        """(n, H) each evening's squared forecast error per horizon, in prices (the
        per-day losses behind `rmse_ratios`, for paired comparisons)."""
        scored = self.scored
        return (scored.current[:, None] * (np.exp(scored.actual) - np.exp(scored.forecast))) ** 2

    def interval_scores(self, level: float) -> np.ndarray:
        """(n, H) each evening's interval (Winkler) score at `level`, in prices."""
        return self.scored.interval_scores(level)


def replay_policies(
    history: History,
    ticker: str,
    spec: WindowSpec,
    config: ModelConfig,
    policies: Sequence[RetrainPolicy],
    first: date,
    last: date,
) -> dict[RetrainPolicy, PolicyReplay]:
    """Replay each policy over the sessions `first`..`last`, one evening at a time.

    Args:
        history: the ticker's history, covering the sessions before `first` and the
            `spec.horizons` sessions after `last`.
        ticker: the symbol.
        spec: windows and split.
        config: the LSTM's hyperparameters (`warm_start_epochs` for a fine-tune).
        policies: the policies to replay.
        first: the first evening's session (or the first session after it).
        last: the last evening's session (or the last session before it).

    Returns:
        Each policy's replay.

    Raises:
        InputError: no session between `first` and `last`, or the prices end before
            the last evening's targets.
        InsufficientHistoryError: too few sessions before `first` for the split.
    """
    sessions = history.prices["session"].dt.date.to_numpy()
    positions = np.flatnonzero((sessions >= first) & (sessions <= last))
    if len(positions) == 0:
        raise InputError(f"{ticker}: no session from {first} to {last}")
    if positions[-1] + spec.horizons >= len(history):
        raise InputError(
            f"{ticker}: the prices end on {sessions[-1]}, before the targets of "
            f"{sessions[positions[-1]]} {spec.horizons} sessions ahead"
        )
    evenings: dict[RetrainPolicy, list[Evening]] = {policy: [] for policy in policies}
    for position in positions:
        session, known = sessions[position], history.until(position)
        # This evening's fits by what they trained from: the previous evening's networks
        # are alive (the evenings hold them), so their ids name them.
        fits: dict[tuple[Training, int], EveningFit] = {}
        for policy, done in evenings.items():
            latest = done[-1].latest() if done else None
            plan = plan_training(latest, ticker, session, spec, policy)
            key = (plan.training, id(plan.start_from))
            if key not in fits:
                fits[key] = _fit_evening(known, ticker, spec, config, plan)
            done.append(Evening(session, plan, fits[key]))
    return {
        policy: PolicyReplay(ticker, policy, tuple(done), _scored(done, history, positions, spec))
        for policy, done in evenings.items()
    }


def _fit_evening(
    history: History,
    ticker: str,
    spec: WindowSpec,
    config: ModelConfig,
    plan: TrainingPlan,
) -> EveningFit:
    """Fit as of the history's last session following `plan`; forecast from it."""
    started = time.perf_counter()
    fitted = fit_candidates(history, ticker, spec, config, plan)
    seconds = time.perf_counter() - started
    published = recalibrated(fitted.candidates["lstm"], history, fitted.split, spec)
    forecast, bounds = published.forecast(history, np.array([len(history) - 1]))
    return EveningFit(
        forecaster=published.forecaster,
        lstm_fit_seconds=fitted.trained.fit_seconds,
        fit_seconds=seconds,
        forecast=forecast[0],
        bounds={level: (lower[0], upper[0]) for level, (lower, upper) in bounds.items()},
        scales=mase_scales(history, fitted.split.fit, spec.horizons),
    )


def _scored(
    evenings: list[Evening], history: History, positions: np.ndarray, spec: WindowSpec
) -> Scored:
    """The evenings' forecasts, one origin each, against what followed."""
    fits = [evening.fit for evening in evenings]
    levels = fits[0].bounds
    return Scored.build(
        "lstm",
        history.adjusted[positions],
        np.stack([fit.forecast for fit in fits]),
        history.targets(positions, spec.horizons),
        {
            level: tuple(np.stack([fit.bounds[level][side] for fit in fits]) for side in (0, 1))
            for level in levels
        },
        np.stack([fit.scales for fit in fits]),
        realized_volatility(history.returns, positions, spec.volatility_lookback),
    )


@dataclass(frozen=True)
class BootstrapInterval:
    """A statistic of paired differences, with its percentile bootstrap interval."""

    estimate: float
    lower: float
    upper: float

    @property
    def above_zero(self) -> bool:
        """The whole interval is above 0: with differences taken as worse minus better
        (a loss minus the reference's), the difference is beyond noise."""
        return self.lower > 0


def paired_bootstrap(
    differences: np.ndarray,
    statistic: Callable[..., np.ndarray],
    resamples: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapInterval:
    """How far a statistic of paired differences (one per ticker, say) moves when the
    pairs are resampled with replacement: the noise a comparison of two policies on
    the same tickers has to beat.

    Args:
        differences: (n,) one difference per pair, e.g. a policy's rmse_ratio minus
            the reference policy's on the same ticker.
        statistic: reduces an array along `axis`, e.g. `np.mean` or `np.median`.
        resamples: bootstrap resamples.
        seed: seeds the resampling, so that a rerun gives the same interval.
        confidence: the interval's coverage.

    Returns:
        The statistic of the differences and its percentile interval.
    """
    differences = np.asarray(differences, dtype="float64")
    draws = np.random.default_rng(seed).integers(0, len(differences), (resamples, len(differences)))
    values = statistic(differences[draws], axis=1)
    tail = (1 - confidence) / 2 * 100
    lower, upper = np.percentile(values, [tail, 100 - tail])
    return BootstrapInterval(float(statistic(differences)), float(lower), float(upper))
