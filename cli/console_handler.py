"""Prefect's console handler as a command configures it (`console.configure` names it in
PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS); a module of its own because it imports Prefect,
which `console` must not."""

import copy
import logging
import re

from prefect.logging.handlers import PrefectConsoleHandler

from tickercast.cli.console import SUMMARIZED
from tickercast.errors import InputError

# Prefect's reports of a task or flow run that failed for good (a retry is logged at INFO).
_FAILED_RUN = re.compile(
    r"^(Task run failed with exception|Finished in state (Failed|Crashed|TimedOut)\b)"
)


class ConsoleHandler(PrefectConsoleHandler):
    """Prefect's console handler, leaving each ticker's failure to the command's summary.

    A command prints every failed ticker once, with its stage and cause (`tickercast run`'s
    table, `ingest`'s and `backtest`'s reports). Prefect reports the same failure three or
    four times on the way up: the stage's task run, the ticker's, the flow run, and the
    flow's own line per ticker (`SUMMARIZED`). At 480 tickers a few always fail, and
    the console would bury the summary. Only this handler leaves them out: Prefect's API
    (the UI) and every other handler get each record whole, tracebacks included.

    A traceback shown for any other record is left out when the error is bad input
    (`InputError`: its message already says what is wrong with the data).
    """

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR and (
            getattr(record, SUMMARIZED, False) or _FAILED_RUN.match(record.getMessage())
        ):
            return
        super().emit(record)

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and isinstance(record.exc_info[1], InputError):
            record = copy.copy(record)
            # exc_text: the traceback as an earlier handler's formatter cached it
            record.exc_info = record.exc_text = None
        return super().format(record)
