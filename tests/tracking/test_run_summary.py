"""A flow run's summary: one row per ticker, published or failed, its headline and its tables."""

from dataclasses import replace
from datetime import date

from tickercast.ledger.forecasts import Published
from tickercast.tracking.run_summary import SHOWN_ERROR, SummaryRow, headline, markdown, table

COLUMNS = ["ticker", "status", "forecast", "80 % interval", "model", "intervals", "why"]

AAPL = Published(
    ticker="AAPL",
    as_of=date(2013, 3, 1),
    target_date=date(2013, 3, 4),
    last_close=430.47,
    forecast=431.256,
    lower_80=421.004,
    upper_80=441.5,
    model="lstm",
    model_version="3",
    reason="the new model beats naive and the champion (holdout rmse_ratio ...)",
    interval_model="gjr_conformal",
    interval_reason="gjr_conformal beats realized-volatility conformal",
    why="beat naive and champion",
    rmse_ratio=0.97,
    mlflow_run_id="r1",
    mlflow_run_url="http://127.0.0.1:5000/#/experiments/1/runs/r1",
    path="/home/forecasts/AAPL/2013-03-01.parquet",
)


def test_a_published_ticker_shows_its_forecast_interval_model_and_why():
    row = SummaryRow.of(AAPL)
    assert row.published and row.status == "published"
    assert row.forecast == "431.26 for 2013-03-04"
    assert row.interval_80 == "421.00 – 441.50"
    assert (row.model, row.intervals, row.why) == ("lstm v3", "gjr_conformal", AAPL.why)
    assert row.detail == (
        "lstm v3: 431.26 for 2013-03-04 [421.00, 441.50] "
        f"({AAPL.reason}); intervals of gjr_conformal"
    )


def test_naive_is_shown_without_a_version():
    row = SummaryRow.of(replace(AAPL, model="naive", model_version=None))
    assert row.model == "naive" and row.detail.startswith("naive: 431.26 for 2013-03-04 ")


def test_a_calibration_alarm_is_shown_beside_why_and_in_the_detail():
    alarm = "80 % coverage 0.62 over the last 60 sessions"
    row = SummaryRow.of(replace(AAPL, calibration_alarm=alarm))
    assert row.why == f"beat naive and champion; ALARM: {alarm}"
    assert row.detail.endswith(f"intervals of gjr_conformal; ALARM: {alarm}")


def test_a_failed_ticker_names_its_stage_and_its_error_and_shows_no_forecast():
    error = "NoPricesError: NVDAX: no prices from source 'yfinance': possibly delisted"
    row = SummaryRow.failure("NVDAX", "ingest_prices", error)
    assert not row.published
    assert (row.status, row.detail, row.why) == ("failed in ingest_prices", error, error)
    assert (row.forecast, row.interval_80, row.model, row.intervals) == ("", "", "", "")


def test_a_ticker_that_failed_outside_any_stage_failed_in_the_flow():
    row = SummaryRow.failure("MSFT", None, "ended Crashed: its worker stopped first")
    assert row.status == "failed in the flow"


def test_a_long_error_is_cut_in_the_table_and_kept_whole_in_the_detail():
    long = "SourceUnavailableError: AAPL: Yahoo did not answer: " + "x" * 200
    row = SummaryRow.failure("AAPL", "ingest_prices", long)
    assert row.detail == long
    assert len(row.why) == SHOWN_ERROR == 120
    assert row.why == long[:119] + "…"
    fits = "E" * SHOWN_ERROR  # an error of exactly the width is shown whole
    assert SummaryRow.failure("AAPL", "ingest_prices", fits).why == fits


def test_the_headline_counts_published_and_failed_tickers():
    published = SummaryRow.of(AAPL)
    failed = SummaryRow.failure("NVDAX", "ingest_prices", "NoPricesError: NVDAX")
    assert headline([published, failed, published]) == "2 of 3 tickers published, 1 failed"
    assert headline([published, published]) == "2 of 2 tickers published"
    assert headline([failed]) == "0 of 1 tickers published, 1 failed"


def test_the_table_lists_the_failed_tickers_first_each_group_in_the_runs_order():
    rows = [
        SummaryRow.of(AAPL),
        SummaryRow.failure("NVDAX", "ingest_prices", "NoPricesError: NVDAX"),
        SummaryRow.of(replace(AAPL, ticker="MSFT")),
        SummaryRow.failure("IBM", "train_candidates", "InsufficientHistoryError: IBM"),
    ]
    shown = table(rows)
    assert [row["ticker"] for row in shown] == ["NVDAX", "IBM", "AAPL", "MSFT"]
    assert all(list(row) == COLUMNS for row in shown)
    assert shown[0] == {
        "ticker": "NVDAX",
        "status": "failed in ingest_prices",
        "forecast": "",
        "80 % interval": "",
        "model": "",
        "intervals": "",
        "why": "NoPricesError: NVDAX",
    }
    assert shown[2]["80 % interval"] == "421.00 – 441.50"


def test_the_markdown_is_the_headline_over_a_table_of_every_ticker():
    rows = [SummaryRow.of(AAPL), SummaryRow.failure("NVDAX", "ingest_prices", "NoPricesError")]
    lines = markdown(rows).splitlines()
    assert lines == [
        "# 1 of 2 tickers published, 1 failed",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---|---|---|---|---|---|---|",
        "| NVDAX | failed in ingest_prices |  |  |  |  | NoPricesError |",
        "| AAPL | published | 431.26 for 2013-03-04 | 421.00 – 441.50 | lstm v3 | "
        "gjr_conformal | beat naive and champion |",
    ]


def test_a_run_of_no_ticker_still_gives_a_headline_and_a_table_header():
    assert headline([]) == "0 of 0 tickers published"
    assert table([]) == []
    assert markdown([]) == "# 0 of 0 tickers published\n\n| ticker | status |\n|---|---|\n"


def test_an_error_of_several_lines_keeps_the_markdown_table_one_row_per_ticker():
    # what `{type}: {error}` gives for the local MLflow store's SQLAlchemy errors
    error = (
        "MlflowException: (sqlite3.OperationalError) database is locked\n"
        "[SQL: UPDATE runs SET status=? WHERE runs.run_uuid = ?]\n"
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )
    rows = [SummaryRow.failure("MSFT", "publish_forecast", error), SummaryRow.of(AAPL)]
    assert "\n" not in rows[0].why  # the table's few words are one line
    lines = markdown(rows).splitlines()
    assert len(lines) == 4 + len(rows)
    assert lines[4].startswith("| MSFT | failed in publish_forecast |")
    assert lines[5].startswith("| AAPL | published |")
