"""One definition of a run's parameters: the CLI, the flows and prefect.yaml agree with
`RunRequest`, and bad values are refused there, named, before anything starts."""

import inspect
import subprocess
import sys
import time
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest
import yaml

from tickercast.cli.parser import build_parser
from tickercast.errors import InputError
from tickercast.flows.backfill import backfill
from tickercast.flows.backtest import backtest
from tickercast.flows.daily_forecast import daily_forecast
from tickercast.flows.global_model import train_global
from tickercast.flows.ingest import ingest
from tickercast.request import (
    COMMAND_PARAMETERS,
    DEFAULTS,
    REQUIRED,
    RunRequest,
    as_of_note,
    run_title,
)

ROOT = Path(__file__).resolve().parents[1]
FLOWS = {
    "run": daily_forecast,
    "ingest": ingest,
    "backtest": backtest,
    "backfill": backfill,
    "train-global": train_global,
}
DEPLOYED = {"daily": "run", "global": "train-global", "ingest": "ingest", "backfill": "backfill"}
# What a deployment chooses for itself (the rest, when written, restates the default).
CHOSEN = {"tickers", "source"}


def _default(name: str):
    value = getattr(DEFAULTS, name)
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.parametrize("command", sorted(FLOWS))
def test_each_flow_takes_its_commands_parameters_with_the_requests_defaults(command):
    signature = inspect.signature(FLOWS[command].fn).parameters
    assert set(signature) == set(COMMAND_PARAMETERS[command])
    for name, parameter in signature.items():
        if name in REQUIRED.get(command, ()):
            assert parameter.default is inspect.Parameter.empty, name
        else:
            assert parameter.default == _default(name), (command, name)


@pytest.mark.parametrize("command", sorted(COMMAND_PARAMETERS))
def test_each_cli_command_offers_its_parameters_with_the_requests_defaults(command):
    required = [f"--{'from' if n == 'first_as_of' else 'to'}" for n in REQUIRED.get(command, ())]
    arguments = build_parser().parse_args(
        [command, *(part for flag in required for part in (flag, "2013-02-01"))]
    )
    for name in COMMAND_PARAMETERS[command]:
        value = getattr(arguments, name)
        if name in REQUIRED.get(command, ()):
            assert value == date(2013, 2, 1)
        elif command == "status" and name == "tickers":
            assert value is None  # every known ticker
        else:
            expected = getattr(DEFAULTS, name)
            assert value == expected, (command, name)


def test_every_deployment_parameter_is_its_flows_and_restates_the_default():
    deployments = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    for deployment in deployments["deployments"]:
        command = DEPLOYED[deployment["name"]]
        parameters = deployment["parameters"]
        assert set(parameters) <= set(COMMAND_PARAMETERS[command]), deployment["name"]
        for name, value in parameters.items():
            if name not in CHOSEN:
                assert value == _default(name), (deployment["name"], name)
        RunRequest.from_parameters(parameters)  # valid


