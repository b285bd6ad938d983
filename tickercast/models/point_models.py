"""The point candidates as configured: each is fitted on a ticker's history and split,
and returns the forecaster (`tickercast.models.forecasters`) that predicts from then on.

An Estimator and its Predictor, in GluonTS' words: what a model is told (horizons,
scalers, hyperparameters, a retraining plan) lives here, what it learned lives in the
forecaster. `tickercast.models.fitting.fit_candidates` is the one caller of `fit`.
"""

from dataclasses import dataclass
from typing import ClassVar, Protocol

from sklearn.linear_model import Ridge

from tickercast.data.history import History
from tickercast.data.windows import Split
from tickercast.models.forecasters import (
    DriftForecaster,
    Forecaster,
    LinearARForecaster,
    LSTMForecaster,
    NaiveForecaster,
)
from tickercast.models.network import TrainedModel, train_network
from tickercast.models.network_config import ModelConfig
from tickercast.models.retraining import Training, TrainingPlan
from tickercast.models.scaling import Preprocessor


class PointModel(Protocol):
    """A point candidate as configured."""

    name: ClassVar[str]

    def fit(self, history: History, split: Split) -> Forecaster:
        """The forecaster fitted on `split.fit` (the LSTM stops early on
        `split.calibration`), from `history`, which holds the ticker's sessions up to
        as_of."""
        ...


@dataclass(frozen=True)
class Naive:
    """Tomorrow's close = today's close: nothing to learn."""

    horizons: int
    name: ClassVar[str] = "naive"

    def fit(self, history: History, split: Split) -> NaiveForecaster:
        return NaiveForecaster(self.horizons)


@dataclass(frozen=True)
class Drift:
    """The fit origins' mean daily log return."""

    horizons: int
    name: ClassVar[str] = "drift"

    def fit(self, history: History, split: Split) -> DriftForecaster:
        logs = history.log_close[: split.fit[-1] + 1]
        return DriftForecaster(float((logs[-1] - logs[0]) / (len(logs) - 1)), self.horizons)


@dataclass(frozen=True)
class LinearAR:
    """A ridge regression of the scaled targets on the scaled windows: the LSTM's inputs
    and outputs, without its nonlinearity."""

    # the LSTM's: the two read the same windows on the same scale
    scalers: Preprocessor
    # ridge penalty on the scaled inputs: keeps 60 correlated lags from overfitting
    alpha: float = 1.0
    name: ClassVar[str] = "ar"

    def fit(self, history: History, split: Split) -> LinearARForecaster:
        inputs = self.scalers.inputs(history, split.fit)  # (n, window, F)
        targets = self.scalers.targets(history, split.fit)  # (n, H)
        regression = Ridge(alpha=self.alpha).fit(inputs.reshape(len(inputs), -1), targets)
        return LinearARForecaster(self.scalers, regression)


@dataclass(frozen=True)
class LSTM:
    """The tutorial's network, trained as tonight's plan says."""

    # fitted on the fit origins, or an earlier network's (its weights need them)
    scalers: Preprocessor
    # the hyperparameters: layers, units, epochs, seed
    config: ModelConfig
    # afresh, fine-tune or reuse an earlier network, or the universe's global network
    plan: TrainingPlan
    name: ClassVar[str] = "lstm"

    def fit(self, history: History, split: Split) -> LSTMForecaster:
        plan, earlier = self.plan, self.plan.start_from
        untrained = {"loss": [], "val_loss": []}
        if plan.training is Training.REUSE:
            trained = TrainedModel(earlier.network, untrained, 0, 0.0)
        elif plan.training is Training.GLOBAL:  # the universe's weights on these scalers
            trained = TrainedModel(plan.global_network.network, untrained, 0, 0.0)
        else:
            trained = train_network(
                (self.scalers.inputs(history, split.fit), self.scalers.targets(history, split.fit)),
                (
                    self.scalers.inputs(history, split.calibration),
                    self.scalers.targets(history, split.calibration),
                ),
                self.config,
                initial=earlier.network if earlier else None,
                epochs=plan.epochs(self.config.epochs, self.config.warm_start_epochs),
            )
        return LSTMForecaster(self.scalers, trained.network, trained=trained)
