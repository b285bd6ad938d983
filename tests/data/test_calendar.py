from datetime import UTC, date, datetime

import pytest

from tickercast.data.calendar import (
    calendar_for,
    next_session,
    session_is_final,
    session_on_or_before,
    sessions_between,
)
from tickercast.errors import InputError


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2022, 12, 30), date(2023, 1, 3)),  # New Year's Day observed on Monday
        (date(2024, 11, 27), date(2024, 11, 29)),  # Thanksgiving
        (date(2022, 12, 31), date(2023, 1, 3)),  # a Saturday
        (date(2013, 3, 1), date(2013, 3, 4)),
        (date(2024, 3, 28), date(2024, 4, 1)),  # Good Friday
    ],
)
def test_next_session_on_the_nyse(day, expected):
    assert next_session(day, "XNYS") == expected


def test_session_on_or_before_steps_back_over_weekends_and_holidays():
    assert session_on_or_before(date(2022, 12, 31), "XNYS") == date(2022, 12, 30)
    assert session_on_or_before(date(2023, 1, 3), "XNYS") == date(2023, 1, 3)


def test_a_bar_is_final_only_after_the_close():
    # 2024-11-29 closes early, at 13:00 New York (18:00 UTC).
    assert not session_is_final(
        date(2024, 11, 29), datetime(2024, 11, 29, 17, 59, tzinfo=UTC), "XNYS"
    )
    assert session_is_final(date(2024, 11, 29), datetime(2024, 11, 29, 18, 0, tzinfo=UTC), "XNYS")
    # A regular day closes at 16:00 New York.
    assert not session_is_final(
        date(2024, 12, 2), datetime(2024, 12, 2, 20, 59, tzinfo=UTC), "XNYS"
    )
    assert session_is_final(date(2024, 12, 2), datetime(2024, 12, 2, 21, 0, tzinfo=UTC), "XNYS")


def test_other_calendars_and_bad_names():
    assert next_session(date(2024, 12, 24), "XLON") == date(2024, 12, 27)
    with pytest.raises(InputError, match="unknown exchange calendar 'NOPE'"):
        next_session(date(2024, 1, 2), "NOPE")
    with pytest.raises(InputError, match="outside the XNYS calendar"):
        next_session(date(1970, 1, 2), "XNYS")


def test_sessions_between_lists_trading_days_within_the_calendar():
    days = sessions_between(date(2023, 11, 22), date(2023, 11, 27), "XNYS")
    assert [d.date() for d in days] == [date(2023, 11, 22), date(2023, 11, 24), date(2023, 11, 27)]
    assert len(sessions_between(date(1985, 1, 1), date(1990, 1, 3), "XNYS")) == 2  # from 1990 on
    assert len(sessions_between(date(2024, 1, 6), date(2024, 1, 7), "XNYS")) == 0


def test_calendars_follow_yahoo_listing_suffixes():
    assert calendar_for("7203.T", "XNYS", {}) == "XTKS"
    assert calendar_for("VOD.L", "XNYS", {}) == "XLON"
    assert calendar_for("^GSPC", "XNYS", {}) == "XNYS"
    assert calendar_for("BRK.B", "XNYS", {}) == "XNYS"
    assert calendar_for("VOD.L", "XNYS", {"VOD.L": "XDUB"}) == "XDUB"
    # a Tokyo listing forecasts for Tokyo's next session: 2024-01-02 and 01-03 are closed there
    assert next_session(date(2023, 12, 29), calendar_for("7203.T", "XNYS", {})) == date(2024, 1, 4)
