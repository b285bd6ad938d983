"""`tickercast verify [--repair]`: check every stored file of a home, and repair what
can be repaired without losing anything.

What is checked, and what a repair does:

- price partitions: each opens and its data is what the manifest last recorded for
  the ticker (`Store.read_prices`). Repair: the ticker's ingest refetches its whole
  history from the source and rewrites the partition (a revision `repair: ...`).
- the manifests: every line is a JSON ingest record. Repair: the lines that are not
  are moved to `ingest.jsonl.bad-<stamp>` beside the ticker's manifest, which is
  rewritten without them (atomically).
- forecasts, ledger and scores (Parquet), the latest forecasts and every report
  (JSON): each opens. Repair: the file is set aside under `quarantine/` (its path
  kept), so the next run writes it afresh and nothing is deleted. A set-aside ledger
  file is a publication the track record no longer counts: the repair says so.

Nothing here imports Prefect: the CLI prints the report.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq

from tickercast.data.ingest import ingest_prices
from tickercast.data.sources import PriceSource
from tickercast.data.storage import (
    FORECAST_SCHEMA,
    LEDGER_SCHEMA,
    SCORE_SCHEMA,
    Store,
    atomic_write,
)
from tickercast.errors import BrokenPartitionError, NoPricesError, StoredFileError

# What a broken file of each kind is repaired by.
REFETCH, DROP_LINES, SET_ASIDE = "refetch from the source", "drop the bad lines", "set aside"


@dataclass(frozen=True)
class Problem:
    """One stored file that is not as it should be.

    Attributes:
        path: the file.
        detail: what is wrong with it.
        repair: what `--repair` does about it (REFETCH, DROP_LINES, SET_ASIDE).
        ticker: the ticker whose prices it holds, for a price partition.
    """

    path: Path
    detail: str
    repair: str
    ticker: str | None = None


@dataclass(frozen=True)
class Repair:
    """What `--repair` did about one problem, or why it could not."""

    problem: Problem
    done: str | None
    failed: str | None = None


def verify_home(store: Store) -> list[Problem]:
    """Every problem in the home's stored files, prices first.

    Args:
        store: the home.

    Returns:
        The problems; empty for a sound home.
    """
    problems = _manifest_problems(store)
    recorded = {unquote(p.parent.name.removeprefix("ticker=")) for p in store.manifest_files()}
    for ticker in sorted(set(store.stored_tickers()) | recorded):
        try:
            store.read_prices(ticker)
        except NoPricesError:
            pass
        except BrokenPartitionError as error:
            problems.insert(0, Problem(Path(error.path), error.problem, REFETCH, ticker))
        except StoredFileError:  # a bad manifest line names it: reported above
            continue
    for pattern, read in _FILES:
        for path in sorted(store.home.glob(pattern)):
            if path.name.startswith("."):  # a writer's temporary file
                continue
            try:
                read(path)
            except (OSError, ValueError, pa.ArrowException) as error:
                problems.append(Problem(path, f"cannot be read: {error}", SET_ASIDE))
    return problems


def repair_home(
    store: Store, problems: list[Problem], source_for: Callable[[str], tuple[PriceSource, str]]
) -> list[Repair]:
    """Repair what `verify_home` found, the manifest first (the price checks read it).

    Args:
        store: the home.
        problems: what `verify_home` found.
        source_for: a ticker's price source and calendar, for a partition to refetch.

    Returns:
        What was done about each problem.
    """
    order = {DROP_LINES: 0, REFETCH: 1, SET_ASIDE: 2}
    repairs = []
    for problem in sorted(problems, key=lambda p: order[p.repair]):
        if problem.repair == DROP_LINES:
            repairs.append(Repair(problem, _drop_bad_lines(store, problem.path)))
        elif problem.repair == REFETCH:
            repairs.append(_refetch(store, problem, *source_for(problem.ticker)))
        else:
            repairs.append(Repair(problem, _set_aside(store, problem.path)))
    return repairs


def _refetch(store: Store, problem: Problem, source: PriceSource, calendar: str) -> Repair:
    try:
        result, _ = ingest_prices(problem.ticker, source, store, None, calendar)
    except Exception as error:  # noqa: BLE001 - the one line the user reads
        return Repair(problem, None, str(error))
    return Repair(
        problem,
        f"refetched {result.sessions_stored} sessions from {result.source} "
        f"({result.first_session} to {result.last_session}), ingest {result.ingest_id}",
    )


def _set_aside(store: Store, path: Path) -> str:
    """Move a file under `quarantine/`, keeping its path, the stamp added."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = store.home / "quarantine" / f"{path.relative_to(store.home)}.{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    note = " (a publication the track record no longer counts)" if "ledger" in path.parts else ""
    return f"moved to {target}{note}"


def _manifest_problems(store: Store) -> list[Problem]:
    problems = []
    for path in store.manifest_files():
        if bad := _bad_lines(path):
            lines = ", ".join(str(number) for number, _ in bad[:5])
            problems.append(Problem(path, f"lines {lines} are not ingest records", DROP_LINES))
    return problems


def _bad_lines(path: Path) -> list[tuple[int, bytes]]:
    """The manifest's lines (numbered from 1) that are not a JSON record with a ticker."""
    if not path.is_file():
        return []
    bad = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            record = json.loads(line)
            ok = isinstance(record, dict) and "ticker" in record and "data_sha256" in record
        except ValueError:
            ok = False
        if not ok and line.strip():
            bad.append((number, line))
    return bad


def _drop_bad_lines(store: Store, path: Path) -> str:
    """Rewrite a manifest without its bad lines, which are kept beside it."""
    with store.lock(unquote(path.parent.name.removeprefix("ticker="))):
        bad = _bad_lines(path)
        numbers = {number for number, _ in bad}
        kept = [
            line
            for number, line in enumerate(path.read_bytes().splitlines(), start=1)
            if number not in numbers and line.strip()
        ]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = path.with_name(f"{path.name}.bad-{stamp}")
        set_aside = b"".join(line + b"\n" for _, line in bad)
        atomic_write(aside, lambda temporary: temporary.write_bytes(set_aside))
        rewritten = b"".join(line + b"\n" for line in kept)
        atomic_write(path, lambda temporary: temporary.write_bytes(rewritten))
    return f"{len(bad)} lines moved to {aside}; {len(kept)} records kept"


def _parquet(schema: pa.Schema) -> Callable[[Path], object]:
    return lambda path: pq.read_table(path, schema=schema)


def _json(path: Path) -> object:
    return json.loads(path.read_text())


# The home's other files: glob pattern and how each must read.
_FILES: tuple[tuple[str, Callable[[Path], object]], ...] = (
    ("forecasts/*/*.parquet", _parquet(FORECAST_SCHEMA)),
    ("forecasts/*/latest.json", _json),
    ("ledger/ticker=*/*.parquet", _parquet(LEDGER_SCHEMA)),
    ("scores/ticker=*/scores.parquet", _parquet(SCORE_SCHEMA)),
    ("reports/**/*.json", _json),
)
