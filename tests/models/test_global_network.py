"""The global network: pooled per-ticker-normalised windows, its files, its flow, and
daily runs that use it in place of a per-ticker fit."""

from datetime import date

import mlflow
import numpy as np
import pytest

from tickercast.data.history import History
from tickercast.data.sources import SampleSource
from tickercast.data.storage import Store
from tickercast.data.windows import WindowSpec, select_history, split_origins
from tickercast.errors import InputError, ModelFormatError
from tickercast.flows.daily_forecast import daily_forecast
from tickercast.flows.global_model import train_global
from tickercast.flows.ingest import ingest
from tickercast.models.global_network import (
    GlobalConfig,
    GlobalNetwork,
    load_global,
    pooled_windows,
    save_global,
)
from tickercast.models.network import build_network
from tickercast.models.network_config import ModelConfig
from tickercast.models.retraining import Training, plan_global
from tickercast.models.scaling import Preprocessor

SMALL = {"epochs": 2, "window": 20, "horizons": 3}


@pytest.fixture(scope="module")
def histories():
    source = SampleSource()
    return {
        ticker: select_history(
            source.fetch(ticker, None, None), ticker, date(2010, 1, 4), date(2013, 2, 25), "XNYS"
        )
        for ticker in ("AAPL", "MSFT", "IBM")
    }


def test_each_ticker_adds_its_recent_fit_windows_normalised_by_its_own_scalers(histories):
    spec = WindowSpec(window=20, horizons=3)
    short = {"NEW": histories["AAPL"].tail(100).reset_index(drop=True)}
    pooled = pooled_windows({**histories, **short}, spec, GlobalConfig(windows_per_ticker=300))
    assert pooled.tickers == ("AAPL", "MSFT", "IBM")
    assert "NEW: too little history" in pooled.skipped["NEW"]
    x, y = pooled.fit
    assert x.shape == (900, 20, len(spec.feature_names)) and y.shape == (900, 3)
    # MSFT's block is its 300 most recent fit windows, scaled by scalers of its own
    msft = History.of(histories["MSFT"])
    split = split_origins(len(msft), spec, "MSFT")
    own = Preprocessor.fit(msft, spec, split.fit)
    np.testing.assert_array_equal(y[300:600], own.targets(msft, split.fit[-300:]))
    assert len(pooled.calibration[1]) == sum(
        len(split_origins(len(h), spec, t).calibration) for t, h in histories.items()
    )


def test_the_global_network_is_saved_as_data_and_refused_in_an_unknown_format(tmp_path):
    spec = WindowSpec(window=20, horizons=3)
    network = build_network(ModelConfig(units=8), 20, len(spec.feature_names), 3)
    model = GlobalNetwork(network, spec, date(2013, 2, 25), ("AAPL", "MSFT"))
    folder = save_global(model, tmp_path / "global")
    loaded = load_global(folder)
    assert (loaded.spec, loaded.as_of, loaded.tickers) == (spec, model.as_of, model.tickers)
    inputs = np.random.default_rng(0).normal(size=(4, 20, len(spec.feature_names)))
    np.testing.assert_allclose(loaded.network(inputs), network(inputs), rtol=1e-6)
    (folder / "global.json").write_text('{"format_version": 9}')
    with pytest.raises(ModelFormatError, match="format_version 9, this tickercast reads 1"):
        load_global(folder)
    other = WindowSpec(window=30, horizons=3)
    with pytest.raises(InputError, match="AAPL: the global model m-1 was trained on other"):
        plan_global(model, "m-1", "AAPL", date(2013, 2, 26), other)
    with pytest.raises(InputError, match="AAPL: no global model .* run `tickercast train-"):
        plan_global(None, None, "AAPL", date(2013, 2, 26), spec)
    plan = plan_global(model, "m-1", "AAPL", date(2013, 2, 25), spec)  # as of the same day
    assert (plan.training, plan.full_as_of, plan.global_network, plan.logged_as) == (
        Training.GLOBAL,
        model.as_of,
        model,
        "m-1",
    )


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_daily_runs_with_the_global_model_train_nothing_per_ticker(settings):
    tickers = ["AAPL", "MSFT"]
    assert ingest(tickers=tickers, source="sample", as_of=date(2013, 2, 25)) is not None
    summary = train_global(
        tickers=[*tickers, "ZZZZ"], start=date(2010, 1, 4), as_of=date(2013, 2, 25), **SMALL
    )
    assert (
        summary.startswith("global network as of 2013-02-25: 2 tickers")
        and "1 tickers skipped" in summary
    )
    global_id = summary.rsplit(" ", 1)[-1]
    state = daily_forecast(
        tickers=tickers,
        source="sample",
        start=date(2010, 1, 4),
        as_of=date(2013, 2, 26),
        model="global",
        return_state=True,
        **SMALL,
    )
    assert state.is_completed(), state.message
    client = mlflow.MlflowClient(tracking_uri=Store(settings.home).local_tracking_uri)
    assert client.get_logged_model(global_id).tags["kind"] == "global"
    for outcome in state.result():
        run = client.get_run(outcome.result.mlflow_run_id)
        assert (
            run.data.tags["training"] == "global" and global_id in run.data.tags["training_reason"]
        )
        assert run.data.metrics["fit_seconds"] == 0 and "best_epoch" in run.data.metrics
        # the ticker's LSTM is the global LoggedModel itself, copied only to be registered
        copies = client.search_logged_models(
            [run.info.experiment_id], filter_string=f"tags.ticker = '{run.data.tags['ticker']}'"
        )
        if "registered_version" in run.data.tags:
            (model,) = copies
            assert model.model_id == run.data.tags["lstm_model_id"]
            assert model.tags["training"] == "global" and model.source_run_id == run.info.run_id
        else:
            assert (copies, run.data.tags["lstm_model_id"]) == ([], global_id)
    # the ticker's own LSTM never starts from the global network
    own = daily_forecast(
        tickers=["AAPL"],
        source="sample",
        start=date(2010, 1, 4),
        as_of=date(2013, 2, 27),
        return_state=True,
        **SMALL,
    )
    (outcome,) = own.result()
    run = client.get_run(outcome.result.mlflow_run_id)
    assert (run.data.tags["training"], run.data.tags["training_reason"]) == (
        "full",
        "no earlier network",
    )
