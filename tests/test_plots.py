import io
import itertools
import os
import string
import subprocess
import sys
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pytest

from tickercast import plots, run_record
from tickercast.evaluate import mase_scales, score


def test_figures_show_intervals_coverage_residuals_and_ratios(fitted_aapl, small_spec):
    history, fitted = fitted_aapl
    scales = mase_scales(history, fitted.split.fit, 3)
    scored = score(
        "lstm", fitted.candidates["lstm"], history, fitted.split.holdout, small_spec, scales
    )
    sessions = history["session"].to_numpy()[fitted.split.holdout]
    bands = plots.forecast_bands("AAPL holdout", sessions, scored)
    labels = [line.get_label() for line in bands.axes[0].get_lines()]
    assert labels == ["actual", "naive (close at origin)", "lstm"]
    assert len(bands.axes[0].collections) == 2  # the 95 % and 80 % bands
    coverage = plots.coverage_by_horizon("AAPL", scored)
    assert len(coverage.axes[0].patches) == 2 * 3
    residuals = plots.residual_histogram("AAPL", scored)
    assert sum(p.get_height() for p in residuals.axes[0].patches) == len(sessions)
    ratios = plots.ratio_bars("t", {"lstm": [1.0, 1.1], "ar": [0.9, 1.0]}, ["fold 1", "fold 2"])
    assert len(ratios.axes[0].patches) == 4
    curves = plots.training_curves("AAPL", {"loss": [0.3, 0.2], "val_loss": [0.4, 0.1]}, 2)
    assert [line.get_label() for line in curves.axes[0].get_lines()][-1] == "kept epoch 2"
    # plain Figures: nothing registered with pyplot, nothing to close
    assert plt.get_fignums() == []
    for figure in (bands, coverage, residuals, ratios, curves):
        rendered = io.BytesIO()
        figure.savefig(rendered, format="png")  # as MLflow's log_figure does
        assert rendered.getvalue().startswith(b"\x89PNG")


@pytest.mark.slow
def test_importing_the_plots_leaves_the_matplotlib_backend_alone():
    """A library module chooses no backend: an application's choice (here MPLBACKEND) holds."""
    script = "import matplotlib, tickercast.plots; print(matplotlib.get_backend())"
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
        sessions=history["session"].to_numpy()[fitted.split.holdout],
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
