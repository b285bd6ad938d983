"""`tickercast run` starts a manual flow run, `ingest` refreshes prices only, `backtest`
scores the models walk-forward, `backfill` replays a range of sessions, `status` and
`forecast` show what is stored and published, `track` the live track record of what
was published, `serve-model` serves a registered model.

Every command's options are derived from `tickercast.request.RunRequest`, which also
validates them before any server starts (`tickercast.cli.parser`); each command is a
function of `tickercast.cli.commands`.

Exit codes: 0 every ticker succeeded, 1 some ticker failed, 2 usage error.
"""

import os
import sys

from tickercast.cli.commands import reports, runs, serve_model, upkeep
from tickercast.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tickercast.cli.parser import parse, run_request
from tickercast.data.home_layout import open_home
from tickercast.errors import InputError
from tickercast.settings import Settings

# The commands given their parsed arguments; the others are given a validated `RunRequest`.
BY_ARGUMENTS = {
    "forecast": reports.forecast,
    "serve-model": serve_model.serve_model,
    "track": reports.track,
    "prune": upkeep.prune,
    "plots": reports.plots,
    "verify": upkeep.verify,
}
# The commands that run a flow, after the preflight (but `train-global`).
FLOW_RUNS = {
    "run": runs.run,
    "ingest": runs.ingest,
    "backtest": runs.backtest,
    "backfill": runs.backfill,
    "train-global": runs.train_global,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tickercast` console script."""
    try:
        return _main(argv)
    except BrokenPipeError:  # `tickercast track | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    arguments = parse(argv)
    from tickercast.cli import console

    console.configure(arguments.verbose)
    try:
        settings = Settings.from_env()
        try:
            for line in open_home(settings.home):  # every command: an older layout migrated
                print(line, file=sys.stderr)
        except OSError as error:  # e.g. a full disk: the layout is as it was
            print(f"error: cannot open the home {settings.home}: {error}", file=sys.stderr)
            return EXIT_FAILED
        if arguments.command in BY_ARGUMENTS:
            return BY_ARGUMENTS[arguments.command](arguments, settings)
        request = run_request(arguments)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if arguments.command == "status":
        all_known = arguments.tickers is None and not arguments.universe
        return reports.status(request, settings, all_known)
    refused = EXIT_OK
    if arguments.command != "train-global":  # it reads stored prices, fetches nothing
        request, refused = runs.preflight(request, settings)
        if request is None:
            return refused
    return max(FLOW_RUNS[arguments.command](request, settings), refused)


if __name__ == "__main__":
    sys.exit(main())
