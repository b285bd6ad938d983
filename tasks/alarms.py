"""The calibration alarm as a Prefect event, so that an automation (deployments/
calibration-drift.yaml) can notify someone: a log line alone reaches nobody."""

from prefect.events import emit_event

from tickercast.evaluation.track_record import CalibrationAlarm

DRIFT_EVENT = "tickercast.calibration.drift"


def emit_calibration_drift(alarm: CalibrationAlarm) -> None:
    """Emit `tickercast.calibration.drift` about the ticker (resource
    `tickercast.ticker.<TICKER>`, so an automation can fire once per ticker).

    Inside a flow or task run, Prefect's events worker relates the event to that flow
    run, task run, flow and deployment; outside one it goes out unrelated.

    Args:
        alarm: the ticker's failed calibration check.
    """
    emit_event(
        event=DRIFT_EVENT,
        resource={
            "prefect.resource.id": f"tickercast.ticker.{alarm.ticker}",
            "prefect.resource.name": alarm.ticker,
        },
        payload={
            "ticker": alarm.ticker,
            "as_of": alarm.as_of.isoformat(),
            "level": alarm.level,
            "forecasts": alarm.forecasts,
            "coverage": alarm.coverage,
            "kupiec_pvalue": alarm.kupiec_pvalue,
            "message": alarm.message(),
        },
    )
