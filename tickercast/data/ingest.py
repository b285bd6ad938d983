"""Incremental, revision-aware ingest of one ticker into the store.

Only what is new is fetched: from a few sessions before the last stored one. Those
overlapping sessions are compared with what is stored; when a price differs beyond
rounding, or the new sessions carry a split or a dividend (both rescale every past
adjusted price), the ticker's whole history is fetched again and its partition is
replaced in one atomic move. A stored partition that is broken (unreadable, missing,
or not what the manifest recorded) is repaired the same way: the whole history is
fetched again and written atomically, and the manifest and the quality report say
so. Every ingest appends a record to the manifest.
"""

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from tickercast.data.prices import PRICE_COLUMNS, prices_sha256
from tickercast.data.quality import DEFAULT_QUALITY, QualityConfig, QualityReport, clean_prices
from tickercast.data.sources import PriceSource
from tickercast.data.storage import Store
from tickercast.data.time_limits import DEFAULT_SOURCE_CALL, call_within
from tickercast.errors import (
    BrokenPartitionError,
    NoPricesError,
    PriceDataError,
    SourceConflictError,
    SourceUnavailableError,
    StoredFileError,
)

OVERLAP_SESSIONS = 5
# Columns whose change means the source rewrote history; volume is often revised
# after the close and is simply updated.
_HISTORY_COLUMNS = ["open", "high", "low", "close", "adjusted_close", "dividend", "split_ratio"]
_ROUNDING = 1e-6


