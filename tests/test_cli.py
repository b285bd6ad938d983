import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main


@pytest.mark.usefixtures("prefect_api")
def test_run_prints_a_summary_and_forecast_reads_it_back(settings, capsys):
    code = main(
        ["run", "--source", "sample", "--tickers", "IBM", "--epochs", "1", "--start", "2012-01-01"]
    )
    output = capsys.readouterr().out
    assert code == 0, output
    assert "IBM      2013-03-01 2013-03-04" in output
    assert str(settings.home / "forecasts" / "IBM" / "2013-03-01.parquet") in output
    assert f"sqlite:///{settings.home / 'mlflow.db'}" in output

    assert main(["forecast", "IBM"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("IBM      as_of 2013-03-01  target 2013-03-04  h=1")
    assert main(["forecast"]) == 0 and "IBM" in capsys.readouterr().out


@pytest.mark.usefixtures("prefect_api")
def test_run_exits_non_zero_when_a_ticker_fails(settings, capsys):
    code = main(["run", "--source", "sample", "--tickers", "ZZZZ", "--epochs", "1"])
    output = capsys.readouterr().out
    assert code == 1
    assert "ZZZZ     FAILED  NoPricesError: ZZZZ: no prices from source 'sample'" in output


def test_usage_errors_exit_2(settings, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--as-of", "2013-13-01"])
    assert exit_info.value.code == 2
    assert "not a date (YYYY-MM-DD): '2013-13-01'" in capsys.readouterr().err


def test_forecast_reports_what_is_missing(settings, capsys):
    assert main(["forecast"]) == 1
    assert "no forecast published" in capsys.readouterr().err
    assert main(["forecast", "../etc"]) == 1
    assert "not a ticker: '../etc'" in capsys.readouterr().err


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("tickercast")
    result = subprocess.run([script, "run", "--help"], capture_output=True, text=True, check=True)
    assert "usage: tickercast run" in result.stdout
    for option in ("--tickers", "--source", "--as-of", "--epochs", "--window", "--start"):
        assert option in result.stdout


@pytest.mark.usefixtures("prefect_api")
def test_ingest_prints_what_changed_and_what_was_found(settings, capsys, shared_data):
    code = main(["ingest", "--tickers", "AAPL", "--source", str(shared_data / "dirty")])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "AAPL     6187 added, 0 changed; 6187 sessions 1999-12-31 to 2024-08-08" in output
    assert "revision: no" in output
    assert "null_rows 1, duplicate_sessions 45, missing_sessions 3" in output
    assert "data_sha256 " in output
