"""Walk-forward backtest: refit as of each fold, forecast the fold, compare with baselines.

Fold k covers the `spec.holdout` origins from a_k on. Everything is fitted on the
prices up to a_k alone (scalers, networks, baselines, conformal intervals
recalibrated as for publishing, and the gate's choice on its own holdout, which
precedes the fold), exactly as the daily run would have been on that day (with
warm starts, the previous fold's scalers are kept with its weights); the fold's
origins are then forecast from their own windows and scored. The folds are
consecutive and expanding, ending at the last origin whose targets are known.
"""

import time
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tickercast.champion import GateDecision, decide
from tickercast.evaluate import Scored, mase_scales, pooled, score
from tickercast.fitting import fit_candidates, recalibrated
from tickercast.forecasters import LSTMForecaster
from tickercast.model_config import ModelConfig
from tickercast.windows import WindowSpec

MODELS = ("lstm", "naive", "drift", "ar", "published")
# the report's metrics, per model and horizon
REPORT_METRICS = (
    "rmse_ratio",
    "mase",
    "directional_accuracy",
    "da_pvalue",
    "dm_pvalue",
    "coverage_80",
    "coverage_95",
)


@dataclass(frozen=True)
class Fold:
    """One fold: when it was fitted, what the gate chose, and every model's scores."""

    number: int
    as_of: date
    first_origin: date
    last_origin: date
    decision: GateDecision
    scored: dict[str, Scored]
    fit_seconds: float
    warm_started: bool
    seconds: float


@dataclass(frozen=True)
class Backtest:
    """All folds of one ticker's backtest."""

    ticker: str
    spec: WindowSpec
    folds: list[Fold]

    def pooled(self) -> dict[str, Scored]:
        """Every model's scores over all folds together."""
        return {name: pooled(name, [fold.scored[name] for fold in self.folds]) for name in MODELS}

    def summary(self) -> str:
        """One line for the run's log: pooled h=1 RMSE ratios and the published coverage."""
        pooled = {name: scored.metrics[0] for name, scored in self.pooled().items()}
        ratios = ", ".join(
            f"{name} {pooled[name]['rmse_ratio']:.3f}"
            for name in ("lstm", "ar", "drift", "published")
        )
        return (
            f"{self.ticker}: {len(self.folds)} folds; pooled h=1 RMSE ratio {ratios}; "
            f"coverage 80/95 of published {pooled['published']['coverage_80']:.2f}/"
            f"{pooled['published']['coverage_95']:.2f}"
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
            for h in range(self.spec.horizons)
        ]


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def run_backtest(
    prices: pd.DataFrame,
    ticker: str,
    spec: WindowSpec,
    config: ModelConfig,
    folds: int = 5,
    margin: float = 0.01,
    warm_start: bool = False,
    significance: float = 0.1,
) -> Backtest:
    """Walk forward over the last `folds` blocks of `spec.holdout` origins.

    Args:
        prices: the ticker's canonical prices (positions = sessions).
        ticker: the symbol.
        spec: windows and split; each fold is `spec.holdout` origins long.
        config: the LSTM's hyperparameters.
        folds: how many folds, K.
        margin: the gate's required improvement over naive.
        significance: the gate's Diebold-Mariano p-value threshold.
        warm_start: fine-tune the previous fold's network instead of training afresh
            (after the first fold), as the daily run does between full retrains.

    Returns:
        The folds, each with every model's scores on its origins.
    """
    last_known = len(prices) - 1 - spec.horizons
    sessions = prices["session"].dt.date.to_numpy()
    results: list[Fold] = []
    previous: LSTMForecaster | None = None
    for number in range(1, folds + 1):
        started = time.perf_counter()
        first = last_known - (folds - number + 1) * spec.holdout + 1
        history = prices.iloc[: first + 1]  # as of the fold's first origin
        fitted = fit_candidates(history, ticker, spec, config, previous if warm_start else None)
        scales = mase_scales(history, fitted.split.fit, spec.horizons)
        holdout = {
            name: score(name, fitted.candidates[name], history, fitted.split.holdout, spec, scales)
            for name in ("lstm", "naive")
        }
        decision = decide(holdout["lstm"], holdout["naive"], None, margin, significance)
        origins = np.arange(first, first + spec.holdout)
        scored = {
            name: score(
                name,
                recalibrated(candidate, history, fitted.split, spec),
                prices,
                origins,
                spec,
                scales,
            )
            for name, candidate in fitted.candidates.items()
        }
        scored["published"] = scored[decision.published].renamed("published")
        results.append(
            Fold(
                number=number,
                as_of=sessions[first],
                first_origin=sessions[origins[0]],
                last_origin=sessions[origins[-1]],
                decision=decision,
                scored=scored,
                fit_seconds=fitted.trained.fit_seconds,
                warm_started=fitted.warm_started,
                seconds=time.perf_counter() - started,
            )
        )
        previous = fitted.candidates["lstm"].forecaster
    return Backtest(ticker, spec, results)
