"""Fit every candidate forecaster as of a session, and calibrate its intervals.

One procedure serves the daily run and each backtest fold: given the history up to
as_of, split the origins, fit the scalers and the models on the fit origins (the
LSTM stops early on the calibration origins), calibrate conformal intervals on the
calibration origins, and keep the holdout origins (the most recent with known
targets) for comparing the candidates, intervals included, out of sample. What is
then published is recalibrated on the calibration and holdout origins together
(`recalibrated`), so that its intervals reflect the most recent residuals.

Two kinds of candidate (`tickercast.models.candidates` names them): *point* candidates
(`POINT_MODELS`), each with conformal intervals scaled by the realized volatility,
compete for the point forecast; the
*interval* candidates (`INTERVAL_MODELS`) all forecast naive's zero return and
compete for the published intervals only: each volatility model with its own
distribution's quantiles and conformalized, and unscaled conformal (`static`).

Every candidate is configured first and then fitted on the ticker's history and split
by one call, `fit(history, split)`: a point model (`tickercast.models.point_models`)
returns its forecaster, an interval model (`tickercast.models.volatility.IntervalModel`)
its volatility model. This module is the one caller of both.
"""

from dataclasses import dataclass

import numpy as np

from tickercast.data.daily_bar import BAR_SESSIONS, MIN_BAR_SHARE, bar_share
from tickercast.data.history import History
from tickercast.data.windows import Split, WindowSpec, split_origins
from tickercast.models.candidates import BAR_MODELS
from tickercast.models.conformal import Conformal
from tickercast.models.forecasters import Forecaster, LSTMForecaster, NaiveForecaster
from tickercast.models.har import Blend, LogHar
from tickercast.models.intervals import Intervals, ModelQuantiles
from tickercast.models.network import TrainedModel
from tickercast.models.network_config import ModelConfig
from tickercast.models.point_models import LSTM, Drift, LinearAR, Naive, PointModel
from tickercast.models.retraining import Training, TrainingPlan
from tickercast.models.scaling import Preprocessor
from tickercast.models.variance_head import VarianceHead
from tickercast.models.volatility import (
    EWMA,
    ConstantScale,
    Garch,
    IntervalModel,
    RealizedVolatility,
    VolatilityModel,
)


@dataclass(frozen=True)
class Candidate:
    """A fitted forecaster, the volatility model that spreads its intervals, and how."""

    forecaster: Forecaster
    intervals: Intervals
    volatility: VolatilityModel

    @classmethod
    def calibrate(
        cls,
        forecaster: Forecaster,
        history: History,
        origins: np.ndarray,
        spec: WindowSpec,
        volatility: VolatilityModel,
    ) -> "Candidate":
        """Conformal intervals of a forecaster, scaled by `volatility`, calibrated on
        `origins` (whose targets are known)."""
        residuals = history.targets(origins, spec.horizons) - forecaster.predict(history, origins)
        spread = volatility.spread(history, origins, spec.horizons)
        return cls(forecaster, Conformal.calibrate(residuals, spread.sd), volatility)

    def forecast(
        self, history: History, origins: np.ndarray
    ) -> tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]:
        """(n, H) log-return forecasts at `origins` and `{level: (lower, upper)}` around them."""
        forecast = self.forecaster.predict(history, origins)
        spread = self.volatility.spread(history, origins, forecast.shape[1])
        return forecast, self.intervals.bounds(forecast, spread)


@dataclass(frozen=True)
class Fitted:
    """Everything fitted as of one session.

    Attributes:
        spec: windows and split.
        split: origin positions of the fit, calibration and holdout blocks.
        trained: the LSTM's training record (history, best epoch, fit time).
        candidates: the point candidates (`POINT_MODELS`) and the interval candidates
            (`INTERVAL_MODELS`), each with calibrated intervals.
        plan: how the LSTM was trained (afresh, fine-tuned or reused) and why.
        close_only: why the models of the daily bar (`BAR_MODELS`) are not among the
            candidates, a warning for the user; None when they are.
    """

    spec: WindowSpec
    split: Split
    trained: TrainedModel
    candidates: dict[str, Candidate]
    plan: TrainingPlan
    close_only: str | None = None

    def summary(self, ticker: str) -> str:
        """One line for the run's log: how the LSTM was trained and which epoch was kept."""
        trained, plan = self.trained, self.plan
        if plan.training in (Training.REUSE, Training.GLOBAL):
            return f"{ticker}: {plan.reason}"
        how = "trained afresh" if plan.training is Training.FULL else "fine-tuned"
        return (
            f"{ticker}: {how} {len(trained.history['loss'])} epochs in "
            f"{trained.fit_seconds:.1f} s, kept epoch {trained.best_epoch} "
            f"(val_loss {min(trained.history['val_loss']):.3g}); {plan.reason}"
        )


