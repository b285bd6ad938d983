import io
import itertools
import os
import string
import subprocess
import sys
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from tickercast.evaluation import plots
from tickercast.evaluation.scores import mase_scales, score
from tickercast.tracking import run_record


def test_figures_show_intervals_coverage_residuals_and_ratios(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    scales = mase_scales(history, fitted.split.fit, 3)
    scored = score(
        "lstm", fitted.candidates["lstm"], history, fitted.split.holdout, small_spec, scales
    )
    sessions = history.prices["session"].to_numpy()[fitted.split.holdout]
    bands = plots.forecast_bands("AAPL holdout", sessions, scored)
    lines = {line.get_label(): line for line in bands.axes[0].get_lines()}
    assert list(lines) == ["actual", "lstm", "naive (close at origin)"]
    # naive is dashed, on top: a forecast close to it would hide it otherwise
    naive = lines["naive (close at origin)"]
    assert naive.get_linestyle() == "--" and naive.get_zorder() > lines["lstm"].get_zorder()
    assert len(bands.axes[0].collections) == 2  # the 95 % and 80 % bands
    assert _legend_is_outside(bands)
    coverage = plots.coverage_by_horizon("AAPL", scored)
    assert len(coverage.axes[0].patches) == 2 * 3
    residuals = plots.residual_histogram("AAPL", scored)
    assert sum(p.get_height() for p in residuals.axes[0].patches) == len(sessions)
    ratios = plots.ratio_bars("t", {"lstm": [0.98, 1.03], "ar": [1.01, 1.0]}, ["h=1", "h=2"])
    assert len(ratios.axes[0].patches) == 4
    # centred on 1: 0.98 and 1.03 are told apart, as bars from 0 would not show them
    low, high = ratios.axes[0].get_ylim()
    assert low == pytest.approx(2 - high) and 0.95 < low < 0.98 and 1.03 < high < 1.05
    heights = [patch.get_height() for patch in ratios.axes[0].patches]
    assert heights == pytest.approx([-0.02, 0.03, 0.01, 0.0])  # from 1
    assert _legend_is_outside(ratios)
    curves = plots.training_curves("AAPL", {"loss": [0.3, 0.2], "val_loss": [0.4, 0.1]}, 2)
    assert [line.get_label() for line in curves.axes[0].get_lines()][-1] == "kept epoch 2"
    # plain Figures: nothing registered with pyplot, nothing to close
    assert plt.get_fignums() == []
    frame = pd.DataFrame(
        {
            "target_date": pd.to_datetime(["2013-03-04", "2013-03-05", "2013-03-06"]),
            **{name: [430.0, 431.0, 432.0] for name in ("forecast",)},
            "lower_80": [420.0, 416.0, 412.0],
            "upper_80": [440.0, 446.0, 452.0],
            "lower_95": [410.0, 404.0, 398.0],
            "upper_95": [450.0, 458.0, 466.0],
        }
    )
    recent = history.prices.tail(120)
    fan = plots.forecast_fan(
        "AAPL", recent["session"].to_numpy(), recent["close"].to_numpy(), frame
    )
    forecast = next(line for line in fan.axes[0].get_lines() if line.get_label() == "forecast")
    # it opens at the last close, then one point per session ahead
    assert list(forecast.get_ydata()) == [recent["close"].iloc[-1], 430.0, 431.0, 432.0]
    assert len(fan.axes[0].collections) == 2 and _legend_is_outside(fan)
    for figure in (bands, coverage, residuals, ratios, curves, fan):
        rendered = io.BytesIO()
        figure.savefig(rendered, format="png")  # as MLflow's log_figure does
        assert rendered.getvalue().startswith(b"\x89PNG")


def _legend_is_outside(figure) -> bool:
    """Whether the figure's legend sits right of its plot, where it covers no data."""
    legend = figure.axes[0].get_legend()
    return legend is not None and legend.get_bbox_to_anchor().x0 > figure.axes[0].bbox.x1


@pytest.mark.slow
def test_importing_the_plots_leaves_the_matplotlib_backend_alone():
    """A library module chooses no backend: an application's choice (here MPLBACKEND) holds."""
    script = "import matplotlib, tickercast.evaluation.plots; print(matplotlib.get_backend())"
    environment = {**os.environ, "MPLBACKEND": "svg", "TF_CPP_MIN_LOG_LEVEL": "3"}
    shown = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "svg"


def test_a_runs_plot_data_draws_its_figures_later(fitted_aapl, small_spec, tmp_path):
    history, fitted = fitted_aapl
    scales, holdout_origins = mase_scales(history, fitted.split.fit, 3), fitted.split.holdout
    scored = {
        name: score(name, fitted.candidates[name], history, holdout_origins, small_spec, scales)
        for name in ("lstm", "naive", "ar")
    }
    holdout = run_record.HoldoutPlots(
        ticker="AAPL",
        sessions=history.prices["session"].to_numpy()[fitted.split.holdout],
        lstm=scored["lstm"],
        published=scored["naive"],
        ratios={name: [m["rmse_ratio"] for m in entry.metrics] for name, entry in scored.items()},
        history=fitted.trained.history,
        best_epoch=fitted.trained.best_epoch,
    )
    path = holdout.save(tmp_path / "holdout.npz")
    assert path.stat().st_size < 100_000
    loaded = run_record.HoldoutPlots.load(path)
    assert loaded.ticker == "AAPL" and (loaded.sessions == holdout.sessions).all()
    for kept, again in ((holdout.lstm, loaded.lstm), (holdout.published, loaded.published)):
        assert again.name == kept.name and again.bounds.keys() == kept.bounds.keys()
        np.testing.assert_array_equal(again.forecast, kept.forecast)
        np.testing.assert_array_equal(again.bounds[0.95][0], kept.bounds[0.95][0])
        # the metrics are computed again from the arrays, as they were the first time
        for row, first in zip(again.metrics, kept.metrics, strict=True):
            assert row == pytest.approx(first, nan_ok=True)
    assert loaded.ratios == holdout.ratios and list(loaded.ratios) == ["lstm", "naive", "ar"]
    assert loaded.history == holdout.history and loaded.best_epoch == holdout.best_epoch
    figures = run_record.holdout_figures(loaded)
    assert set(figures) == {
        "plots/holdout_lstm.png",
        "plots/holdout_published.png",
        "plots/coverage_by_horizon.png",
        "plots/residuals.png",
        "plots/rmse_ratio_by_horizon.png",
        "plots/training_curves.png",
    }
    assert len(figures["plots/rmse_ratio_by_horizon.png"].axes[0].patches) == 3 * 3
    # a reused LSTM was not trained that evening: no training curves to draw
    reused = replace(loaded, history={"loss": [], "val_loss": []})
    assert "plots/training_curves.png" not in run_record.holdout_figures(reused)


def test_figures_are_drawn_where_a_reviewer_looks():
    assert run_record.reviewed("AAPL", "lstm") and run_record.reviewed("AAPL", "champion")
    assert not run_record.reviewed("AAPL", "naive")
    assert run_record.reviewed("AAPL", "naive", alarm=True)
    # a fixed sample of the rest, the same tickers every evening: about 1 in PLOT_SAMPLE
    assert run_record.reviewed("ORCL", "naive") and run_record.reviewed("ACN", "naive")
    symbols = ["".join(pair) for pair in itertools.product(string.ascii_uppercase, repeat=2)]
    sampled = [symbol for symbol in symbols if run_record.reviewed(symbol, "naive")]
    assert len(sampled) == 29  # of 676, where 1 in 20 would be 34
