"""Walk-forward backtest: refit as of each fold, forecast the fold, compare with baselines.

Fold k covers the `spec.holdout` origins from a_k on. Everything is fitted on the
prices up to a_k alone (scalers, networks, baselines, conformal intervals
recalibrated as for publishing, and the gate's choice on its own holdout, which
precedes the fold), exactly as the daily run would have been on that day (with
warm starts, the previous fold's scalers are kept with its weights); the fold's
origins are then forecast from their own windows and scored. The folds are
consecutive and expanding, ending at the last origin whose targets are known.

The holdout gate's choice then goes through the shadow gate, as in the daily run.
The LSTM's live record as of a fold is what the daily run would have ledgered by
then: the forecasts one session ahead that earlier folds' LSTMs made on their own
origins, out of sample, whose targets had closed by the fold's first origin. The
first fold has none, as a new ticker has none, so it publishes naive. Both
choices are reported: `published` (both gates, what the daily run publishes) and
`published_holdout` (the holdout gate alone).

The interval gate chooses each fold's published intervals on the same holdout
(`decide_intervals`), before any of the fold's origins is seen; both published
series carry them. Every interval candidate is reported beside the point models.
"""

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from tickercast.data.history import History
from tickercast.data.windows import WindowSpec
from tickercast.evaluation.champion import GateDecision, decide, shadow_gate
from tickercast.evaluation.interval_gate import IntervalDecision, decide_intervals
from tickercast.evaluation.scores import Scored, mase_scales, pooled, score
from tickercast.evaluation.track_record import LiveRecord
from tickercast.models.candidates import INTERVAL_MODELS, POINT_MODELS
from tickercast.models.fitting import fit_candidates, recalibrated
from tickercast.models.network_config import ModelConfig
from tickercast.models.retraining import Training, TrainingPlan

PUBLISHED = ("published", "published_holdout")
MODELS = (*POINT_MODELS, *INTERVAL_MODELS, *PUBLISHED)
# the console's report: the point models' accuracy, per horizon ...
POINT_METRICS = ("rmse_ratio", "mase", "directional_accuracy", "da_pvalue", "dm_pvalue")
# ... and every model's intervals, one session ahead (Christoffersen's test only means
# something there); the report file holds every metric of every model and horizon
INTERVAL_METRICS = (
    "coverage_80",
    "coverage_95",
    "interval_score_80",
    "interval_score_95",
    "kupiec_p_80",
    "kupiec_p_95",
    "christoffersen_p_95",
)


@dataclass(frozen=True)
class Fold:
    """One fold: when it was fitted, what the gates chose, and every model's scores.

    Attributes:
        holdout_decision: the holdout gate's choice (`published_holdout`).
        decision: that choice after the shadow gate (`published`).
        intervals: the interval gate's choice, which both published series carry.
        holdout: the scores the gates chose by: the LSTM's, naive's and every interval
            candidate's on the fold's holdout (before its first origin).
        live: the LSTM's live record the shadow gate was given.
        live_targets: the target session of each of its forecasts, oldest first.
        close_only: why the fold's intervals come from close-only models (`Fitted`).
    """

    number: int
    as_of: date
    first_origin: date
    last_origin: date
    holdout_decision: GateDecision
    decision: GateDecision
    intervals: IntervalDecision
    holdout: dict[str, Scored]
    live: LiveRecord
    live_targets: np.ndarray
    scored: dict[str, Scored]
    fit_seconds: float
    warm_started: bool
    seconds: float
    close_only: str | None = None


@dataclass(frozen=True)
class Backtest:
    """All folds of one ticker's backtest."""

    ticker: str
    spec: WindowSpec
    folds: list[Fold]

    def pooled(self) -> dict[str, Scored]:
        """Every model's scores over all folds together."""
        return {
            name: pooled(name, [fold.scored[name] for fold in self.folds])
            for name in MODELS
            if all(name in fold.scored for fold in self.folds)  # a close-only fold lacks some
        }

    @property
    def close_only(self) -> str | None:
        """Why some folds' intervals come from close-only models, once; None if none do."""
        return next((fold.close_only for fold in self.folds if fold.close_only), None)

    def summary(self) -> str:
        """One line for the run's log: pooled h=1 RMSE ratios and the published coverage."""
        pooled = {name: scored.metrics[0] for name, scored in self.pooled().items()}
        ratios = ", ".join(
            f"{name} {pooled[name]['rmse_ratio']:.3f}"
            for name in ("lstm", "ar", "drift", "published_holdout", "published")
        )
        published, garch = pooled["published"], pooled["garch"]
        return (
            f"{self.ticker}: {len(self.folds)} folds; pooled h=1 RMSE ratio {ratios}; "
            f"published h=1 coverage 80/95 {published['coverage_80']:.2f}/"
            f"{published['coverage_95']:.2f}, interval score 80/95 "
            f"{published['interval_score_80'] / garch['interval_score_80']:.3f}/"
            f"{published['interval_score_95'] / garch['interval_score_95']:.3f} of GARCH's"
        )

    def rows(self) -> list[dict]:
        """Report rows: per model and horizon, pooled (`fold` "all") and per fold."""
        tables = [("all", self.pooled())] + [(fold.number, fold.scored) for fold in self.folds]
        return [
            {
                "ticker": self.ticker,
                "model": name,
                "horizon": h + 1,
                "fold": fold,
                **{key: _finite(value) for key, value in scored[name].metrics[h].items()},
            }
            for fold, scored in tables
            for name in MODELS
            if name in scored  # a close-only ticker has no models of the daily bar
            for h in range(self.spec.horizons)
        ]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass(frozen=True)
