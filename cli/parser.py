"""The `tickercast` command line's parser: each command's options derived from
`tickercast.request.RunRequest` (its defaults, help and validation), and the commands
that take other arguments (`forecast`, `track`, `serve-model`, `plots`, `prune`, `verify`)."""

import argparse
import difflib
from dataclasses import MISSING, fields
from datetime import date
from pathlib import Path

from tickercast.errors import InputError
from tickercast.request import (
    COMMAND_PARAMETERS,
    COUNT_FIELDS,
    DATE_FIELDS,
    REQUIRED,
    RunRequest,
    parse_date,
)
from tickercast.tracking.serving import DEFAULT_PORT

ABOUT = {
    "run": "run the daily_forecast flow once, now",
    "ingest": "ingest and validate prices only (no training)",
    "backtest": "walk-forward backtest against baselines",
    "backfill": "replay as_of over a range of sessions (resumable)",
    "status": "per ticker: data, last run, champion, forecast",
    "train-global": "train one LSTM on the whole universe's stored prices (run --model global)",
}
_FIELDS = {f.name: f for f in fields(RunRequest)}


def _day(text: str) -> date:
    try:
        return parse_date(text, "date")
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _tickers(text: str) -> tuple[str, ...]:
    return tuple(symbol.strip() for symbol in text.split(","))


def _option(name: str, command: str) -> tuple[str, dict]:
    """The flag and argparse settings of one `RunRequest` field for a command."""
    spec = _FIELDS[name]
    meta = dict(spec.metadata)
    flag = meta.pop("flag", "--" + name.replace("_", "-"))
    default = None if command == "status" and name == "tickers" else spec.default
    options = {"dest": name, "default": default, **meta}
    if name == "tickers":
        options["type"] = _tickers
    elif isinstance(spec.default, bool):
        options["action"] = "store_true"
    elif name in DATE_FIELDS:
        options["type"] = _day
    elif name in COUNT_FIELDS:
        options["type"] = _positive
    if name in REQUIRED.get(command, ()):
        options["required"] = True
    elif default not in (None, False, MISSING) and "choices" not in options:
        shown = ",".join(default) if isinstance(default, tuple) else default
        options["help"] += f" (default: {shown})"
    return flag, options


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command and its options."""
    parser = argparse.ArgumentParser(
        prog="tickercast",
        description="Daily stock forecasting: ingest, windows, train, evaluate, publish.",
    )
    parser.add_argument("--verbose", action="store_true", help="show library logs and warnings too")
    commands = parser.add_subparsers(dest="command", required=True)
    for command, about in ABOUT.items():
        sub = commands.add_parser(command, help=about)
        choice = sub.add_mutually_exclusive_group()  # --tickers or --universe
        for name in COMMAND_PARAMETERS[command]:
            flag, options = _option(name, command)
            (choice if name in ("tickers", "universe") else sub).add_argument(flag, **options)
    forecast = commands.add_parser("forecast", help="print the latest published forecast")
    forecast.add_argument("ticker", nargs="?", help="one ticker; all published ones if omitted")
    track = commands.add_parser("track", help="the live track record of published forecasts")
    track.add_argument("tickers", nargs="*", help="tickers (default: every scored one)")
    track.add_argument(
        "--last",
        type=_positive,
        help="over the last N scored forecasts (default: the last 20, 60, 250 and all)",
    )
    track.add_argument(
        "--all",
        action="store_true",
        help="every model, horizon and window (default: the published record, and the "
        "shadows one session ahead, once per window that differs)",
    )
    serve = commands.add_parser("serve-model", help="serve a ticker's registered model over HTTP")
    serve.add_argument("ticker", help="the ticker whose model `tickercast-<TICKER>` to serve")
    serve.add_argument("--version", help="a registered version (default: the champion)")
    serve.add_argument(
        "--port", type=_positive, default=DEFAULT_PORT, help=f"port on 127.0.0.1 ({DEFAULT_PORT})"
    )
    drawn = commands.add_parser(
        "plots", help="draw a run's holdout figures (daily runs draw them where reviewed)"
    )
    drawn.add_argument("ticker", help="whose run")
    drawn.add_argument("--run", help="an MLflow run id (default: the ticker's latest run)")
    drawn.add_argument(
        "--out", type=Path, default=Path("."), help="where to write the PNG files (default: here)"
    )
    prune = commands.add_parser(
        "prune",
        help="delete old MLflow runs and LoggedModels; registered versions and each "
        "ticker's latest network are kept",
    )
    prune.add_argument(
        "--keep-days",
        type=_positive,
        help="keep what the last N days made (default: TICKERCAST_RETENTION_DAYS, 90)",
    )
    verify = commands.add_parser(
        "verify",
        help="check every stored file of the home; exits 1 when something is wrong",
    )
    verify.add_argument(
        "--repair",
        action="store_true",
        help="refetch broken price partitions, drop bad manifest lines, set other "
        "broken files aside under quarantine/",
    )
    verify.add_argument(
        "--source",
        help="where to refetch broken prices from (default: the source each ticker's "
        "stored prices came from, as its manifest records)",
    )
    return parser


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line's arguments; an unknown option is refused by its command's
    parser (its usage, not the top level's), with the option it is closest to."""
    parser = build_parser()
    arguments, unknown = parser.parse_known_args(argv)
    if unknown:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        command = commands.choices[arguments.command]
        options = [o for action in command._actions for o in action.option_strings]
        near = difflib.get_close_matches(unknown[0].split("=")[0], options, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        command.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    return arguments


def run_request(arguments: argparse.Namespace) -> RunRequest:
    """The validated request of a command's options.

    Raises:
        InputError: a value the request refuses.
    """
    values = {name: getattr(arguments, name) for name in COMMAND_PARAMETERS[arguments.command]}
    if values.get("tickers") is None:  # status with neither: every known ticker
        values.pop("tickers")
    return RunRequest(**values)
