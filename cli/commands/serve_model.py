"""`tickercast serve-model`: serve a ticker's registered model over HTTP."""

import argparse
import sys

from tickercast.cli.exit_codes import EXIT_FAILED, EXIT_USAGE
from tickercast.data.storage import Store
from tickercast.data.tickers import normalize_ticker
from tickercast.errors import InputError, TrackingUnavailableError
from tickercast.settings import Settings


def serve_model(arguments: argparse.Namespace, settings: Settings) -> int:
    """Serve the champion (or `--version`) until Ctrl-C; the server's exit code."""
    from tickercast.cli.console import run_server
    from tickercast.tracking.registry import registry_for
    from tickercast.tracking.serving import UnknownVersionError, serve_model_command, served_version

    ticker = normalize_ticker(arguments.ticker)
    try:
        served = served_version(
            registry_for(settings), Store(settings.home), ticker, arguments.version
        )
    except UnknownVersionError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (InputError, TrackingUnavailableError) as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED
    argv, environment = serve_model_command(settings, ticker, served.version, arguments.port)
    what = "the champion" if served.champion else "not the champion"
    print(
        f"serving tickercast-{ticker} v{served.version} ({what}, trained as of "
        f"{served.tags.get('as_of', '?')}, intervals of "
        f"{served.tags.get('interval_model', 'its own')}) on http://127.0.0.1:{arguments.port}"
    )
    print("POST /invocations the last sessions, as its input example shows; Ctrl-C stops it")
    sys.stdout.flush()
    return run_server(argv, environment)
