"""Volatility models: how far the price may move h sessions ahead, from data up to each origin.

A model reads a ticker's `History` (positions are sessions); a forecast at origin t
knows sessions 0..t. The daily log returns are
ret[t] = log(P[t] / P[t-1]) for t >= 1, and the targets are the cumulative log returns
log(P[t+h] / P[t]), h = 1..H. Intervals are centred elsewhere (on the naive point, a
zero return); a model here gives only their spread at each origin and horizon.

GARCH parameters are refitted every `refit_every` sessions on a rolling window and held
fixed in between, where the variance is filtered forward with each new return. Fits
are cached per window of returns, so the daily run and every backtest fold, which ask
for overlapping origins of the same history, fit each window once per process, and,
with a fit folder set (`tickercast.models.fit_store`), once across evenings.

A registered model carries the volatility model its published intervals came from,
`frozen` as of its last session: plain numbers (`as_dict`, `volatility_from_dict`)
from which its spread at that session, and at later ones from the returns in between,
follows without the years of history behind it.
"""

import functools
import logging
import warnings
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import ClassVar, Protocol

import numpy as np

from tickercast.data.history import History
from tickercast.data.windows import Split, realized_volatility
from tickercast.errors import InputError
from tickercast.models.fit_store import persisted

logger = logging.getLogger(__name__)

# Fewer returns than this cannot identify GARCH's four or five parameters.
MIN_RETURNS = 100
# Squared returns whose mean seeds the EWMA recursion.
EWMA_SEED = 20
# Returns are fitted in percent: arch's optimizer is tuned for variances of order 1.
PERCENT = 100.0


@dataclass(frozen=True)
class Spread:
    """Each origin's forecast spread of the cumulative log return h sessions ahead.

    Attributes:
        sd: (n, H) standard deviation of log(P[t+h] / P[t]). For `RealizedVolatility`
            and `ConstantScale` a scale only, the same at every h, which conformal
            quantiles per horizon turn into intervals.
        dof: (n,) Student-t degrees of freedom of the standardized innovations;
            np.inf is normal.
    """

    sd: np.ndarray
    dof: np.ndarray

    def half_width(self, level: float) -> np.ndarray:
        """(n, H) half-width of the central `level` interval around the point forecast.

        Args:
            level: nominal coverage, e.g. 0.8.

        Returns:
            `sd` times the standardized quantile: Student-t's with `dof`, rescaled to
            unit variance (so that `sd` keeps meaning a standard deviation), or the
            normal's where `dof` is infinite.
        """
        from scipy.stats import t as student_t

        tail = 1 - (1 - level) / 2
        # t.ppf is the normal quantile at dof = inf, where sqrt(1 - 2 / dof) is 1
        quantile = student_t.ppf(tail, self.dof) * np.sqrt(1 - 2 / self.dof)  # (n,)
        return self.sd * quantile[:, None]


