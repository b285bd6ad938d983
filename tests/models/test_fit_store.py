"""Volatility fits kept across evenings: a later process filters what an earlier fitted."""

import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.models.fit_store import kept_in
from tickercast.models.har import LogHar, fit_har
from tickercast.models.volatility import Garch, fit_garch, fit_range_garch

MODELS = [Garch(leverage=True), Garch(range_term=True), LogHar()]
FITS = (fit_garch, fit_range_garch, fit_har)


@pytest.fixture
def evening(sample_aapl, tmp_path):
    """A home's fit folder kept for the test, and caches as cold as a new process's."""
    for fit in FITS:
        fit.cache_clear()
    with kept_in(tmp_path / "fits"):
        yield History.of(sample_aapl.head(1300).reset_index(drop=True)), tmp_path / "fits"
    for fit in FITS:
        fit.cache_clear()


def _unfittable(monkeypatch) -> None:
    """Any fit from here on fails loudly: what follows must read, not fit."""

    def refuse(*arguments, **keywords):
        raise AssertionError("fitted again")

    monkeypatch.setattr("arch.arch_model", refuse)
    monkeypatch.setattr("tickercast.models.garch_x.fit_garch_x", refuse)
    monkeypatch.setattr("tickercast.models.har.np.linalg.lstsq", refuse)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.name)
def test_the_next_evening_reads_each_window_it_fitted(evening, model, monkeypatch):
    history, folder = evening
    origins = np.arange(1150, 1299)  # eight refit points, as a daily run's year has twelve
    first = model.spread(history, origins, 5)
    files = sorted(folder.rglob("*.json"))
    assert len(files) == 8
    assert {file.stat().st_mode & 0o777 for file in files} == {0o644}  # a team's home
    for fit in FITS:
        fit.cache_clear()
    _unfittable(monkeypatch)
    later = model.spread(history, origins, 5)
    np.testing.assert_array_equal(later.sd, first.sd)
    np.testing.assert_array_equal(later.dof, first.dof)


def test_a_file_that_does_not_parse_is_refitted(evening, caplog):
    history, folder = evening
    model = Garch(range_term=True)
    first = model.spread(history, np.array([1200]), 5)
    (kept,) = folder.rglob("*.json")
    kept.write_text('{"omega": 0.1')  # cut short
    fit_range_garch.cache_clear()
    again = model.spread(history, np.array([1200]), 5)
    np.testing.assert_array_equal(again.sd, first.sd)
    assert "did not parse" in caplog.text
    assert kept.read_text().startswith('{"omega"') and kept.read_text().endswith("}")


def test_the_folder_holds_within_its_block_only(sample_aapl, tmp_path):
    """Outside `kept_in` nothing is written: a stage's home never outlives the stage."""
    with kept_in(tmp_path / "fits"):
        pass
    fit_garch.cache_clear()
    Garch().spread(History.of(sample_aapl.head(1100)), np.array([1099]), 5)
    assert not any(tmp_path.iterdir())
