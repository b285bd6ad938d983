"""The LSTM's distributional head: how far the price may move, read off the network.

The tutorial network stays the body. Its last hidden state at an origin (what its
output layer reads to forecast the mean), with the log of the EWMA volatility
beside it, feeds a linear head per horizon for the log variance of the cumulative
log return h sessions ahead, trained by Gaussian negative log-likelihood on the
fit origins' returns (naive's errors: the intervals are built around the zero
return, as every volatility candidate's). The body is not retrained: the head costs
one forward pass and a convex fit, not a second network (the variance is linear in
the head's weights on the log scale, so the likelihood has one optimum). Its
conformalized version corrects what the Gaussian gets wrong.
"""

from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
from scipy.optimize import minimize

from tickercast.data.history import History
from tickercast.data.windows import Split
from tickercast.models.forecasters import LSTMForecaster
from tickercast.models.network import hidden_state
from tickercast.models.volatility import (
    EWMA,
    EWMA_SEED,
    Spread,
    VolatilityModel,
    volatility_from_dict,
)

# Shrinks the hidden state's weights (not the intercept or the EWMA's): 50 units on a
# few thousand origins would otherwise fit noise in the squared returns.
RIDGE = 1e-3


@dataclass(frozen=True)
class LSTMHead:
    """Log-variance weights on the LSTM body's state, one column per horizon.

    Attributes:
        forecaster: the LSTM whose body gives the state.
        weights: (2 + units, H): intercept, the standardized log EWMA volatility, the state.
        ewma_location, ewma_scale: the fit origins' mean and standard deviation of the
            log EWMA volatility, which standardize it.
        ewma: the EWMA it reads (frozen at a session in a registered model).
    """

    forecaster: LSTMForecaster
    weights: np.ndarray
    ewma_location: float
    ewma_scale: float
    ewma: VolatilityModel = field(default_factory=EWMA)
    name: str = "lstm_head"

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The head's standard deviation of each horizon's cumulative log return."""
        log_ewma = np.log(self.ewma.spread(history, origins, 1).sd[:, 0])
        standardized = (log_ewma - self.ewma_location) / self.ewma_scale
        log_variance = _features(self.forecaster, history, origins, standardized) @ self.weights
        return Spread(np.exp(0.5 * log_variance[:, :horizons]), np.full(len(origins), np.inf))

    def frozen(self, history: History) -> "LSTMHead":
        """The head with its EWMA frozen at the last session (the network reads only the
        last window)."""
        return replace(self, ewma=self.ewma.frozen(history))

    def as_dict(self) -> dict:
        """The head's numbers; its network is the registered LSTM's, saved beside it."""
        return {
            "kind": self.name,
            "weights": self.weights.tolist(),
            "ewma_location": self.ewma_location,
            "ewma_scale": self.ewma_scale,
            "ewma": self.ewma.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict, forecaster: LSTMForecaster) -> "LSTMHead":
        """The head `as_dict` saved, on the network of `forecaster`."""
        return cls(
            forecaster,
            np.asarray(data["weights"], dtype="float64"),
            float(data["ewma_location"]),
            float(data["ewma_scale"]),
            volatility_from_dict(data["ewma"]),
        )


@dataclass(frozen=True)
class VarianceHead:
    """The variance head as configured: on today's trained LSTM (its body is not
    retrained; the head's weights are learned on the fit origins)."""

    forecaster: LSTMForecaster
    name: ClassVar[str] = "lstm_head"

    def fit(self, history: History, split: Split) -> LSTMHead:
        """The head fitted on the fit origins (those before `EWMA_SEED` left out: the
        EWMA needs its seed's returns first), whose targets are known."""
        forecaster = self.forecaster
        horizons = forecaster.preprocessor.spec.horizons
        origins = split.fit[split.fit >= EWMA_SEED]
        log_ewma = np.log(EWMA().spread(history, origins, 1).sd[:, 0])  # (n,)
        location, scale = float(log_ewma.mean()), float(log_ewma.std() or 1.0)
        features = _features(forecaster, history, origins, (log_ewma - location) / scale)
        squared = history.targets(origins, horizons) ** 2
        start = np.zeros((features.shape[1], horizons))
        start[0] = np.log(squared.mean(axis=0))
        penalty = np.ones((features.shape[1], 1))
        penalty[:2] = 0.0

        def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
            weights = flat.reshape(start.shape)
            log_variance = features @ weights  # (n, H)
            surprise = squared * np.exp(-log_variance)
            value = 0.5 * np.mean(np.sum(log_variance + surprise, axis=1))
            gradient = features.T @ (0.5 * (1 - surprise)) / len(features)
            ridge = RIDGE * penalty * weights
            return value + 0.5 * np.sum(ridge * weights), (gradient + ridge).ravel()

        fitted = minimize(loss, start.ravel(), jac=True, method="L-BFGS-B")
        return LSTMHead(forecaster, fitted.x.reshape(start.shape), location, scale)


def _features(
    forecaster: LSTMForecaster, history: History, origins: np.ndarray, log_ewma: np.ndarray
) -> np.ndarray:
    """(n, 2 + units): 1, the standardized log EWMA volatility, the body's state."""
    state = hidden_state(forecaster.network, forecaster.preprocessor.inputs(history, origins))
    return np.column_stack([np.ones(len(origins)), log_ewma, state.astype("float64")])