class VolatilityModel(Protocol):
    """Gives the spread of each origin's cumulative log returns, from prices up to it."""

    @property
    def name(self) -> str:
        """What runs and results call the model."""

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The spread at `origins` (any order; rows follow it) for h = 1..`horizons`."""

    def frozen(self, history: History) -> "VolatilityModel":
        """The model as it stands after the last session of `history`: the same spread at
        that origin, and at later ones from the sessions after it, without the history
        before (what a registered model carries)."""

    def as_dict(self) -> dict:
        """A frozen model as plain data (`volatility_from_dict` reads it back)."""


class IntervalModel(Protocol):
    """A volatility model as configured: `fit` it on a ticker's history and split.

    The walk-forward models here (EWMA, GARCH and its kin, the log-HAR, their blend)
    refit on their own cadence inside `spread`, each origin from the history up to it:
    fitting one returns it as it is. The LSTM's variance head learns its weights on the
    fit origins (`tickercast.models.variance_head.VarianceHead`).
    """

    @property
    def name(self) -> str:
        """What runs and results call the model."""

    def fit(self, history: History, split: Split) -> VolatilityModel:
        """The model fitted on `split.fit` of `history`."""


@dataclass(frozen=True)
class ConstantScale:
    """Scale 1 everywhere: unscaled split-conformal intervals."""

    name: ClassVar[str] = "static"

    def fit(self, history: History, split: Split) -> "ConstantScale":
        return self  # refitted walk-forward inside `spread`

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        return Spread(np.ones((len(origins), horizons)), np.full(len(origins), np.inf))

    def frozen(self, history: History) -> "ConstantScale":
        return self

    def as_dict(self) -> dict:
        return {"kind": self.name}


@dataclass(frozen=True)
class RealizedVolatility:
    """The standard deviation of the last `lookback` daily returns, at every horizon.

    It must stay exactly `windows.realized_volatility`: the conformal quantiles of
    saved models are relative to it.
    """

    lookback: int
    name: ClassVar[str] = "realized"

    def fit(self, history: History, split: Split) -> "RealizedVolatility":
        return self  # refitted walk-forward inside `spread`

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        volatility = realized_volatility(history.returns, np.asarray(origins), self.lookback)
        return Spread(
            np.repeat(volatility[:, None], horizons, axis=1), np.full(len(origins), np.inf)
        )

    def frozen(self, history: History) -> "RealizedVolatility":
        return self  # its last `lookback` returns are in any input that holds a window

    def as_dict(self) -> dict:
        return {"kind": self.name, "lookback": self.lookback}


@dataclass(frozen=True)
class EWMA:
    """RiskMetrics' exponentially weighted variance, flat ahead: sd grows like sqrt(h).

    sigma2[t+1|t] = decay * sigma2[t|t-1] + (1 - decay) * ret[t]**2, starting at origin
    `EWMA_SEED` from the mean of the first `EWMA_SEED` squared returns.
    """

    decay: float = 0.94
    name: ClassVar[str] = "ewma"

    def __post_init__(self) -> None:
        if not 0 < self.decay < 1:
            raise InputError(f"EWMA decay must lie strictly between 0 and 1, not {self.decay}")

    def fit(self, history: History, split: Split) -> "EWMA":
        return self  # refitted walk-forward inside `spread`

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The spread at `origins` (each at least `EWMA_SEED`: the seed's returns are
        then all known) for h = 1..`horizons`."""
        from scipy.signal import lfilter

        origins = np.asarray(origins)
        _check_origins(origins, EWMA_SEED, self.name)
        returns = history.returns
        seed = np.mean(returns[1 : EWMA_SEED + 1] ** 2)
        squares = returns[EWMA_SEED + 1 :] ** 2
        decay = self.decay
        filtered = lfilter([1 - decay], [1, -decay], squares, zi=[decay * seed])[0]
        # sigma2[s+1|s] for s = EWMA_SEED, EWMA_SEED + 1, ..., picked at each origin
        one_step = np.concatenate([[seed], filtered])[origins - EWMA_SEED]  # (n,)
        steps = np.arange(1, horizons + 1)
        return Spread(np.sqrt(one_step[:, None] * steps), np.full(len(origins), np.inf))

    def frozen(self, history: History) -> "FilteredVariance":
        """RiskMetrics as the GARCH recursion it is (omega 0, alpha 1 - decay, beta
        decay, normal), standing at the last session: sigma2[t|t-1] is the spread's one
        step variance at origin t - 1."""
        last = len(history) - 1
        previous = self.spread(history, np.array([last - 1]), 1).sd[0, 0] ** 2
        fit = GarchFit(0.0, 1 - self.decay, 0.0, self.decay, np.inf, previous * PERCENT**2)
        return FilteredVariance(self.name, fit, history.as_of.date())