def fit_candidates(
    history: History,
    ticker: str,
    spec: WindowSpec,
    config: ModelConfig,
    plan: TrainingPlan | None = None,
) -> Fitted:
    """Fit every candidate on the fit origins; calibrate on the calibration ones.

    Args:
        history: the ticker's sessions up to and including as_of.
        ticker: the symbol, for messages.
        spec: windows and split.
        config: the LSTM's hyperparameters.
        plan: train afresh (None: as of the last session), or fine-tune an earlier
            LSTM for `config.warm_start_epochs`, or reuse it as it is (an earlier LSTM
            keeps its scalers, so that its weights still apply), or use the global
            network with scalers fitted on this ticker's fit origins.

    Returns:
        The fitted candidates.

    Raises:
        InsufficientHistoryError: too few sessions for the split.
    """
    split = split_origins(len(history), spec, ticker)
    plan = plan or TrainingPlan.full(history.as_of.date())
    earlier = plan.start_from
    scalers = earlier.preprocessor if earlier else Preprocessor.fit(history, spec, split.fit)
    models: list[PointModel] = [
        LSTM(scalers, config, plan),
        Naive(spec.horizons),
        Drift(spec.horizons),
        LinearAR(scalers),
    ]
    forecasters = [model.fit(history, split) for model in models]
    lstm = forecasters[0]
    realized = RealizedVolatility(spec.volatility_lookback)
    candidates = {
        forecaster.name: Candidate.calibrate(forecaster, history, split.calibration, spec, realized)
        for forecaster in forecasters
    }
    candidates |= interval_candidates(history, split, spec, lstm)
    return Fitted(spec, split, lstm.trained, candidates, plan, close_only(history, ticker))


def close_only(history: History, ticker: str) -> str | None:
    """Why the ticker's intervals come from close-only models, or None if its source
    gives the daily bar (open, high, low) on enough of the sessions a fit window sees."""
    if history.bar:
        return None
    prices = history.prices
    return (
        f"{ticker}: the source gives a readable open, high and low on {bar_share(prices):.0%} "
        f"of the last {min(BAR_SESSIONS, len(prices))} sessions (at least "
        f"{MIN_BAR_SHARE:.0%} needed): "
        f"intervals from close-only models, without {', '.join(BAR_MODELS)}"
    )


def interval_candidates(
    history: History, split: Split, spec: WindowSpec, lstm: LSTMForecaster
) -> dict[str, Candidate]:
    """Naive's zero return with each volatility model's intervals (`INTERVAL_MODELS`;
    those of `BAR_MODELS` only where the source gives the daily bar: `close_only`).

    Args:
        history: the ticker's sessions up to and including as_of.
        split: the origins' blocks; conformal versions calibrate on `split.calibration`.
        spec: windows and split.
        lstm: today's LSTM, the body of the variance head (fitted on `split.fit`).

    Returns:
        The candidates by name.
    """
    naive = NaiveForecaster(spec.horizons)
    models: list[IntervalModel] = [EWMA(), Garch(), Garch(leverage=True), VarianceHead(lstm)]
    if history.bar:
        har = LogHar(horizons=spec.horizons)
        models += [Garch(range_term=True), Garch(leverage=True, range_term=True), har]
        models.append(Blend(Garch(leverage=True), har))
    candidates = {
        "static": Candidate.calibrate(naive, history, split.calibration, spec, ConstantScale())
    }
    for model in models:
        volatility = model.fit(history, split)
        candidates[model.name] = Candidate(naive, ModelQuantiles(), volatility)
        candidates[f"{model.name}_conformal"] = Candidate.calibrate(
            naive, history, split.calibration, spec, volatility
        )
    return candidates


def recalibrated(
    candidate: Candidate, history: History, split: Split, spec: WindowSpec
) -> Candidate:
    """The candidate with conformal intervals recalibrated on the calibration and
    holdout origins: every origin no model was fitted on, the most recent included
    (used to publish). A model's own quantiles have nothing to recalibrate."""
    if not isinstance(candidate.intervals, Conformal):
        return candidate
    held_out = np.concatenate([split.calibration, split.holdout])
    return Candidate.calibrate(candidate.forecaster, history, held_out, spec, candidate.volatility)
