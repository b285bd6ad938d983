"""GARCH-X against `arch` where the two coincide (no range term), and its forecast ahead."""

import numpy as np
import pytest
from arch import arch_model

from tickercast.data.daily_bar import range_measure
from tickercast.models.garch_x import conditional_variance, fit_garch_x, log_likelihood
from tickercast.models.volatility import GarchFit


@pytest.fixture(scope="module")
def window(sample_aapl):
    """1000 sessions of real AAPL (2003-2007): returns in percent and range measures."""
    prices = sample_aapl.iloc[800:1801].reset_index(drop=True)
    percent = 100 * np.diff(np.log(prices["adjusted_close"].to_numpy()))
    return percent, 100**2 * range_measure(prices)[1:]


def _arch(percent: np.ndarray, leverage: bool):
    return arch_model(percent, mean="Zero", vol="GARCH", p=1, o=int(leverage), q=1, dist="t").fit(
        disp="off", show_warning=False
    )


def _theta(result, leverage: bool) -> np.ndarray:
    params = result.params
    gamma = params["gamma[1]"] if leverage else 0.0
    return np.array(
        [params["omega"], params["alpha[1]"], gamma, params["beta[1]"], 0.0, params["nu"]]
    )


@pytest.mark.parametrize("leverage", [False, True], ids=["garch", "gjr"])
def test_without_a_range_term_it_is_archs_likelihood_and_fit(window, leverage):
    percent, _ = window
    result = _arch(percent, leverage)
    theta = _theta(result, leverage)
    no_range = np.zeros_like(percent)
    # the same start-up, recursion and Student-t density as arch
    np.testing.assert_allclose(
        conditional_variance(theta, percent, no_range), result.conditional_volatility**2, rtol=1e-10
    )
    assert log_likelihood(theta, percent, no_range) == pytest.approx(
        result.loglikelihood, rel=1e-12
    )
    # and scipy's maximum is arch's
    fitted, kappa, likelihood = fit_garch_x(percent, None, leverage)
    assert kappa == 0 and fitted.delta == 0
    assert likelihood == pytest.approx(result.loglikelihood, abs=1e-3)
    np.testing.assert_allclose(fitted.as_array(), theta, rtol=0.02, atol=2e-3)


@pytest.mark.parametrize("leverage", [False, True], ids=["garch", "gjr"])
def test_the_range_term_can_only_raise_the_likelihood(window, leverage):
    percent, measure = window
    _, _, without = fit_garch_x(percent, None, leverage)
    fitted, kappa, with_range = fit_garch_x(percent, measure, leverage)
    assert with_range >= without - 1e-6  # nested: the optimizer must find at least as good
    if fitted.delta == 0:  # the range adds nothing here (AAPL's GJR, 2003-2007): GJR's fit
        assert with_range == pytest.approx(without, abs=1e-4)
    else:
        assert with_range > without
    assert kappa == pytest.approx(np.mean(measure) / np.mean(percent**2))
    persistence = fitted.alpha + fitted.gamma / 2 + fitted.beta + fitted.delta * kappa
    assert persistence < 1


def test_the_variance_ahead_forecasts_the_range_as_kappa_times_the_variance():
    """Simulated GARCH-X whose range measure is kappa times the variance times unit-mean
    noise: the h-step cumulative variance `GarchFit.cumulative` forecasts is the Monte
    Carlo mean of the squared h-session return."""
    rng = np.random.default_rng(24)
    fit = GarchFit(0.05, 0.03, 0.04, 0.80, 6.0, 1.0, delta=0.12, kappa=0.8)
    paths, horizons, variance = 400_000, 5, np.full(400_000, 2.5)  # sigma2[t+1|t]
    total = np.zeros(paths)
    simulated = np.empty((paths, horizons))
    for step in range(horizons):
        shocks = rng.standard_t(fit.nu, paths) * np.sqrt((fit.nu - 2) / fit.nu)
        returns = np.sqrt(variance) * shocks
        measure = fit.kappa * variance * rng.gamma(4.0, 1 / 4.0, paths)  # mean kappa sigma2
        total += returns
        simulated[:, step] = total**2
        variance = (
            fit.omega
            + (fit.alpha + fit.gamma * (returns < 0)) * returns**2
            + fit.delta * measure
            + fit.beta * variance
        )
    expected = fit.cumulative(np.array([2.5]), horizons)[0]
    np.testing.assert_allclose(simulated.mean(axis=0), expected, rtol=0.015)
