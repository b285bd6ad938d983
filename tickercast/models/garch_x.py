"""GARCH-X: a GARCH(1,1) (optionally GJR) whose variance also follows yesterday's range.

    sigma2[t] = omega + (alpha + gamma * [ret[t-1] < 0]) * ret[t-1]**2
                + delta * rm[t-1] + beta * sigma2[t-1],

with Student-t innovations of unit variance, zero mean, returns in percent, and rm the
daily bar's range measure (`tickercast.data.daily_bar`) in the same units. Python's `arch`
has no exogenous term in the variance equation (bashtage/arch#351); this is its
likelihood and its start-up, word for word where delta is 0 (tests/test_garch_x.py
holds the two side by side), maximized with scipy.

The h-step forecast needs rm ahead. The range measure estimates the same variance as
ret**2, up to a ratio kappa = mean(rm) / mean(ret**2) on the fitting window (below 1
where the range misses what moves between the close and the next open's auction, or
when the bar is coarse), so E[rm[t+k]] = kappa * E[sigma2[t+k]], and ahead

    E[sigma2[t+k+1]] = omega + (alpha + gamma / 2 + beta + delta * kappa) * E[sigma2[t+k]],

the HEAVY model's reduced form (Shephard and Sheppard 2010): the variance decays to
its mean at the rate `persistence`. The fit keeps that persistence below 1.
"""

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.signal import lfilter
from scipy.special import gammaln

# arch's start-up: sigma2 before the first return is an exponentially weighted mean of
# the first 75 squares, weights 0.94**i (VolatilityProcess.backcast)
_BACKCAST_SPAN, _BACKCAST_DECAY = 75, 0.94
# below 1 by a hair, as arch's constraint alpha + gamma / 2 + beta <= 1 allows
_MAX_PERSISTENCE = 1 - 1e-6
# Student-t degrees of freedom: above 2 for a finite variance, arch's bounds
_NU_BOUNDS = (2.05, 500.0)


@dataclass(frozen=True)
class GarchXParameters:
    """omega, alpha, gamma, beta, delta, nu of the recursion above (percent units)."""

    omega: float
    alpha: float
    gamma: float
    beta: float
    delta: float
    nu: float

    def as_array(self) -> np.ndarray:
        return np.array([self.omega, self.alpha, self.gamma, self.beta, self.delta, self.nu])


def backcast(values: np.ndarray) -> float:
    """arch's start-up value: the first squares' (or range measures') weighted mean."""
    span = min(_BACKCAST_SPAN, len(values))
    weights = _BACKCAST_DECAY ** np.arange(span)
    return float(np.sum(values[:span] * weights) / weights.sum())


def conditional_variance(
    parameters: np.ndarray, percent: np.ndarray, measure: np.ndarray
) -> np.ndarray:
    """(n,) sigma2[t] for t = 0..n-1 of the window's returns given those before it.

    Args:
        parameters: omega, alpha, gamma, beta, delta, nu.
        percent: (n,) returns in percent.
        measure: (n,) range measures in percent squared (zeros without a range term).
    """
    omega, alpha, gamma, beta, delta, _ = parameters
    squares = percent**2
    start = omega + (alpha + gamma / 2 + beta) * backcast(squares) + delta * backcast(measure)
    # the shock of t is made of t-1's return and range
    shock = omega + (alpha + gamma * (percent[:-1] < 0)) * squares[:-1] + delta * measure[:-1]
    rest = lfilter([1.0], [1.0, -beta], shock, zi=[beta * start])[0]
    return np.concatenate([[start], rest])


def log_likelihood(parameters: np.ndarray, percent: np.ndarray, measure: np.ndarray) -> float:
    """The Student-t log-likelihood of the window's returns, as arch's StudentsT sums it."""
    nu = parameters[5]
    variance = conditional_variance(parameters, percent, measure)
    if not np.all(variance > 0):
        return -np.inf
    constant = gammaln((nu + 1) / 2) - gammaln(nu / 2) - math.log(math.pi * (nu - 2)) / 2
    terms = np.log(variance) / 2 + (nu + 1) / 2 * np.log1p(percent**2 / (variance * (nu - 2)))
    return float(len(percent) * constant - terms.sum())


def fit_garch_x(
    percent: np.ndarray, measure: np.ndarray | None, leverage: bool
) -> tuple[GarchXParameters, float, float]:
    """Maximum likelihood GARCH-X (GARCH, or GJR with `leverage`, where `measure` is None).

    Args:
        percent: (n,) the window's returns in percent.
        measure: (n,) the same sessions' range measures in percent squared, or None for
            no range term (delta fixed at 0: arch's model).
        leverage: estimate gamma (else fixed at 0).

    Returns:
        The parameters, kappa (mean range measure over mean squared return; 0 without a
        range term) and the log-likelihood.

    Raises:
        ValueError: the optimizer found no finite likelihood.
    """
    measure = np.zeros_like(percent) if measure is None else measure
    with_range = bool(measure.any())
    mean_square = float(np.mean(percent**2))
    kappa = float(np.mean(measure)) / mean_square if with_range else 0.0

    def loss(theta: np.ndarray) -> float:
        value = -log_likelihood(theta, percent, measure)
        return value if np.isfinite(value) else 1e12

    def persistence(theta: np.ndarray) -> float:
        return _MAX_PERSISTENCE - (theta[1] + theta[2] / 2 + theta[3] + theta[4] * kappa)

    fixed_zero = (0.0, 0.0)
    bounds = [
        (1e-8 * mean_square, 2 * mean_square),
        (0.0, 1.0),
        (-1.0, 2.0) if leverage else fixed_zero,  # arch lets gamma be negative too
        (0.0, 1.0),
        (0.0, 1.0 / kappa) if with_range else fixed_zero,
        _NU_BOUNDS,
    ]
    constraints = [{"type": "ineq", "fun": persistence}]
    if leverage:  # a positive return must not lower the variance either
        constraints.append({"type": "ineq", "fun": lambda theta: theta[1] + theta[2]})
    gamma = 0.05 if leverage else 0.0
    results = []
    # two starts: a classic GARCH and one that leans on the range (as arch tries a grid)
    for alpha, beta, share in ((0.08, 0.88, 0.0), (0.02, 0.7, 0.25)):
        delta = share / kappa if with_range else 0.0
        alpha -= gamma / 2  # the same persistence with the leverage term
        omega = mean_square * (1 - alpha - gamma / 2 - beta - delta * kappa)
        start = np.array([omega, alpha, gamma, beta, delta, 8.0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SLSQP's line-search chatter; checked below
            results.append(
                minimize(
                    loss,
                    start,
                    method="SLSQP",
                    bounds=bounds,
                    constraints=constraints,
                    options={"maxiter": 200, "ftol": 1e-9},
                )
            )
    best = min(results, key=lambda result: result.fun)
    if best.fun >= 1e12 or not np.all(np.isfinite(best.x)):
        raise ValueError(f"no finite likelihood (SLSQP: {best.message})")
    return GarchXParameters(*map(float, best.x)), kappa, -float(best.fun)