def test_every_field_is_a_parameter_of_some_command_and_has_help():
    used = {name for names in COMMAND_PARAMETERS.values() for name in names}
    for field in fields(RunRequest):
        assert field.name in used and field.metadata["help"], field.name


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"tickers": ("../etc",)}, "not a ticker: '../etc'"),
        ({"as_of": date(2031, 1, 1)}, "as_of 2031-01-01 is after today"),
        ({"start": date(2013, 3, 1), "as_of": date(2013, 2, 1)}, "start 2013-03-01 is after as_of"),
        (
            {"first_as_of": date(2013, 3, 1), "last_as_of": date(2013, 2, 1)},
            "first_as_of 2013-03-01 is after last_as_of 2013-02-01",
        ),
        ({"source": "no/such/folder"}, "unknown source 'no/such/folder'"),
        ({"target": "volume"}, "unknown target 'volume'"),
        ({"epochs": 0}, "epochs must be a positive whole number, got 0"),
        ({"dask_address": "tcp://127.0.0.1:8786"}, "dask_address needs task_runner dask"),
        ({"universe": "missing.txt"}, "universe missing.txt: cannot read it"),
    ],
)
def test_bad_values_are_refused_with_one_line_naming_them(values, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")) as error:
        RunRequest(**values)
    assert "\n" not in str(error.value) and "None" not in str(error.value)


def test_deployment_parameters_are_read_from_text():
    request = RunRequest.from_parameters({"tickers": ["aapl"], "as_of": "2013-02-28"})
    assert request.tickers == ("AAPL",) and request.as_of == date(2013, 2, 28)
    with pytest.raises(InputError, match="as_of: not a date"):
        RunRequest.from_parameters({"as_of": "28/02/2013"})
    assert RunRequest.from_parameters({"tickers": "msft"}).tickers == ("MSFT",)
    with pytest.raises(InputError, match="unknown parameters epoch: use some of"):
        RunRequest.from_parameters({"epoch": 3})


def test_flow_runs_are_named_by_what_they_do():
    def nyse(ticker: str) -> str:
        return "XNYS"

    assert (
        run_title("daily-forecast", {"tickers": ["AAPL", "MSFT"], "as_of": date(2013, 2, 28)}, nyse)
        == "daily-forecast 2013-02-28: AAPL, MSFT"
    )
    # a Saturday is named by the session before it, as the run uses it
    assert run_title("daily-forecast", {"tickers": ["AAPL"], "as_of": "2013-02-23"}, nyse) == (
        "daily-forecast 2013-02-22: AAPL"
    )
    assert run_title("daily-forecast", {"tickers": list("ABCDEF")}, nyse) == (
        "daily-forecast latest: A, B, C, D, … (+2)"
    )
    # once its tickers ran, a run without as_of is named by the sessions they used
    sessions = [date(2013, 3, 1), date(2013, 3, 1)]
    assert run_title("daily-forecast", {"tickers": ["AAPL", "MSFT"]}, nyse, sessions) == (
        "daily-forecast 2013-03-01: AAPL, MSFT"
    )
    assert run_title("daily-forecast", {}, nyse, [date(2013, 3, 1), date(2013, 2, 28)]) == (
        "daily-forecast 2013-02-28 to 2013-03-01: AAPL"
    )
    assert (
        run_title("backfill", {"first_as_of": "2013-02-01", "last_as_of": "2013-02-28"}, nyse)
        == "backfill 2013-02-01 to 2013-02-28: AAPL"
    )
    assert run_title("backtest", {"universe": "/x/sp500.txt", "end": "2022-12-30"}, nyse) == (
        "backtest to 2022-12-30: universe sp500.txt"
    )
    assert run_title("daily-forecast", {"as_of": "28/02/2013"}, nyse) == (
        "daily-forecast 28/02/2013: AAPL"  # a bad value fails the run, not its name
    )


def test_an_as_of_that_is_not_a_session_is_moved_to_the_one_before_in_one_line():
    calendars = {"AAPL": "XNYS", "SAP.DE": "XFRA"}.__getitem__
    assert as_of_note(date(2013, 2, 22), ("AAPL",), calendars) is None
    assert as_of_note(None, ("AAPL",), calendars) is None
    assert as_of_note(date(2013, 2, 23), ("AAPL",), calendars) == (
        "as_of 2013-02-23 is not a session: the run is as of the session before, 2013-02-22 on XNYS"
    )
    # Presidents' Day: New York is closed, Frankfurt trades (only the moved one is said)
    assert as_of_note(date(2013, 2, 18), ("AAPL", "SAP.DE"), calendars) == (
        "as_of 2013-02-18 is not a session: the run is as of the session before, 2013-02-15 on XNYS"
    )


@pytest.mark.parametrize(
    ("arguments", "environment", "message"),
    [
        (["run", "--tickers", "../etc"], {}, "error: not a ticker: '../etc'"),
        (["run", "--as-of", "2031-01-02"], {}, "error: as_of 2031-01-02 is after today"),
        (["status"], {"TICKERCAST_GATE_MARGIN": "abc"}, "TICKERCAST_GATE_MARGIN must be a number"),
    ],
)
def test_the_cli_refuses_bad_values_at_once_with_exit_2(tmp_path, arguments, environment, message):
    script = Path(sys.executable).with_name("tickercast")
    started = time.monotonic()
    result = subprocess.run(
        [script, *arguments],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TICKERCAST_HOME": str(tmp_path), **environment},
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert time.monotonic() - started < 10  # no Prefect server was started
