"""Validation of fetched prices: hard errors stop a ticker, soft findings are reported.

Hard errors (raised as `PriceDataError`, nothing stored): a row with prices but no
close, a non-positive price, a negative volume or dividend. They are checked with a
pandera schema on the cleaned frame.

Soft findings (reported, the run goes on): rows with no price at all (dropped), a
session listed more than once (the later row, the final value, is kept), rows out of
order (sorted), sessions missing against the exchange calendar, high/low that do not
bracket open and close (repaired in the range measure), bars with no range or repeating
the session before (left out of the range measure: `tickercast.data.daily_bar`), a one-day
move no split explains, zero volume.
"""

from dataclasses import asdict, dataclass, field
from datetime import date

import pandas as pd
import pandera.pandas as pa

from tickercast.data.calendar import sessions_between
from tickercast.data.daily_bar import inconsistent_bars, stale_bars
from tickercast.errors import PriceDataError

_PRICE_FIELDS = ["open", "high", "low", "close", "adjusted_close"]
_MARKDOWN_DETAIL = 300

HARD_SCHEMA = pa.DataFrameSchema(
    {
        "session": pa.Column("datetime64[ns]", unique=True, nullable=False),
        "open": pa.Column(float, pa.Check.gt(0), nullable=True),
        "high": pa.Column(float, pa.Check.gt(0), nullable=True),
        "low": pa.Column(float, pa.Check.gt(0), nullable=True),
        "close": pa.Column(float, pa.Check.gt(0), nullable=False),
        "adjusted_close": pa.Column(float, pa.Check.gt(0), nullable=False),
        "volume": pa.Column("Int64", pa.Check.ge(0), nullable=True),
        "dividend": pa.Column(float, pa.Check.ge(0), nullable=False),
        "split_ratio": pa.Column(float, pa.Check.gt(0), nullable=False),
    },
    strict=True,
    ordered=True,
)


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the soft checks.

    Attributes:
        max_daily_move: a one-day change of the adjusted close (or of the raw close,
            corrected for that day's split) beyond this fraction is reported.
        ohlc_tolerance: relative slack when checking that high and low bracket the day.
    """

    max_daily_move: float = 0.25
    ohlc_tolerance: float = 1e-6


DEFAULT_QUALITY = QualityConfig()


@dataclass(frozen=True)
class Finding:
    """One kind of soft problem and the sessions it concerns."""

    kind: str
    count: int
    sessions: list[str]
    detail: str


@dataclass
class QualityReport:
    """What validation found in one fetch of one ticker."""

    ticker: str
    source: str
    rows_in: int
    sessions_kept: int
    first_session: str | None
    last_session: str | None
    calendar: str
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Findings by kind: `{"missing_sessions": 2, ...}`."""
        return {finding.kind: finding.count for finding in self.findings}

    def as_dict(self) -> dict:
        return asdict(self)


def _days(stamps) -> list[str]:
    return [pd.Timestamp(stamp).date().isoformat() for stamp in stamps]


def _finding(kind: str, stamps, detail: str) -> Finding:
    days = _days(stamps)
    return Finding(kind=kind, count=len(days), sessions=days, detail=detail)


def _drop_empty_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    empty = frame[_PRICE_FIELDS].isna().all(axis=1)
    if not empty.any():
        return frame, []
    found = _finding("null_rows", frame.loc[empty, "session"], "rows without any price, dropped")
    return frame.loc[~empty], [found]


def _order_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """Keep the later of repeated sessions (an intraday snapshot is followed by the final
    bar), then sort; report both."""
    findings = []
    if len(frame) > 1 and frame["session"].is_monotonic_decreasing:
        frame = frame.iloc[::-1]  # a newest-first file (Alpha Vantage): in order, reversed
    sessions = frame["session"]
    backwards = sessions < sessions.cummax()
    if backwards.any():
        findings.append(
            _finding(
                "out_of_order_rows", sessions[backwards], "rows dated before an earlier row; sorted"
            )
        )
    repeated = sessions.duplicated(keep=False)
    if repeated.any():

        def values(row: pd.Series) -> str:
            return f"close {row['close']:g}, volume {row['volume']}"

        examples = [
            f"{day.date()}: kept {values(rows.iloc[-1])}; dropped "
            + "; ".join(values(row) for _, row in rows.iloc[:-1].iterrows())
            for day, rows in frame.loc[repeated].groupby("session", sort=True)
        ]
        findings.append(
            _finding(
                "duplicate_sessions",
                sorted(sessions[repeated].unique()),
                "sessions listed more than once; the later row (the final value) is kept. "
                + "; ".join(examples),
            )
        )
    ordered = frame.drop_duplicates("session", keep="last").sort_values("session", kind="stable")
    return ordered.reset_index(drop=True), findings


def _raise_hard_errors(frame: pd.DataFrame, ticker: str, origin: str) -> None:
    try:
        HARD_SCHEMA.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"])
        problems = []
        for (column, check), group in cases.groupby(["column", "check"], sort=False):
            days = _days(frame.loc[group["index"].astype(int).unique(), "session"])
            shown = ", ".join(days[:10]) + (f" and {len(days) - 10} more" if len(days) > 10 else "")
            what = "missing" if check == "not_nullable" else f"failing {check}"
            problems.append(f"{column} {what} on {shown}")
        raise PriceDataError(f"{ticker}: {origin}: " + "; ".join(problems)) from None


def _soft_findings(prices: pd.DataFrame, calendar: str, config: QualityConfig) -> list[Finding]:
    findings = []
    days = prices["session"]
    expected = sessions_between(days.iloc[0].date(), days.iloc[-1].date(), calendar)
    missing = expected.difference(pd.DatetimeIndex(days))
    if len(missing):
        findings.append(_finding("missing_sessions", missing, f"{calendar} sessions with no row"))

    inconsistent = inconsistent_bars(prices, config.ohlc_tolerance)
    if inconsistent.any():
        findings.append(
            _finding(
                "ohlc_inconsistent",
                days[inconsistent],
                "high < max(open, close) or low > min(open, close); the range measure of "
                "the intervals takes max(open, high, close) and min(open, low, close)",
            )
        )
    no_range = (prices["high"] == prices["low"]).to_numpy()
    for kind, sessions, what in (
        ("zero_range", no_range, "high equal to low: no range within the day"),
        (
            "stale_bar",
            stale_bars(prices) & ~no_range,
            "open, high, low, close and volume all the session before's",
        ),
    ):
        if sessions.any():
            findings.append(
                _finding(
                    kind,
                    days[sessions],
                    f"{what}; the range measure of the intervals uses the squared "
                    "close-to-close return there",
                )
            )

    adjusted_move = prices["adjusted_close"].pct_change().abs()
    # A split of ratio r divides the raw close by r: corrected, the raw move is flat.
    raw_move = (prices["close"] * prices["split_ratio"] / prices["close"].shift()).sub(1).abs()
    jumps = (adjusted_move > config.max_daily_move) | (raw_move > config.max_daily_move)
    if jumps.any():
        examples = [
            f"{day.date()}: {previous:g} -> {close:g}"
            for day, previous, close in zip(
                days[jumps][:5],
                prices["close"].shift()[jumps][:5],
                prices["close"][jumps][:5],
                strict=True,
            )
        ]
        findings.append(
            _finding(
                "large_move",
                days[jumps],
                f"one-day move beyond {config.max_daily_move:.0%} that no split explains: "
                + "; ".join(examples),
            )
        )

    zero_volume = prices["volume"].fillna(-1).eq(0)
    if zero_volume.any():
        findings.append(_finding("zero_volume", days[zero_volume], "sessions with zero volume"))
    return findings


def clean_prices(
    frame: pd.DataFrame,
    ticker: str,
    origin: str,
    calendar: str,
    config: QualityConfig = DEFAULT_QUALITY,
) -> tuple[pd.DataFrame, QualityReport]:
    """Validate a normalized frame and return it cleaned, with its quality report.

    Args:
        frame: a frame from `tickercast.data.prices.normalize_prices`, in source order.
        ticker: the symbol, for messages.
        origin: the source or file, for messages.
        calendar: exchange calendar code, to find missing sessions.
        config: thresholds of the soft checks.

    Returns:
        The cleaned prices (no empty rows, one row per session, sorted) and the report.

    Raises:
        PriceDataError: a hard error, naming the sessions; nothing should be stored.
    """
    rows_in = len(frame)
    present, findings = _drop_empty_rows(frame)
    prices, order_findings = _order_rows(present)
    findings += order_findings
    report = QualityReport(
        ticker=ticker,
        source=origin,
        rows_in=rows_in,
        sessions_kept=len(prices),
        first_session=None,
        last_session=None,
        calendar=calendar,
    )
    if prices.empty:
        report.findings = findings
        return prices, report
    _raise_hard_errors(prices, ticker, origin)
    report.first_session = prices["session"].iloc[0].date().isoformat()
    report.last_session = prices["session"].iloc[-1].date().isoformat()
    report.findings = findings + _soft_findings(prices, calendar, config)
    return prices, report


def report_markdown(report: QualityReport, as_of: date | None = None) -> str:
    """The quality report as Markdown, for the Prefect artifact.

    Args:
        report: the report.
        as_of: the as_of of the run, when there is one.

    Returns:
        Markdown text.
    """
    lines = [
        f"# {report.ticker}: data quality" + (f" as of {as_of}" if as_of else ""),
        "",
        f"Source `{report.source}`: {report.rows_in} rows in, {report.sessions_kept} sessions kept "
        f"({report.first_session} to {report.last_session}), calendar {report.calendar}.",
        "",
    ]
    if not report.findings:
        return "\n".join([*lines, "No findings."])
    lines += ["| finding | count | sessions | detail |", "|---|---|---|---|"]
    for finding in report.findings:
        shown = ", ".join(finding.sessions[:8]) + (" …" if finding.count > 8 else "")
        detail = finding.detail
        if len(detail) > _MARKDOWN_DETAIL:
            detail = detail[:_MARKDOWN_DETAIL] + " … (full list in the JSON report)"
        lines.append(f"| `{finding.kind}` | {finding.count} | {shown} | {detail} |")
    return "\n".join(lines)
