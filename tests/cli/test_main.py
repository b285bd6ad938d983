import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SMALL_RUN_OPTIONS
from tickercast.cli.main import main
from tickercast.evaluation.backtest import MODELS
from tickercast.models.candidates import INTERVAL_MODELS, POINT_MODELS


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_run_prints_a_summary_and_forecast_reads_it_back(settings, capsys):
    code = main(
        [
            "run",
            "--source",
            "sample",
            "--tickers",
            "IBM",
            "--epochs",
            "1",
            "--start",
            "2011-06-01",
            "--window",
            "20",
            "--horizons",
            "3",
        ]
    )
    output = capsys.readouterr().out
    assert code == 0, output
    assert "IBM      2013-03-01 2013-03-04" in output
    assert "why:      no model beats naive" in output
    assert "ratio h=1" in output and "mean of h=1-H" in output  # which horizon each ratio is
    assert "interval: " in output and "interval score" in output
    assert str(settings.home / "forecasts" / "IBM" / "2013-03-01.parquet") in output
    assert f"sqlite:///{settings.home / 'mlflow.db'}" in output

    # a naive run drew no figures; they are drawn on demand from its saved data
    assert main(["plots", "IBM", "--out", str(settings.home / "drawn")]) == 0
    (folder,) = (settings.home / "drawn").iterdir()
    assert "holdout_lstm.png" in {p.name for p in folder.iterdir()}
    assert str(folder) in capsys.readouterr().out

    assert main(["forecast", "IBM"]) == 0
    shown = capsys.readouterr().out.splitlines()
    # what was published, both intervals of every horizon, and why that model and those bounds
    assert (
        shown[0].startswith("IBM as of 2013-03-01 (close ") and ": naive, intervals of " in shown[0]
    )
    assert shown[1].split() == [
        "h",
        "session",
        "forecast",
        "80",
        "%",
        "interval",
        "95",
        "%",
        "interval",
    ]
    assert shown[2].split()[:2] == ["1", "2013-03-04"] and shown[2].count("–") == 2
    assert shown[5].startswith("  why:       no model beats naive")
    assert shown[6].startswith("  intervals: ") and "interval score" in shown[6]
    assert main(["forecast"]) == 0 and "IBM" in capsys.readouterr().out

    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert status.startswith("IBM\n  data:     ")
    assert "  outcome:  published at " in status
    assert "  last run: IBM 2013-03-01 FINISHED, published naive" in status
    assert "  champion: none" in status
    assert "  forecast: " in status and "for 2013-03-04 as of 2013-03-01 (naive)" in status


