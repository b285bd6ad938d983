import io
import os
import subprocess
import sys

import matplotlib.pyplot as plt
import pytest

from tickercast import plots
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