@dataclass(frozen=True)
class GarchFit:
    """One window's GARCH parameters, in percent returns (ret * 100).

    sigma2[s+1] = omega + (alpha + gamma * [ret[s] < 0]) * ret[s]**2 + delta * rm[s]
    + beta * sigma2[s]; gamma is 0 without leverage, delta 0 without the daily bar's
    range measure rm (`tickercast.models.garch_x`).

    Attributes:
        omega, alpha, gamma, beta: the variance recursion's parameters.
        nu: Student-t degrees of freedom of the innovations (np.inf: normal).
        last_variance: the variance of the window's last return, given those before it.
        failure: why the fit failed and these are a fallback's parameters; None if fitted.
        delta: the weight of yesterday's range measure (percent squared).
        kappa: the window's mean range measure over its mean squared return, by which
            the range measure ahead is forecast from the variance ahead.
    """

    omega: float
    alpha: float
    gamma: float
    beta: float
    nu: float
    last_variance: float
    failure: str | None = None
    delta: float = 0.0
    kappa: float = 0.0

    def filter(self, percent: np.ndarray, measure: np.ndarray | None = None) -> np.ndarray:
        """(m,) one-step variances sigma2[s+1|s] for the returns `percent` (percent units),
        the first being the window's last return; `measure` (m,) their sessions' range
        measures in percent squared, needed when delta is not 0."""
        from scipy.signal import lfilter

        shock = self.omega + (self.alpha + self.gamma * (percent < 0)) * percent**2  # (m,)
        if self.delta:
            shock = shock + self.delta * measure
        return lfilter([1.0], [1.0, -self.beta], shock, zi=[self.beta * self.last_variance])[0]

    def cumulative(self, one_step: np.ndarray, horizons: int) -> np.ndarray:
        """(n, H) expected variance of the sum of the next h returns, from (n,) one-step
        variances; innovations are symmetric, so a negative one comes half the time, and
        the range measure ahead is kappa times the variance ahead."""
        persistence = self.alpha + self.gamma / 2 + self.beta + self.delta * self.kappa
        ahead = np.empty((len(one_step), horizons))
        ahead[:, 0] = one_step
        for step in range(1, horizons):
            ahead[:, step] = self.omega + persistence * ahead[:, step - 1]
        return np.cumsum(ahead, axis=1)


def _fit_from_data(data: dict) -> GarchFit:
    return GarchFit(**data)


@functools.lru_cache(maxsize=4096)  # a window's key holds its returns: 8 kB, 32 MB at most
@persisted("garch", asdict, _fit_from_data)
def fit_garch(leverage: bool, window: bytes) -> GarchFit:
    """Fit zero-mean GARCH(1,1), or GJR-GARCH(1,1,1) with leverage, with Student-t errors.

    Cached on the window's returns alone, so that a backtest fold, whose history is a
    prefix of the full one, reuses the fits of the same windows.

    Args:
        leverage: add the GJR term (a negative return raises the variance more).
        window: the float64 bytes of the window's returns in percent.

    Returns:
        The fitted parameters, or RiskMetrics' (omega 0, alpha 0.06, beta 0.94, normal
        innovations) if the optimizer fails or gives non-finite parameters.
    """
    from arch import arch_model

    percent = np.frombuffer(window)
    try:
        with warnings.catch_warnings():
            # convergence and scale chatter from arch and scipy: the result is checked below
            warnings.simplefilter("ignore")
            result = arch_model(
                percent, mean="Zero", vol="GARCH", p=1, o=int(leverage), q=1, dist="t"
            ).fit(disp="off", show_warning=False)
    except Exception as error:  # the optimizer fails in many ways; the fallback is logged
        return _risk_metrics(percent, f"{type(error).__name__}: {error}")
    params = result.params
    fit = GarchFit(
        omega=float(params["omega"]),
        alpha=float(params["alpha[1]"]),
        gamma=float(params["gamma[1]"]) if leverage else 0.0,
        beta=float(params["beta[1]"]),
        nu=float(params["nu"]),
        last_variance=float(result.conditional_volatility[-1] ** 2),
    )
    values = (fit.omega, fit.alpha, fit.gamma, fit.beta, fit.nu, fit.last_variance)
    if not np.all(np.isfinite(values)):
        return _risk_metrics(percent, f"non-finite parameters {dict(params)}")
    return fit


@functools.lru_cache(maxsize=4096)
@persisted("garch_x", asdict, _fit_from_data)
def fit_range_garch(leverage: bool, window: bytes, measures: bytes) -> GarchFit:
    """Fit GARCH-X, zero mean, Student-t (`tickercast.models.garch_x`), with GJR's term if
    `leverage`: cached, as `fit_garch`, on the window's returns and range measures.

    Args:
        leverage: add the GJR term.
        window: the float64 bytes of the window's returns in percent.
        measures: the float64 bytes of the same sessions' range measures, percent squared.

    Returns:
        The fitted parameters, or `fit_garch`'s (no range term) if the optimizer fails.
    """
    from tickercast.models.garch_x import conditional_variance, fit_garch_x

    percent, measure = np.frombuffer(window), np.frombuffer(measures)
    try:
        parameters, kappa, _ = fit_garch_x(percent, measure, leverage)
    except ValueError as error:
        return replace(fit_garch(leverage, window), failure=f"GARCH-X: {error}")
    theta = parameters.as_array()
    return GarchFit(
        omega=parameters.omega,
        alpha=parameters.alpha,
        gamma=parameters.gamma,
        beta=parameters.beta,
        nu=parameters.nu,
        last_variance=float(conditional_variance(theta, percent, measure)[-1]),
        delta=parameters.delta,
        kappa=kappa,
    )


