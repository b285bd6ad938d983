from pathlib import Path

import pytest

from tickercast.errors import InputError
from tickercast.settings import Settings


def test_defaults_put_everything_under_home_tickercast(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings.from_env({})
    assert settings.home == (tmp_path / ".tickercast").resolve()
    assert settings.mlflow_tracking_uri is None
    assert settings.experiment == "tickercast"
    assert settings.calendar == "XNYS"


def test_reads_tickercast_and_mlflow_variables(tmp_path):
    settings = Settings.from_env(
        {
            "TICKERCAST_HOME": str(tmp_path / "state"),
            "MLFLOW_TRACKING_URI": "http://127.0.0.1:5555",
            "TICKERCAST_EXPERIMENT": "research",
            "TICKERCAST_CALENDAR": "XLON",
        }
    )
    assert settings.home == Path(tmp_path / "state").resolve()
    assert settings.mlflow_tracking_uri == "http://127.0.0.1:5555"
    assert settings.experiment == "research"
    assert settings.calendar == "XLON"


def test_empty_variables_fall_back_to_defaults(tmp_path):
    settings = Settings.from_env({"TICKERCAST_HOME": str(tmp_path), "MLFLOW_TRACKING_URI": ""})
    assert settings.mlflow_tracking_uri is None


def test_calendars_per_ticker_and_by_listing_suffix(tmp_path):
    settings = Settings.from_env(
        {"TICKERCAST_HOME": str(tmp_path), "TICKERCAST_CALENDARS": "sap.de=xfra, EURUSD=X=XLON"}
    )
    assert settings.calendars == {"SAP.DE": "XFRA", "EURUSD=X": "XLON"}
    assert settings.calendar_for("SAP.DE") == "XFRA"  # configured beats the suffix (XETR)
    assert settings.calendar_for("EURUSD=X") == "XLON"
    assert settings.calendar_for("7203.T") == "XTKS"
    assert settings.calendar_for("^GSPC") == "XNYS"
    assert settings.calendar_for("BRK.B") == "XNYS"


def test_malformed_calendar_pairs_are_rejected(tmp_path):
    with pytest.raises(
        InputError, match="TICKERCAST_CALENDARS: expected TICKER=CALENDAR, got 'AAPL'"
    ):
        Settings.from_env({"TICKERCAST_HOME": str(tmp_path), "TICKERCAST_CALENDARS": "AAPL"})


def test_yahoo_pace_is_read_and_checked(tmp_path):
    home = {"TICKERCAST_HOME": str(tmp_path)}
    assert Settings.from_env(home).yahoo_requests_per_second == 1.0
    paced = Settings.from_env({**home, "TICKERCAST_YAHOO_REQUESTS_PER_SECOND": "0.5"})
    assert paced.yahoo_requests_per_second == 0.5
    for bad, message in (("fast", "must be a number, got 'fast'"), ("0", "must be above 0")):
        with pytest.raises(InputError, match=f"TICKERCAST_YAHOO_REQUESTS_PER_SECOND {message}"):
            Settings.from_env({**home, "TICKERCAST_YAHOO_REQUESTS_PER_SECOND": bad})
