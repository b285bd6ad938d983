"""The log-HAR on the daily bar's range measure: tomorrow's variance from today's, the
week's and the month's.

Corsi's heterogeneous autoregression (2009), on the range measure rm of
`tickercast.data.daily_bar` instead of intraday realized variance (range-based HAR,
Clements and Preve 2021), in logs so that a storm's few huge days do not steer the
fit. At origin t the regressors are

    x[t] = (1, log rm[t], log mean(rm[t-4..t]), log mean(rm[t-21..t])),

all known at t's close. Each horizon h has its own regression (direct, not iterated)
of log mean(rm[t+1..t+h]) on x[t], so no forecast of rm ahead is needed; the spread
of the h-session return is then

    sd[t, h]**2 = scale[h] * h * exp(x[t] @ coefficients[h]),

where scale[h] is the fitting window's mean of (realized h-session return)**2 over
that forecast: it carries the forecast from the log scale and from the range measure
to the close-to-close return. The standardized one-session returns of the window give
the Student-t degrees of freedom of the model's own quantiles.

Parameters are refitted every `refit_every` sessions on the `window` sessions up to the
refit point, on origins whose targets the refit point has seen, and held in between:
the same cadence, cache and look-ahead discipline as `tickercast.models.volatility.Garch`.
"""

import functools
from dataclasses import dataclass
from datetime import date

import numpy as np

from tickercast.data.history import History
from tickercast.data.windows import Split
from tickercast.errors import InputError
from tickercast.models.fit_store import persisted
from tickercast.models.volatility import (
    MIN_RETURNS,
    Spread,
    VolatilityModel,
    _check_origins,
    refit_points,
    volatility_from_dict,
)

# the regressors' spans in sessions: a day, a week, a month
_SPANS = (1, 5, 22)
# a range measure of 0 (a flat day without a readable bar) has no log: below a
# hundredth of the window's median, a measure is taken at that floor
_FLOOR_SHARE = 0.01


