"""A flow run's outcome per ticker, as its summary shows it: the Prefect table artifact
`daily-forecast-summary`, the description of its MLflow parent run, reports/runs/.

Narrow columns first (what was published, its 80 % interval, which model and why, in a
few words), so that the table fits the Prefect UI's width at 480 tickers; the failed
tickers come first, where the few that need attention are seen.
"""

from dataclasses import dataclass

from tickercast.ledger.forecasts import Published

PUBLISHED = "published"
# an error longer than this is cut in the table (it is whole in reports/runs/ and the logs)
SHOWN_ERROR = 120


@dataclass(frozen=True)
class SummaryRow:
    """One ticker's outcome in a flow run.

    Attributes:
        ticker: the symbol.
        status: `published`, or `failed in <stage>`.
        detail: one line: the forecast and why, or the error (reports/runs/ keeps it,
            `tickercast status` shows it).
        forecast: e.g. `27.93 for 2013-03-04` (empty when it failed).
        interval_80: e.g. `27.57 – 28.30`.
        model: the published model, e.g. `lstm v1` or `naive`.
        intervals: whose intervals were published, e.g. `gjr_conformal`.
        why: the gate's reason in a few words, the calibration alarm if raised, or the error.
    """

    ticker: str
    status: str
    detail: str
    forecast: str = ""
    interval_80: str = ""
    model: str = ""
    intervals: str = ""
    why: str = ""

    @classmethod
    def of(cls, published: Published) -> "SummaryRow":
        """The row of a published forecast."""
        version = f" v{published.model_version}" if published.model_version else ""
        alarm = f"; ALARM: {published.calibration_alarm}" if published.calibration_alarm else ""
        return cls(
            ticker=published.ticker,
            status=PUBLISHED,
            detail=(
                f"{published.model}{version}: {published.forecast:.2f} for "
                f"{published.target_date} [{published.lower_80:.2f}, {published.upper_80:.2f}] "
                f"({published.reason}); intervals of {published.interval_model}{alarm}"
            ),
            forecast=f"{published.forecast:.2f} for {published.target_date}",
            interval_80=f"{published.lower_80:.2f} – {published.upper_80:.2f}",
            model=f"{published.model}{version}",
            intervals=published.interval_model,
            why=f"{published.why}{alarm}",
        )

    @classmethod
    def failure(cls, ticker: str, stage: str | None, error: str) -> "SummaryRow":
        """The row of a ticker that failed in `stage` (None: in the flow itself)."""
        # the table's few words: the error's first line, cut (the detail keeps it whole)
        first = error.splitlines()[0] if error else error
        shown = first if len(first) <= SHOWN_ERROR else first[: SHOWN_ERROR - 1] + "…"
        return cls(ticker, f"failed in {stage or 'the flow'}", error, why=shown)

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED


def headline(rows: list[SummaryRow]) -> str:
    """How many tickers a flow run published and how many failed, in one line.

    Args:
        rows: one per ticker.

    Returns:
        E.g. `475 of 480 tickers published, 5 failed`.
    """
    failed = sum(not row.published for row in rows)
    return f"{len(rows) - failed} of {len(rows)} tickers published" + (
        f", {failed} failed" if failed else ""
    )


def table(rows: list[SummaryRow]) -> list[dict[str, str]]:
    """The rows as the table artifact shows them, the failed first.

    Args:
        rows: one per ticker, in the run's order.

    Returns:
        `ticker`, `status`, `forecast`, `80 % interval`, `model`, `intervals`, `why`
        per ticker.
    """
    ordered = sorted(rows, key=lambda row: row.published)  # stable: run order kept
    return [
        {
            "ticker": row.ticker,
            "status": row.status,
            "forecast": row.forecast,
            "80 % interval": row.interval_80,
            "model": row.model,
            "intervals": row.intervals,
            "why": row.why,
        }
        for row in ordered
    ]


def markdown(rows: list[SummaryRow]) -> str:
    """The rows as the MLflow parent run's description shows them, the failed first.

    Args:
        rows: one per ticker.

    Returns:
        Markdown text.
    """
    shown = table(rows)
    columns = list(shown[0]) if shown else ["ticker", "status"]
    lines = [f"# {headline(rows)}", "", "| " + " | ".join(columns) + " |"]
    lines += ["|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row[c] for c in columns) + " |" for row in shown]
    return "\n".join(lines) + "\n"
