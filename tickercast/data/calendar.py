"""Exchange sessions: which days trade, and when a session's bar is final."""

from datetime import date, datetime, timedelta
from functools import lru_cache

import exchange_calendars
import pandas as pd

from tickercast.errors import InputError

_FIRST_DAY = "1990-01-01"

# Yahoo symbol suffixes of listings outside the US, and their exchange calendars.
_SUFFIX_CALENDARS = {
    ".L": "XLON",
    ".DE": "XETR",
    ".F": "XFRA",
    ".PA": "XPAR",
    ".AS": "XAMS",
    ".BR": "XBRU",
    ".MI": "XMIL",
    ".MC": "XMAD",
    ".SW": "XSWX",
    ".ST": "XSTO",
    ".OL": "XOSL",
    ".CO": "XCSE",
    ".HE": "XHEL",
    ".VI": "XWBO",
    ".LS": "XLIS",
    ".IR": "XDUB",
    ".T": "XTKS",
    ".HK": "XHKG",
    ".SS": "XSHG",
    ".SZ": "XSHG",
    ".KS": "XKRX",
    ".AX": "XASX",
    ".NZ": "XNZE",
    ".TO": "XTSE",
    ".V": "XTSE",
    ".SA": "BVMF",
    ".MX": "XMEX",
    ".JO": "XJSE",
    ".SI": "XSES",
    ".NS": "XBOM",
    ".BO": "XBOM",
    ".TW": "XTAI",
}


def calendar_for(ticker: str, default: str, overrides: dict[str, str]) -> str:
    """The exchange calendar of a ticker: configured, else by Yahoo suffix, else the default.

    Args:
        ticker: a validated symbol (`AAPL`, `^GSPC`, `7203.T`, `SAP.DE`).
        default: the calendar of symbols without a known suffix (US listings, US indexes).
        overrides: calendars configured per ticker.

    Returns:
        An exchange-calendars code such as `XNYS` or `XTKS`.
    """
    if ticker in overrides:
        return overrides[ticker]
    suffix = ticker[ticker.rfind(".") :] if "." in ticker else ""
    return _SUFFIX_CALENDARS.get(suffix, default)


@lru_cache(maxsize=8)
def _exchange(name: str) -> exchange_calendars.ExchangeCalendar:
    try:
        return exchange_calendars.get_calendar(name, start=_FIRST_DAY)
    except exchange_calendars.errors.InvalidCalendarName as error:
        raise InputError(f"unknown exchange calendar {name!r}") from error
    except ValueError:  # a calendar whose rules begin after 1990 (XTKS: 1997)
        return exchange_calendars.get_calendar(name)


def _checked(day: date, name: str) -> pd.Timestamp:
    exchange = _exchange(name)
    stamp = pd.Timestamp(day)
    if not exchange.first_session <= stamp <= exchange.last_session:
        raise InputError(
            f"{day} is outside the {name} calendar "
            f"({exchange.first_session.date()} to {exchange.last_session.date()})"
        )
    return stamp


def next_session(day: date, name: str) -> date:
    """The first session strictly after `day`.

    Args:
        day: any calendar day (a session or not).
        name: exchange calendar code, e.g. `XNYS`.

    Returns:
        The next trading day: after 2022-12-30 (a Friday before a holiday) it is 2023-01-03.
    """
    exchange = _exchange(name)
    on_or_before = exchange.date_to_session(_checked(day, name), direction="previous")
    return exchange.next_session(on_or_before).date()


def sessions_after(day: date, count: int, name: str) -> list[date]:
    """The `count` sessions strictly after `day`.

    Args:
        day: any calendar day.
        count: how many sessions.
        name: exchange calendar code.

    Returns:
        Their dates, ascending.
    """
    exchange = _exchange(name)
    on_or_before = exchange.date_to_session(_checked(day, name), direction="previous")
    return [stamp.date() for stamp in exchange.sessions_window(on_or_before, count + 1)[1:]]


def session_on_or_before(day: date, name: str) -> date:
    """The last session on or before `day` (the day itself when it trades).

    Args:
        day: any calendar day.
        name: exchange calendar code.

    Returns:
        That session's date.
    """
    return _exchange(name).date_to_session(_checked(day, name), direction="previous").date()


def last_closed_session(now: datetime, name: str) -> date:
    """The latest session whose close has passed at `now` (its bar is final).

    Args:
        now: a timezone-aware time.
        name: exchange calendar code.

    Returns:
        That session's date.
    """
    today = pd.Timestamp(now).tz_convert(_exchange(name).tz).date()
    latest = session_on_or_before(today, name)
    if session_is_final(latest, now, name):
        return latest
    return session_on_or_before(latest - timedelta(days=1), name)


def sessions_between(first: date, last: date, name: str) -> pd.DatetimeIndex:
    """Sessions from `first` to `last` inclusive, within the calendar's known range.

    Args:
        first: first day.
        last: last day.
        name: exchange calendar code.

    Returns:
        Naive midnight timestamps, one per session.
    """
    exchange = _exchange(name)
    start = max(pd.Timestamp(first), exchange.first_session)
    end = min(pd.Timestamp(last), exchange.last_session)
    if start > end:
        return pd.DatetimeIndex([])
    return pd.DatetimeIndex(exchange.sessions_in_range(start, end)).tz_localize(None)


def session_is_final(session: date, now: datetime, name: str) -> bool:
    """Whether a session's daily bar is final: its close has passed at `now`.

    Args:
        session: a session date.
        now: a timezone-aware current time.
        name: exchange calendar code.

    Returns:
        False while the session is still trading (its bar is live) or in the future.
    """
    exchange = _exchange(name)
    stamp = _checked(session, name)
    if not exchange.is_session(stamp):
        return stamp < pd.Timestamp(now).tz_convert(None).normalize()
    return pd.Timestamp(now) >= exchange.session_close(stamp)