@dataclass(frozen=True)
class HarFit:
    """One window's regressions.

    Attributes:
        coefficients: (H, 4) per horizon: intercept, day, week, month.
        scale: (H,) mean squared h-session return over the exp of its forecast.
        nu: Student-t degrees of freedom of the standardized one-session returns.
        floor: the smallest range measure taken into a log.
    """

    coefficients: np.ndarray
    scale: np.ndarray
    nu: float
    floor: float

    def variance(self, measure: np.ndarray, origins: np.ndarray, horizons: int) -> np.ndarray:
        """(n, H) forecast variance of the h-session return at `origins`."""
        if horizons > len(self.scale):
            raise InputError(f"har: fitted for {len(self.scale)} horizons, not {horizons}")
        log_mean = regressors(measure, origins, self.floor) @ self.coefficients[:horizons].T
        return self.scale[:horizons] * np.arange(1, horizons + 1) * np.exp(log_mean)

    def as_dict(self) -> dict:
        return {
            "coefficients": self.coefficients.tolist(),
            "scale": self.scale.tolist(),
            "nu": self.nu,
            "floor": self.floor,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "HarFit":
        return cls(
            np.asarray(data["coefficients"], dtype="float64"),
            np.asarray(data["scale"], dtype="float64"),
            float(data["nu"]),
            float(data["floor"]),
        )


def regressors(measure: np.ndarray, origins: np.ndarray, floor: float) -> np.ndarray:
    """(n, 4) the HAR regressors at `origins` (each at least 22: a month's measures).

    Args:
        measure: (N,) range measures (NaN at 0).
        origins: positions.
        floor: the smallest measure taken into a log.
    """
    total = np.concatenate([[0.0], np.cumsum(np.nan_to_num(measure))])  # total[k] = sum of 0..k-1
    columns = [np.ones(len(origins))]
    for span in _SPANS:
        mean = (total[origins + 1] - total[origins + 1 - span]) / span
        columns.append(np.log(np.maximum(mean, floor)))
    return np.column_stack(columns)


@functools.lru_cache(maxsize=4096)
@persisted("har", HarFit.as_dict, HarFit.from_dict)
def fit_har(window: bytes, returns: bytes, horizons: int) -> HarFit:
    """Fit each horizon's regression on one window, cached on its data as `fit_garch` is.

    Args:
        window: float64 bytes of the window's range measures (position 0 the window's
            first session, at least `MIN_RETURNS` of them).
        returns: float64 bytes of the same sessions' log returns.
        horizons: H.

    Returns:
        The fit.
    """
    from scipy.optimize import minimize_scalar
    from scipy.stats import t as student_t

    measure, daily = np.frombuffer(window), np.frombuffer(returns)
    floor = _FLOOR_SHARE * float(np.nanmedian(measure))
    last = len(measure) - 1
    first = _SPANS[-1] - 1
    coefficients, scale = np.empty((horizons, len(_SPANS) + 1)), np.empty(horizons)
    standardized = None
    for h in range(1, horizons + 1):
        origins = np.arange(first, last - h + 1)  # targets up to the window's last session
        ahead = origins[:, None] + np.arange(1, h + 1)  # (n, h)
        target = np.log(np.maximum(measure[ahead].mean(axis=1), floor))
        design = regressors(measure, origins, floor)
        coefficients[h - 1] = np.linalg.lstsq(design, target, rcond=None)[0]
        forecast = h * np.exp(design @ coefficients[h - 1])
        realized = daily[ahead].sum(axis=1) ** 2
        scale[h - 1] = np.mean(realized / forecast)
        if h == 1:
            standardized = daily[origins + 1] / np.sqrt(scale[0] * forecast)

    def negative_log_likelihood(nu: float) -> float:
        # Student-t of unit variance: scipy's t scaled by sqrt((nu - 2) / nu)
        spread = np.sqrt((nu - 2) / nu)
        return -float(np.sum(student_t.logpdf(standardized / spread, nu) - np.log(spread)))

    nu = minimize_scalar(negative_log_likelihood, bounds=(2.05, 100.0), method="bounded").x
    return HarFit(coefficients, scale, float(nu), floor)


@dataclass(frozen=True)
class LogHar:
    """The log-HAR on the range measure, refitted on a cadence (as `Garch` is)."""

    # as GARCH's: about four years, refitted about monthly
    window: int = 1000
    refit_every: int = 21
    # the horizons its frozen form keeps a regression for: the run's H, which a served
    # model answers for
    horizons: int = 5
    name = "har"

    def fit(self, history: History, split: Split) -> "LogHar":
        return self  # refitted walk-forward inside `spread`

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The spread at `origins` (each with at least `MIN_RETURNS` returns) for
        h = 1..`horizons`."""
        origins = np.asarray(origins)
        _check_origins(origins, MIN_RETURNS, self.name)
        measure, daily = history.range_measure, history.returns
        refits = refit_points(origins, self.refit_every)
        variance = np.empty((len(origins), horizons))
        dof = np.empty(len(origins))
        for refit in np.unique(refits):
            members = np.flatnonzero(refits == refit)
            fit = self._fit(measure, daily, refit, horizons)
            variance[members] = fit.variance(measure, origins[members], horizons)
            dof[members] = fit.nu
        return Spread(np.sqrt(variance), dof)

    def _fit(self, measure: np.ndarray, daily: np.ndarray, refit: int, horizons: int) -> HarFit:
        first = max(1, refit - self.window + 1)
        return fit_har(
            measure[first : refit + 1].tobytes(), daily[first : refit + 1].tobytes(), horizons
        )

    def frozen(self, history: History) -> "FrozenHar":
        """The regressions of the last session's refit point, for `horizons` (a frozen
        HAR refuses more)."""
        last = len(history) - 1
        _check_origins(np.array([last]), MIN_RETURNS, self.name)
        refit = int(refit_points(np.array([last]), self.refit_every)[0])
        fit = self._fit(history.range_measure, history.returns, refit, self.horizons)
        return FrozenHar(fit, history.as_of.date())


# sessions a frozen HAR needs up to an origin: the month of range measures, and the
# close before the month's first (a served model asks at least this many)
RECENT_SESSIONS = _SPANS[-1] + 1


@dataclass(frozen=True)
class FrozenHar:
    """A log-HAR's regressions as of one session: its spread there and after, from the
    `RECENT_SESSIONS` up to each origin."""

    fit: HarFit
    session: date
    name = "har"

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The spread at `origins` at or after `session` (each with 22 sessions before it)."""
        origins = np.asarray(origins)
        sessions = history.prices["session"].dt.date.to_numpy()
        if len(origins) and sessions[origins.min()] < self.session:
            raise InputError(f"{self.name}: no spread before {self.session}, where it was frozen")
        if len(origins) and origins.min() < RECENT_SESSIONS - 1:
            raise InputError(
                f"{self.name}: needs {RECENT_SESSIONS} sessions up to each origin (a month of "
                f"ranges), got {origins.min() + 1}"
            )
        variance = self.fit.variance(history.range_measure, origins, horizons)
        return Spread(np.sqrt(variance), np.full(len(origins), self.fit.nu))

    def frozen(self, history: History) -> "FrozenHar":
        return self

    def as_dict(self) -> dict:
        return {"kind": self.name, "session": self.session.isoformat(), **self.fit.as_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "FrozenHar":
        return cls(HarFit.from_dict(data), date.fromisoformat(data["session"]))


@dataclass(frozen=True)
class Blend:
    """The geometric mean of two models' spreads: GJR's, which reacts to the sign of
    the last return, and the log-HAR's, which reads the range of the last month. Two
    imperfect forecasts of one variance err apart; their blend was the steadiest
    winner outside this project (issue 24). Student-t with the fatter-tailed part's
    degrees of freedom."""

    first: VolatilityModel
    second: VolatilityModel
    name = "blend"

    def fit(self, history: History, split: Split) -> "Blend":
        return self  # both parts refit walk-forward inside `spread`

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The blended spread at `origins` (each as both parts require)."""
        one = self.first.spread(history, origins, horizons)
        two = self.second.spread(history, origins, horizons)
        return Spread(np.sqrt(one.sd * two.sd), np.minimum(one.dof, two.dof))

    def frozen(self, history: History) -> "Blend":
        return Blend(self.first.frozen(history), self.second.frozen(history))

    def as_dict(self) -> dict:
        return {"kind": self.name, "parts": [self.first.as_dict(), self.second.as_dict()]}


def sessions_needed(volatility: VolatilityModel) -> int:
    """The sessions up to an origin a frozen model reads: `RECENT_SESSIONS` for a log-HAR
    (or a blend with one), 2 for the rest (a return needs the close before it)."""
    if isinstance(volatility, FrozenHar):
        return RECENT_SESSIONS
    if isinstance(volatility, Blend):
        return max(sessions_needed(volatility.first), sessions_needed(volatility.second))
    return 2


def saved_volatility(data: dict) -> VolatilityModel:
    """A frozen volatility model from its `as_dict` data: the log-HAR's and the blend's
    here, the variance recursions' in `volatility_from_dict` (the LSTM head, which needs
    its network, is `LSTMHead.from_dict`'s).

    Raises:
        ValueError: a kind this version does not know.
    """
    if data["kind"] == FrozenHar.name:
        return FrozenHar.from_dict(data)
    if data["kind"] == Blend.name:
        return Blend(*(saved_volatility(part) for part in data["parts"]))
    return volatility_from_dict(data)
