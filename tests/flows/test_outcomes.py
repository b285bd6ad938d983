"""The flows' error policy: one outcome per ticker, a final state naming the failed."""

from prefect.states import Completed, Failed, Running

from tickercast.errors import NoPricesError
from tickercast.flows.outcomes import TickerOutcome, final_state, ticker_outcome


def test_outcomes_of_completed_failed_and_unfinished_runs():
    assert ticker_outcome("AAPL", Completed(data=42)) == TickerOutcome("AAPL", result=42)
    error = NoPricesError("ZZZZ", "sample")
    error.add_note("stage: ingest_prices")
    failed = ticker_outcome("ZZZZ", Failed(data=error))
    assert (failed.stage, failed.error) == (
        "ingest_prices",
        "NoPricesError: ZZZZ: no prices from source 'sample'",
    )
    lost = ticker_outcome("MSFT", Running())
    assert lost == TickerOutcome("MSFT", error="ended Running: its worker stopped first")


def test_the_final_state_fails_naming_every_failed_ticker():
    fine = TickerOutcome("AAPL", result=1)
    assert final_state([fine]) == [fine]
    state = final_state([fine, TickerOutcome("MSFT", error="ended Running: its worker stopped")])
    assert state.is_failed()
    assert state.message == "1 of 2 tickers failed: MSFT (ended Running: its worker stopped)"
