"""Split-conformal prediction intervals per horizon, optionally scaled by volatility.

Calibration residuals are log(actual / forecast) on held-out origins. With volatility
scaling, each residual is divided by a volatility forecast known at its origin (the
realized volatility, or a volatility model's: `tickercast.models.volatility`), and intervals
widen and narrow with the market; the quantile of the absolute scaled residuals,
with the finite-sample correction, sets each horizon's half-width. Coverage then
holds whatever the volatility model's own distribution gets wrong.
"""

import math
from dataclasses import dataclass

import numpy as np

from tickercast.models.volatility import Spread

LEVELS = (0.8, 0.95)


@dataclass(frozen=True)
class Conformal:
    """Half-widths per level and horizon, in (volatility-scaled) log-return units.

    Attributes:
        quantiles: `{0.8: (H,), 0.95: (H,)}` absolute-residual quantiles.
        volatility_scaled: whether half-widths are multiplied by each origin's volatility.
    """

    quantiles: dict[float, np.ndarray]
    volatility_scaled: bool

    @classmethod
    def calibrate(
        cls,
        residuals: np.ndarray,
        scale: np.ndarray,
        volatility_scaled: bool = True,
        levels: tuple[float, ...] = LEVELS,
    ) -> "Conformal":
        """Quantiles of held-out residuals.

        Args:
            residuals: (n, H) log(actual / forecast) on calibration origins.
            scale: (n, H) the volatility model's spread at those origins (`Spread.sd`).
            volatility_scaled: divide residuals by volatility first.
            levels: coverage levels.

        Returns:
            The calibrated intervals.
        """
        scores = np.sort(np.abs(residuals / scale if volatility_scaled else residuals), axis=0)
        n = len(scores)
        # the ceil((n + 1) * level)-th smallest score; unbounded when there are too few
        ranks = {level: math.ceil((n + 1) * level) for level in levels}
        quantiles = {
            level: scores[rank - 1] if rank <= n else np.full(scores.shape[1], np.inf)
            for level, rank in ranks.items()
        }
        return cls(quantiles=quantiles, volatility_scaled=volatility_scaled)

    def bounds(
        self, forecast: np.ndarray, spread: Spread
    ) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        """Lower and upper bounds, (n, H) each, in the forecast's log-return units.

        Args:
            forecast: (n, H) cumulative log returns.
            spread: the volatility model's spread at the same origins.
        """
        scale = spread.sd if self.volatility_scaled else np.ones((len(forecast), 1))
        return {
            level: (forecast - half * scale, forecast + half * scale)
            for level, half in self.quantiles.items()
        }

    def as_dict(self) -> dict:
        return {
            "volatility_scaled": self.volatility_scaled,
            "quantiles": {str(level): q.tolist() for level, q in self.quantiles.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Conformal":
        return cls(
            quantiles={float(level): np.asarray(q) for level, q in data["quantiles"].items()},
            volatility_scaled=data["volatility_scaled"],
        )
