"""Fit every candidate forecaster as of a session, and calibrate its intervals.

One procedure serves the daily run and each backtest fold: given the prices up to
as_of, split the origins, fit the scalers and the models on the fit origins (the
LSTM stops early on the calibration origins), calibrate conformal intervals on the
calibration origins, and keep the holdout origins (the most recent with known
targets) for comparing the candidates, intervals included, out of sample. What is
then published is recalibrated on the calibration and holdout origins together
(`recalibrated`), so that its intervals reflect the most recent residuals.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tickercast.conformal import Conformal
from tickercast.forecasters import (
    DriftForecaster,
    Forecaster,
    LinearARForecaster,
    LSTMForecaster,
    NaiveForecaster,
)
from tickercast.model import TrainedModel, train_network
from tickercast.model_config import ModelConfig
from tickercast.windows import (
    Preprocessor,
    Split,
    WindowSpec,
    cumulative_log_returns,
    realized_volatility,
    split_origins,
)


@dataclass(frozen=True)
class Candidate:
    """A fitted forecaster and its calibrated intervals."""

    forecaster: Forecaster
    conformal: Conformal

    @classmethod
    def calibrate(
        cls, forecaster: Forecaster, prices: pd.DataFrame, origins: np.ndarray, spec: WindowSpec
    ) -> "Candidate":
        """Calibrate a forecaster's intervals on `origins` (whose targets are known)."""
        adjusted = prices["adjusted_close"].to_numpy("float64")
        residuals = cumulative_log_returns(adjusted, origins, spec.horizons) - forecaster.predict(
            prices, origins
        )
        volatility = realized_volatility(adjusted, origins, spec.volatility_lookback)
        return cls(forecaster, Conformal.calibrate(residuals, volatility))


@dataclass(frozen=True)
class Fitted:
    """Everything fitted as of one session.

    Attributes:
        spec: windows and split.
        split: origin positions of the fit, calibration and holdout blocks.
        trained: the LSTM's training record (history, best epoch, fit time).
        candidates: `lstm`, `naive`, `drift`, `ar`, each with calibrated intervals.
        warm_started: whether the LSTM fine-tuned an earlier network.
    """

    spec: WindowSpec
    split: Split
    trained: TrainedModel
    candidates: dict[str, Candidate]
    warm_started: bool

    def summary(self, ticker: str, warm_from_version: str | None) -> str:
        """One line for the run's log: how the LSTM was trained and which epoch was kept."""
        trained = self.trained
        how = f"fine-tuned champion v{warm_from_version}" if warm_from_version else "trained"
        return (
            f"{ticker}: {how} {len(trained.history['loss'])} epochs in "
            f"{trained.fit_seconds:.1f} s, kept epoch {trained.best_epoch} "
            f"(val_loss {min(trained.history['val_loss']):.3g})"
        )


def fit_candidates(
    prices: pd.DataFrame,
    ticker: str,
    spec: WindowSpec,
    config: ModelConfig,
    warm_start: LSTMForecaster | None = None,
) -> Fitted:
    """Fit the LSTM and the baselines on the fit origins; calibrate on the calibration ones.

    Args:
        prices: canonical prices up to and including as_of (positions = sessions).
        ticker: the symbol, for messages.
        spec: windows and split.
        config: the LSTM's hyperparameters.
        warm_start: an earlier LSTM to fine-tune for `config.warm_start_epochs`,
            keeping its scalers so that its weights still apply; None trains afresh.

    Returns:
        The fitted candidates.

    Raises:
        InsufficientHistoryError: too few sessions for the split.
    """
    split = split_origins(len(prices), spec, ticker)
    preprocessor = (
        warm_start.preprocessor if warm_start else Preprocessor.fit(prices, spec, split.fit)
    )
    trained = train_network(
        (preprocessor.inputs(prices, split.fit), preprocessor.targets(prices, split.fit)),
        (
            preprocessor.inputs(prices, split.calibration),
            preprocessor.targets(prices, split.calibration),
        ),
        config,
        initial=warm_start.network if warm_start else None,
        epochs=config.warm_start_epochs if warm_start else None,
    )
    forecasters: list[Forecaster] = [
        LSTMForecaster(preprocessor, trained.network),
        NaiveForecaster(spec.horizons),
        DriftForecaster.fit(prices, split.fit, spec.horizons),
        LinearARForecaster.fit(prices, preprocessor, split.fit),
    ]
    candidates = {
        forecaster.name: Candidate.calibrate(forecaster, prices, split.calibration, spec)
        for forecaster in forecasters
    }
    return Fitted(spec, split, trained, candidates, warm_started=warm_start is not None)


def recalibrated(
    candidate: Candidate, prices: pd.DataFrame, split: Split, spec: WindowSpec
) -> Candidate:
    """The candidate with intervals recalibrated on the calibration and holdout origins:
    every origin no model was fitted on, the most recent included (used to publish)."""
    held_out = np.concatenate([split.calibration, split.holdout])
    return Candidate.calibrate(candidate.forecaster, prices, held_out, spec)