class ShadowLedger:
    """The LSTM's scored shadow forecasts one session ahead, oldest first, as the daily
    run ledgers them: each one's target position, and its error and naive's in prices.
    """

    targets: np.ndarray
    errors: np.ndarray
    naive_errors: np.ndarray

    def extended(self, origins: np.ndarray, lstm: Scored) -> "ShadowLedger":
        """The ledger with the LSTM's forecasts at `origins` (scored there) added.

        Args:
            origins: positions of the forecasts' origins, after the ledger's.
            lstm: the LSTM's scores at those origins.

        Returns:
            The longer ledger.
        """
        actual = lstm.current * np.exp(lstm.actual[:, 0])
        forecast = lstm.current * np.exp(lstm.forecast[:, 0])
        return ShadowLedger(
            np.concatenate([self.targets, origins + 1]),
            np.concatenate([self.errors, actual - forecast]),
            np.concatenate([self.naive_errors, actual - lstm.current]),
        )

    def live(self, as_of: int, required: int) -> tuple[LiveRecord, np.ndarray]:
        """The live record a run as of `as_of` could see: the last `required` forecasts
        whose target session had closed by then.

        Args:
            as_of: position of the run's session.
            required: how many forecasts the shadow gate asks for.

        Returns:
            The record, and the target position of each of its forecasts.
        """
        known = np.flatnonzero(self.targets <= as_of)
        last = known[max(len(known) - required, 0) :]  # [-0:] would keep them all
        record = LiveRecord("lstm", self.errors[last], self.naive_errors[last])
        return record, self.targets[last]


def run_backtest(
    history: History,
    ticker: str,
    spec: WindowSpec,
    config: ModelConfig,
    folds: int = 5,
    margin: float = 0.01,
    warm_start: bool = False,
    significance: float = 0.1,
    live_required: int = 60,
    interval_significance: float = 0.01,
) -> Backtest:
    """Walk forward over the last `folds` blocks of `spec.holdout` origins.

    Args:
        history: the ticker's whole history (each fold sees its part up to its origin).
        ticker: the symbol.
        spec: windows and split; each fold is `spec.holdout` origins long.
        config: the LSTM's hyperparameters.
        folds: how many folds, K.
        margin: the gates' required improvement over naive.
        significance: the gates' Diebold-Mariano p-value threshold.
        warm_start: fine-tune the previous fold's network instead of training afresh
            (after the first fold), as the daily run does between full retrains.
        live_required: scored live forecasts the shadow gate needs (`shadow_gate`);
            0: the holdout gate alone, and both published series are the same.
        interval_significance: the interval gate's Diebold-Mariano p-value threshold.

    Returns:
        The folds, each with every model's scores on its origins.
    """
    last_known = len(history) - 1 - spec.horizons
    sessions = history.prices["session"].dt.date.to_numpy()
    results: list[Fold] = []
    plan: TrainingPlan | None = None  # the first fold trains afresh
    ledger = ShadowLedger(np.empty(0, dtype=int), np.empty(0), np.empty(0))
    for number in range(1, folds + 1):
        started = time.perf_counter()
        first = last_known - (folds - number + 1) * spec.holdout + 1
        known = history.until(first)  # as of the fold's first origin
        fitted = fit_candidates(known, ticker, spec, config, plan if warm_start else None)
        scales = mase_scales(known, fitted.split.fit, spec.horizons)
        holdout = {
            name: score(name, fitted.candidates[name], known, fitted.split.holdout, spec, scales)
            for name in ("lstm", "naive", *INTERVAL_MODELS)
            if name in fitted.candidates
        }
        holdout_decision = decide(holdout["lstm"], holdout["naive"], None, margin, significance)
        intervals = decide_intervals(holdout, margin, interval_significance)
        live, live_targets = ledger.live(first, live_required)
        decision = shadow_gate(holdout_decision, live, live_required, margin, significance)
        origins = np.arange(first, first + spec.holdout)
        scored = {
            name: score(
                name,
                recalibrated(candidate, known, fitted.split, spec),
                history,
                origins,
                spec,
                scales,
            )
            for name, candidate in fitted.candidates.items()
        }
        for name, choice in (("published", decision), ("published_holdout", holdout_decision)):
            point = scored[choice.published]
            scored[name] = (
                point.renamed(name)
                if intervals.own
                else point.with_intervals(name, scored[intervals.model])
            )
        results.append(
            Fold(
                number=number,
                as_of=sessions[first],
                first_origin=sessions[origins[0]],
                last_origin=sessions[origins[-1]],
                holdout_decision=holdout_decision,
                decision=decision,
                intervals=intervals,
                holdout=holdout,
                live=live,
                live_targets=sessions[live_targets],
                scored=scored,
                fit_seconds=fitted.trained.fit_seconds,
                warm_started=fitted.plan.training is not Training.FULL,
                seconds=time.perf_counter() - started,
                close_only=fitted.close_only,
            )
        )
        plan = TrainingPlan(
            Training.FINE_TUNE,
            fitted.candidates["lstm"].forecaster,
            fitted.plan.full_as_of,
            f"fine-tuned fold {number}'s network",
        )
        ledger = ledger.extended(origins, scored["lstm"])
    return Backtest(ticker, spec, results)
