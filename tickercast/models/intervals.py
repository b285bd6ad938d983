"""How a candidate's intervals come from its volatility model: one interface, two ways.

`Conformal` (conformal.py) scales the model's spread by quantiles of held-out
residuals, so that coverage holds even when the model's distribution is wrong;
`ModelQuantiles` takes the model's own distribution at its word (GARCH's Student-t,
RiskMetrics' normal), as the textbook does.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tickercast.models.conformal import LEVELS
from tickercast.models.volatility import Spread


class Intervals(Protocol):
    """Anything that turns point forecasts and their spread into central intervals."""

    def bounds(
        self, forecast: np.ndarray, spread: Spread
    ) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        """`{level: (lower, upper)}`, (n, H) each, around (n, H) log-return forecasts."""
        ...


@dataclass(frozen=True)
class ModelQuantiles:
    """The volatility model's own quantiles: forecast ± its half-width at each level."""

    levels: tuple[float, ...] = LEVELS

    def bounds(
        self, forecast: np.ndarray, spread: Spread
    ) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        return {
            level: (forecast - spread.half_width(level), forecast + spread.half_width(level))
            for level in self.levels
        }