def test_a_ticker_the_source_cannot_have_fails_before_any_server(settings, capsys, tmp_path):
    universe = tmp_path / "watchlist.txt"
    universe.write_text("# delisted\nZZZZ\n")
    code = main(["run", "--source", "sample", "--universe", str(universe), "--epochs", "1"])
    output = capsys.readouterr().out
    assert code == 1  # refused before any server started: the sample has no ZZZZ
    assert output == (
        "ZZZZ     FAILED before the run: NoPricesError: ZZZZ: no prices from source 'sample': "
        "the sample has AAPL, FB, GOOG, IBM, MSFT\n"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "--as-of", "2013-13-01"], "not a date (YYYY-MM-DD): '2013-13-01'"),
        (["run", "--task-runner", "spark"], "invalid choice: 'spark'"),
    ],
)
def test_usage_errors_exit_2(settings, capsys, arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_universe_lines_and_settings_exit_2_before_any_run(
    settings, capsys, tmp_path, monkeypatch
):
    assert main(["run", "--universe", "missing.txt"]) == 2
    assert "universe missing.txt: cannot read it" in capsys.readouterr().err
    universe = tmp_path / "watchlist.txt"
    universe.write_text("AAPL\nBRK B\n")
    assert main(["run", "--universe", str(universe)]) == 2
    assert "watchlist.txt, line 2: not a ticker: 'BRK B'" in capsys.readouterr().err
    universe.write_text("AAPL\n")
    with pytest.raises(SystemExit):
        main(["run", "--tickers", "MSFT", "--universe", str(universe)])
    assert "not allowed with argument" in capsys.readouterr().err
    assert main(["run", "--dask-address", "tcp://127.0.0.1:8786"]) == 2
    assert "dask_address needs task_runner dask" in capsys.readouterr().err
    monkeypatch.setenv("TICKERCAST_YAHOO_REQUESTS_PER_SECOND", "-1")
    assert main(["status"]) == 2
    assert "TICKERCAST_YAHOO_REQUESTS_PER_SECOND must be above 0" in capsys.readouterr().err


def test_progress_bars_follow_each_tickers_stage_states():
    from prefect.states import Completed, Failed
    from rich.console import Console
    from rich.progress import Progress

    from tickercast.cli.progress import StageProgress

    stages = ("ingest_prices", "build_windows", "train_model")
    with Progress(console=Console(file=open("/dev/null", "w"))) as progress:  # noqa: SIM115
        bars = StageProgress(progress, ["AAPL", "BRK-B"], stages)
        bars("ingest_prices", "AAPL", Completed())
        bars("build_windows", "AAPL", Completed(name="Cached"))
        bars("start_tracking_run", "AAPL", Completed())  # not a counted stage
        bars("ingest_prices", "BRK-B", Completed())
        bars("train_model", "BRK-B", Failed(message="boom"))
        tasks = {task.id: task for task in progress.tasks}
        aapl, brk = tasks[bars.bars["AAPL"]], tasks[bars.bars["BRK-B"]]
    assert (aapl.completed, aapl.description) == (2, "AAPL     build_windows done")
    assert brk.completed == 1 and "failed in train_model" in brk.description


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_stage_state_hooks_reach_a_progress_listener(settings):
    from prefect.client.schemas.objects import StateType

    from tickercast.flows.daily_forecast import STAGES, daily_forecast
    from tickercast.tasks.retries import stage_progress

    heard = []  # every stage run of the flow: the ticker's, and the flow's own (ticker None)
    with stage_progress(lambda stage, ticker, state: heard.append((stage, ticker, state.type))):
        state = daily_forecast(
            tickers=["ZZZZ"], source="sample", epochs=1, return_state=True
        )  # unknown to the sample: fails in ingest, for good (no retry on bad input)
    assert state.is_failed()
    assert [(stage, kind.value) for stage, ticker, kind in heard if ticker == "ZZZZ"] == [
        ("ingest_prices", "FAILED")
    ]
    assert ("start_parent_run", None, StateType.COMPLETED) in heard
    assert STAGES[0].name == "ingest_prices"


def test_forecast_reports_what_is_missing(settings, capsys):
    assert main(["forecast"]) == 1
    assert "no forecast published" in capsys.readouterr().err
    assert main(["forecast", "../etc"]) == 2  # a usage error
    assert "not a ticker: '../etc'" in capsys.readouterr().err


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("tickercast")
    result = subprocess.run([script, "run", "--help"], capture_output=True, text=True, check=True)
    assert "usage: tickercast run" in result.stdout
    for option in ("--tickers", "--source", "--as-of", "--epochs", "--window", "--start"):
        assert option in result.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_ingest_prints_what_changed_and_what_was_found(settings, capsys, shared_data):
    code = main(["ingest", "--tickers", "AAPL", "--source", str(shared_data / "dirty")])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "AAPL     6187 added, 0 changed; 6187 sessions 1999-12-31 to 2024-08-08" in output
    assert "revision: no" in output
    assert "null_rows 1, duplicate_sessions 45, missing_sessions 3" in output
    assert "data_sha256 " in output


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_backtest_prints_pooled_metrics_and_writes_the_report(settings, capsys):
    code = main(
        [
            "backtest",
            "--source",
            "sample",
            "--tickers",
            "MSFT",
            "--start",
            "2009-01-01",
            "--folds",
            "2",
            "--epochs",
            "1",
        ]
    )
    output = capsys.readouterr().out
    assert code == 0, output
    assert "MSFT: 2 folds from " in output
    for model in MODELS:
        assert f"\n{model:19}  1 " in output
    assert "intervals published by fold: " in output
    report = settings.home / "reports" / "backtest" / "latest.json"
    rows = json.loads(report.read_text())
    assert {row["model"] for row in rows} == set(MODELS)
    assert {
        "rmse_ratio",
        "mase",
        "directional_accuracy",
        "da_pvalue",
        "dm_pvalue",
        "coverage_80",
        "coverage_95",
        "interval_score_80",
        "christoffersen_p_95",
    } <= set(rows[0])
    assert len(list(report.parent.glob("2*.json"))) == 1  # the timestamped copy


def test_bad_ranges_and_tickers_are_usage_errors(settings, capsys):
    assert main(["backfill", "--from", "2013-03-01", "--to", "2013-02-01"]) == 2
    assert "first_as_of 2013-03-01 is after last_as_of 2013-02-01" in capsys.readouterr().err
    assert main(["backfill", "--tickers", "a/b", "--from", "2013-02-01", "--to", "2013-03-01"]) == 2
    assert main(["status", "--tickers", "../x"]) == 2


def test_bad_numbers_are_usage_errors(settings, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "not a positive whole number: '0'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_backfill_replays_sessions_and_resumes(settings, capsys):
    arguments = [
        "backfill",
        "--tickers",
        "IBM",
        "--source",
        "sample",
        "--from",
        "2013-02-22",
        "--to",
        "2013-02-25",
        *SMALL_RUN_OPTIONS,
    ]
    assert main(arguments) == 0
    output = capsys.readouterr().out
    assert "2013-02-22: IBM naive" in output and "2013-02-25: IBM naive" in output
    forecasts = settings.home / "forecasts" / "IBM"
    assert {p.name for p in forecasts.glob("*.parquet")} == {
        "2013-02-22.parquet",
        "2013-02-25.parquet",
    }
    universe = settings.home / "watchlist.txt"
    universe.write_text("IBM\n")
    arguments[arguments.index("--tickers") : arguments.index("--tickers") + 2] = [
        "--universe",
        str(universe),
    ]
    assert main(arguments) == 0  # a second call, from a universe, skips what is published
    again = capsys.readouterr().out
    assert "IBM naive" not in again  # nothing forecast again
    assert "2013-02-22: already published, skipped (IBM)" in again
    assert "2013-02-25: already published, skipped (IBM)" in again
    # the backfill filled the ledger as the schedule would have: 02-22's forecast for
    # 02-25 was scored in 02-25's run, and `track` and `status` show the record
    assert main(["track", "IBM", "--last", "5", "--all"]) == 0
    track = capsys.readouterr().out.splitlines()
    assert track[0] == "IBM: published forecasts, scored to 2013-02-25"
    assert track[1].split()[:5] == ["model", "h", "last", "n", "rmse_ratio"]
    assert track[2].split()[:5] == ["published", "1", "5", "1", "1.000"]
    # one forecast, naive's own: DM p is not a number, shown as – with why, once
    assert track[2].split()[5] == "–"
    assert track[-1] == "  – DM p: it needs at least 2 scored forecasts"
    shadows = {*POINT_MODELS, *INTERVAL_MODELS}
    assert {line.split()[0] for line in track[2:-1]} == {"published", *shadows}
    # by default: the published record and the shadows, once per window that differs
    assert main(["track"]) == 0
    shown = capsys.readouterr().out
    assert "  published  1  all   1" in shown and "last 250" not in shown and " 20 " not in shown
    assert "shadow point forecasts" in shown and "shadow intervals" in shown
    assert main(["status", "--tickers", "IBM"]) == 0
    assert "  live:     h=1, last 1 scored as of 2013-02-25: rmse_ratio 1.000" in (
        capsys.readouterr().out
    )
    assert main(["track", "MSFT"]) == 1
    assert "MSFT: no forecast scored yet" in capsys.readouterr().err


def test_track_names_a_broken_scores_file_and_shows_the_others(settings, capsys):
    from tickercast.data.storage import SCORE_SCHEMA, Store

    store = Store(settings.home)
    store.write_scores("AAPL", SCORE_SCHEMA.empty_table().to_pandas())
    broken = store.scores_file("AAPL")
    broken.write_bytes(b"PAR1 not a parquet file")
    assert main(["track", "AAPL", "IBM"]) == 1
    err = capsys.readouterr().err
    assert f"error: AAPL: scores file {broken} cannot be read" in err
    assert "IBM: no forecast scored yet" in err


def test_prune_keeps_what_the_retention_covers(settings, capsys, monkeypatch):
    from tickercast.tracking.run_record import Record
    from tickercast.tracking.runs import runs_for

    runs = runs_for(settings)
    run_id = runs.start_run("IBM", date(2013, 3, 1), Record())
    assert main(["prune", "--keep-days", "1"]) == 0
    assert "0 runs and 0 LoggedModels deleted" in capsys.readouterr().out
    assert runs.experiment.client.get_run(run_id).info.lifecycle_stage == "active"
    monkeypatch.setenv("TICKERCAST_RETENTION_DAYS", "0")
    assert main(["prune"]) == 2
    assert "TICKERCAST_RETENTION_DAYS must be 1 or more, got 0" in capsys.readouterr().err


def test_a_mistyped_option_gets_its_commands_usage_and_the_closest_option(settings, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--tikers", "AAPL"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: tickercast run ")
    assert err.endswith("error: unrecognized arguments: --tikers AAPL (did you mean --tickers?)\n")
