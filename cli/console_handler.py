"""Prefect's console handler as a command configures it (`console.configure` names it in
PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS); a module of its own because it imports Prefect,
which `console` must not."""

import copy
import logging

from prefect.logging.handlers import PrefectConsoleHandler

from tickercast.errors import InputError


class ConsoleHandler(PrefectConsoleHandler):
    """Prefect's console handler, printing a failure on bad input without its traceback.

    A run failed by an `InputError` (too little history, no prices, a malformed file)
    says in its message what is wrong with the data; the ~60 lines of Prefect's task
    engine under it help nobody fix it, and a universe of 480 tickers always has a few.
    Only this handler's copy of the record loses it: Prefect's API (the UI) and every
    other handler get the record whole. Any other exception keeps its traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and isinstance(record.exc_info[1], InputError):
            record = copy.copy(record)
            # exc_text: the traceback as an earlier handler's formatter cached it
            record.exc_info = record.exc_text = None
        return super().format(record)