def _risk_metrics(percent: np.ndarray, failure: str) -> GarchFit:
    # the variance at the window's end is unknown: the window's mean square stands in
    return GarchFit(0.0, 0.06, 0.0, 0.94, np.inf, float(np.mean(percent**2)), failure)


@dataclass(frozen=True)
class Garch:
    """GARCH(1,1), or GJR-GARCH(1,1,1) with leverage: zero mean, Student-t innovations;
    with `range_term`, GARCH-X on the daily bar's range measure (`tickercast.models.garch_x`).

    Origin t uses the parameters fitted at its refit point r = t - t % refit_every on
    the `window` returns up to r (at t itself while r has fewer than `MIN_RETURNS`
    returns), and the variance filtered with those parameters through ret[t] (and,
    with the range term, rm[t]: session t's bar is known at its close).
    """

    leverage: bool = False
    # about four years of sessions: long enough to pin down the persistence, short
    # enough to follow a change of regime
    window: int = 1000
    # sessions between refits, about a month. benchmarks/garch_cadence.py (10 members,
    # 2010-2012, not the reported sample): against daily refits, the interval score is
    # the same in the median at every cadence up to 126, but the worst ticker loses
    # 0.1 % (GARCH) and 0.7 % (GJR) at 21 against 1.7 % and 1.6 % at 126; 21 costs
    # about 0.5 s per model for 630 origins, daily refits 9-11 s
    refit_every: int = 21
    # yesterday's range measure in the variance equation: the open, high and low say
    # how far the price moved, which one close-to-close return says only noisily
    range_term: bool = False

    def __post_init__(self) -> None:
        if self.window < MIN_RETURNS or self.refit_every < 1:
            raise InputError(
                f"GARCH needs a window of at least {MIN_RETURNS} returns and a refit every "
                f"session or more, not window {self.window}, refit_every {self.refit_every}"
            )

    @property
    def name(self) -> str:
        return ("range_" if self.range_term else "") + ("gjr" if self.leverage else "garch")

    def fit(self, history: History, split: Split) -> "Garch":
        return self  # refitted walk-forward inside `spread`

    def _inputs(self, history: History) -> tuple[np.ndarray, np.ndarray | None]:
        """(N,) percent returns (NaN at 0) and, with the range term, range measures."""
        percent = PERCENT * history.returns
        return percent, PERCENT**2 * history.range_measure if self.range_term else None

    def _fit(self, percent: np.ndarray, measure: np.ndarray | None, refit: int) -> GarchFit:
        """The parameters fitted on the `window` returns up to position `refit`."""
        first = max(1, refit - self.window + 1)
        window = percent[first : refit + 1].tobytes()
        if measure is None:
            return fit_garch(self.leverage, window)
        return fit_range_garch(self.leverage, window, measure[first : refit + 1].tobytes())

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The spread at `origins` (each with at least `MIN_RETURNS` returns; any order,
        rows follow it) for h = 1..`horizons`."""
        origins = np.asarray(origins)
        _check_origins(origins, MIN_RETURNS, self.name)
        percent, measure = self._inputs(history)  # (N,) each, percent[0] is NaN
        refits = refit_points(origins, self.refit_every)
        variance = np.empty((len(origins), horizons))
        dof = np.empty(len(origins))
        for refit in np.unique(refits):
            members = np.flatnonzero(refits == refit)
            fit = self._fit(percent, measure, refit)
            if fit.failure:
                logger.warning(
                    "%s fit at position %d failed (%s): fallback parameters instead",
                    self.name,
                    refit,
                    fit.failure,
                )
            last = origins[members].max() + 1
            one_step = fit.filter(
                percent[refit:last], None if measure is None else measure[refit:last]
            )
            variance[members] = fit.cumulative(one_step[origins[members] - refit], horizons)
            dof[members] = fit.nu
        return Spread(np.sqrt(variance) / PERCENT, dof)

    def frozen(self, history: History) -> "FilteredVariance":
        """The parameters of the last session's refit, with the variance filtered up to
        it: sigma2[t|t-1], from which `FilteredVariance` takes the return of t on."""
        last = len(history) - 1
        _check_origins(np.array([last]), MIN_RETURNS, self.name)
        refit = int(refit_points(np.array([last]), self.refit_every)[0])
        percent, measure = self._inputs(history)
        fit = self._fit(percent, measure, refit)
        # one_step[k] is sigma2[refit + k + 1 | refit + k]; at the refit itself, the fit's own
        previous = (
            fit.filter(percent[refit:last], None if measure is None else measure[refit:last])[-1]
            if last > refit
            else fit.last_variance
        )
        return FilteredVariance(
            self.name,
            replace(fit, last_variance=float(previous)),
            history.as_of.date(),
        )


@dataclass(frozen=True)
class FilteredVariance:
    """A variance recursion (GARCH, GJR, GARCH-X, or RiskMetrics as GARCH with omega 0)
    frozen at one session: its parameters, and the variance of that session's return
    given the sessions before (`fit.last_variance`). From there it filters each later
    return (and range measure) with the same parameters, so a model that carries it
    needs only the recent sessions.

    Its spread at the frozen session equals the full model's there; at later sessions it
    holds the parameters where the full model would have refitted them.
    """

    name: str
    fit: GarchFit
    session: date

    def spread(self, history: History, origins: np.ndarray, horizons: int) -> Spread:
        """The spread at `origins` at or after `session`, which `history` must hold (with
        the session before it, for its return)."""
        origins = np.asarray(origins)
        matches = np.flatnonzero(history.prices["session"].dt.date.to_numpy() == self.session)
        if not len(matches) or matches[0] < 1:
            raise InputError(
                f"{self.name}: the model's variance is as of {self.session}; the input must "
                "hold that session and the one before it"
            )
        start = int(matches[0])
        if len(origins) and origins.min() < start:
            raise InputError(f"{self.name}: no spread before {self.session}, where it was frozen")
        percent = PERCENT * history.returns
        last = origins.max() + 1
        measure = PERCENT**2 * history.range_measure[start:last] if self.fit.delta else None
        one_step = self.fit.filter(percent[start:last], measure)  # sigma2[s+1|s], s >= start
        variance = self.fit.cumulative(one_step[origins - start], horizons)
        return Spread(np.sqrt(variance) / PERCENT, np.full(len(origins), self.fit.nu))

    def frozen(self, history: History) -> "FilteredVariance":
        return self

    def as_dict(self) -> dict:
        return {
            "kind": "filtered_variance",
            "name": self.name,
            "session": self.session.isoformat(),
            **{key: getattr(self.fit, key) for key in (*_FIT_FIELDS, *_RANGE_FIELDS)},
        }


# what a `FilteredVariance` saves of its `GarchFit` (infinite nu is written as Infinity,
# which Python's json reads back)
_FIT_FIELDS = ("omega", "alpha", "gamma", "beta", "nu", "last_variance", "failure")
# saved since GARCH-X; a model saved before them has no range term
_RANGE_FIELDS = ("delta", "kappa")


def volatility_from_dict(data: dict) -> VolatilityModel:
    """A frozen volatility model from `as_dict`'s data (the LSTM head, which needs its
    network, is `LSTMHead.from_dict`'s).

    Raises:
        ValueError: a kind this version does not know.
    """
    kind = data["kind"]
    if kind == ConstantScale.name:
        return ConstantScale()
    if kind == RealizedVolatility.name:
        return RealizedVolatility(int(data["lookback"]))
    if kind == "filtered_variance":
        fit = GarchFit(**{key: data[key] for key in (*_FIT_FIELDS, *_RANGE_FIELDS) if key in data})
        return FilteredVariance(data["name"], fit, date.fromisoformat(data["session"]))
    raise ValueError(f"unknown volatility model {kind!r}")


def refit_points(origins: np.ndarray, every: int) -> np.ndarray:
    """(n,) where each origin's parameters were fitted: its last multiple of `every`, or
    the origin itself while that multiple has fewer than `MIN_RETURNS` returns."""
    refits = origins - origins % every
    return np.where(refits < MIN_RETURNS, origins, refits)


def _check_origins(origins: np.ndarray, minimum: int, model: str) -> None:
    if len(origins) and origins.min() < minimum:
        raise InputError(
            f"{model}: origin {origins.min()} has {origins.min()} returns up to it; the "
            f"model needs at least {minimum}"
        )