@dataclass(frozen=True)
class IngestResult:
    """One ingest of one ticker, as recorded in the manifest."""

    ingest_id: str
    at: str
    ticker: str
    source: str
    fetched_start: str | None
    fetched_end: str | None
    rows_fetched: int
    rows_added: int
    rows_changed: int
    revision: bool
    revision_reason: str | None
    wrote: bool
    sessions_stored: int
    first_session: str
    last_session: str
    data_sha256: str
    findings: dict[str, int]
    quality_report: str | None
    # what was wrong with the stored partition this ingest rewrote, if it was broken
    repaired: str | None = None

    def as_record(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line for the run's log: what was fetched, what changed, what is stored."""
        fetched = (
            f"fetched {self.rows_fetched} sessions ({self.fetched_start} to {self.fetched_end})"
            if self.rows_fetched
            else "fetched nothing"
        )
        return (
            f"{self.ticker}: {fetched}, {self.rows_added} added, {self.rows_changed} changed, "
            f"revision: {self.revision_reason or 'no'}; {self.sessions_stored} sessions stored "
            f"to {self.last_session}; findings: {self._findings() or 'none'}"
        )

    def warnings(self) -> list[str]:
        """What the user should know of their data: a stored partition repaired, and
        the fetched sessions' quality findings."""
        warnings = []
        if self.repaired:
            warnings.append(
                f"{self.ticker}: the stored prices were broken ({self.repaired}); "
                f"refetched {self.rows_fetched} sessions from {self.source} and rewrote them"
            )
        if self.findings:
            warnings.append(
                f"{self.ticker}: data-quality findings in the sessions fetched "
                f"({self._findings()}); report: {self.quality_report}"
            )
        return warnings

    def _findings(self) -> str:
        return ", ".join(f"{kind} {count}" for kind, count in self.findings.items())


def _stored(prices: pd.DataFrame) -> dict:
    """What an ingest record says of the stored series: its sessions and hash."""
    return {
        "sessions_stored": len(prices),
        "first_session": str(prices["session"].iloc[0].date()),
        "last_session": str(prices["session"].iloc[-1].date()),
        "data_sha256": prices_sha256(prices),
    }


def _differing(stored: pd.DataFrame, fetched: pd.DataFrame, columns: list[str]) -> pd.Index:
    """Sessions present in both whose `columns` differ beyond rounding."""
    old = stored.set_index("session")
    new = fetched.set_index("session")
    common = new.index.intersection(old.index)
    same = np.isclose(
        old.loc[common, columns].astype("float64").to_numpy(),
        new.loc[common, columns].astype("float64").to_numpy(),
        rtol=_ROUNDING,
        atol=_ROUNDING,
        equal_nan=True,
    )
    return common[~same.all(axis=1)]


def revision_reason(stored: pd.DataFrame, fetched: pd.DataFrame) -> str | None:
    """Why the stored history can no longer be trusted, or None.

    Args:
        stored: the ticker's stored prices.
        fetched: freshly fetched, cleaned prices overlapping the end of `stored`.

    Returns:
        A sentence naming the sessions that changed or the new corporate action.
    """
    changed = _differing(stored, fetched, _HISTORY_COLUMNS)
    if len(changed):
        days = ", ".join(day.date().isoformat() for day in changed[:5])
        return f"stored prices changed at the source on {days}"
    new = fetched[fetched["session"] > stored["session"].iloc[-1]]
    actions = new[(new["split_ratio"] != 1.0) | (new["dividend"] > 0)]
    if len(actions):
        first = actions.iloc[0]
        what = (
            f"split {first['split_ratio']:g}:1"
            if first["split_ratio"] != 1.0
            else f"dividend {first['dividend']:g}"
        )
        return f"new {what} on {first['session'].date()} rescales past adjusted prices"
    return None


def _replay_record(
    ticker: str, source: PriceSource, store: Store, stored: pd.DataFrame, at: datetime
) -> IngestResult:
    """A replay whose as_of the store already covers: nothing fetched, nothing written."""
    result = IngestResult(
        ingest_id=uuid.uuid4().hex,
        at=at.isoformat(),
        ticker=ticker,
        source=source.name,
        fetched_start=None,
        fetched_end=None,
        rows_fetched=0,
        rows_added=0,
        rows_changed=0,
        revision=False,
        revision_reason=None,
        wrote=False,
        **_stored(stored),
        findings={},
        quality_report=None,
    )
    store.append_manifest(result.as_record())
    return result


def stored_source(store: Store, ticker: str) -> str | None:
    """The source the ticker's stored prices came from (its manifest's last record), or
    None when nothing was ever ingested."""
    recorded = store.last_ingest(ticker)
    return None if recorded is None else recorded["source"]


def replaced_source(store: Store, ticker: str, source: str, replace: bool = False) -> str | None:
    """Refuse to mix sources: a ticker stored from one source is not ingested from
    another, unless replaced on purpose.

    Args:
        store: the home.
        ticker: the symbol.
        source: the requested source's name (`PriceSource.name`).
        replace: whether another source's prices are to be replaced.

    Returns:
        The other source the stored prices came from, to be replaced; None when they
        came from `source`, or nothing is stored.

    Raises:
        SourceConflictError: the stored prices came from another source, and `replace`
            is False.
    """
    stored = stored_source(store, ticker)
    if stored in (None, source):
        return None
    if not replace:
        raise SourceConflictError(ticker, stored, source)
    return stored


def ingest_prices(
    ticker: str,
    source: PriceSource,
    store: Store,
    as_of: date | None,
    calendar: str,
    quality: QualityConfig = DEFAULT_QUALITY,
    source_timeout: float = DEFAULT_SOURCE_CALL,
    replace_source: bool = False,
) -> tuple[IngestResult, QualityReport | None]:
    """Bring the ticker's stored prices up to `as_of`, fetching as little as possible.

    Args:
        ticker: a validated symbol.
        source: where prices come from.
        store: where they are kept.
        as_of: the last session to fetch; None fetches every final session.
        calendar: exchange calendar code of the ticker.
        quality: thresholds of the soft quality checks.
        source_timeout: seconds a request to the source may take.
        replace_source: when the stored prices came from another source, replace them
            with `source`'s whole history (a revision that says so) instead of refusing.

    Returns:
        The manifest record of this ingest and the quality report of what was fetched
        (None for a replay whose as_of the store already covers: nothing is fetched).

    Raises:
        SourceConflictError: the stored prices came from another source, and
            `replace_source` is False; nothing is fetched or written.
        NoPricesError, PriceDataError: the source has nothing usable; no price is
            stored and what was stored is untouched. Rejected data (PriceDataError)
            still leaves a quality report saying why.
        SourceUnavailableError: the source returned nothing for a ticker that is
            stored, or did not answer within `source_timeout`: taken as a transient
            failure, and retried.
    """
    at = datetime.now(UTC)
    stamp = at.strftime("%Y%m%dT%H%M%S%fZ")

    def fetch_clean(start: date | None) -> tuple[pd.DataFrame, QualityReport]:
        try:
            fetched = call_within(
                lambda: source.fetch(ticker, start, as_of),
                source_timeout,
                f"{ticker}: {source.name}",
            )
            prices, report = clean_prices(fetched, ticker, source.name, calendar, quality)
        except PriceDataError as error:  # rejected data gets a report too
            rejected = {"ticker": ticker, "source": source.name, "rejected": str(error)}
            store.write_quality_report(ticker, rejected, stamp)
            raise
        if prices.empty:
            raise NoPricesError(ticker, source.name, "no rows with prices")
        return prices, report

    with store.lock(ticker):
        previous_source = replaced_source(store, ticker, source.name, replace_source)
        replaced = previous_source is not None
        stored, broken = _stored_prices(store, ticker)
        start = None
        if stored is not None and not replaced:
            start = stored["session"].iloc[-min(OVERLAP_SESSIONS, len(stored))].date()
            if as_of is not None and as_of <= stored["session"].iloc[-1].date():
                return _replay_record(ticker, source, store, stored, at), None
        try:
            fetched, report = fetch_clean(start)
        except (NoPricesError, PriceDataError, SourceUnavailableError) as error:
            if broken is not None:
                raise _unrepaired(broken, source, error) from error
            if stored is None or replaced or not isinstance(error, NoPricesError):
                raise
            raise SourceUnavailableError(
                f"{ticker}: {source.name} returned nothing, although {len(stored)} sessions "
                f"up to {stored['session'].iloc[-1].date()} are stored: {error}"
            ) from error
        # a replaced or broken history was fetched whole (start None); a revised one is now
        if replaced:
            reason = f"source replaced on purpose: {previous_source} -> {source.name}"
        elif broken is not None:
            reason = f"repair: {broken.problem}"
        else:
            reason = None if stored is None else revision_reason(stored, fetched)
            if reason is not None:
                fetched, report = fetch_clean(None)
        if stored is None or reason is not None:
            merged, previous = fetched, stored if stored is not None else fetched.iloc[:0]
        else:
            merged = (
                pd.concat([stored, fetched], ignore_index=True)
                .drop_duplicates("session", keep="last")
                .sort_values("session")
                .reset_index(drop=True)
            )
            previous = stored
        added = len(pd.Index(merged["session"]).difference(pd.Index(previous["session"])))
        changed = len(_differing(previous, merged, PRICE_COLUMNS[1:]))
        wrote = bool(added or changed or reason)
        if wrote:
            store.write_prices(ticker, merged)

        repaired = {"repaired": broken.problem} if broken is not None else {}
        report_path = store.write_quality_report(ticker, report.as_dict() | repaired, stamp)
        result = IngestResult(
            ingest_id=uuid.uuid4().hex,
            at=at.isoformat(),
            ticker=ticker,
            source=source.name,
            fetched_start=str(fetched["session"].iloc[0].date()),
            fetched_end=str(fetched["session"].iloc[-1].date()),
            rows_fetched=len(fetched),
            rows_added=added,
            rows_changed=changed,
            revision=reason is not None,
            revision_reason=reason,
            wrote=wrote,
            **_stored(merged),
            findings=report.counts(),
            quality_report=str(report_path),
            **repaired,
        )
        store.append_manifest(result.as_record())
    return result, report


def _stored_prices(
    store: Store, ticker: str
) -> tuple[pd.DataFrame | None, BrokenPartitionError | None]:
    """The ticker's stored prices (None: nothing stored), or why they are broken."""
    try:
        return store.read_prices(ticker), None
    except NoPricesError:
        return None, None
    except BrokenPartitionError as error:
        return None, error


def _unrepaired(broken: BrokenPartitionError, source: PriceSource, error: Exception) -> Exception:
    """The error of a broken partition the source cannot refetch: it names the file and
    what to do; a source that did not answer stays a transient error, retried."""
    what = f"{broken.ticker}: stored prices {broken.path} are broken ({broken.problem})"
    if isinstance(error, SourceUnavailableError):
        return SourceUnavailableError(
            f"{what}; {source.name} did not answer to refetch them ({error}); the next run "
            "tries again"
        )
    return StoredFileError(
        f"{what} and {source.name} cannot supply the history to rewrite them ({error}); "
        f"ingest {broken.ticker} from a source that has it, or restore the file from a backup"
    )
