"""Which layout a `TICKERCAST_HOME` has, and the steps that bring an older one up to
date.

The version is kept in `<home>/layout.json`; a home without one was made before
versions were recorded: layout 1. Every command and flow opens the home first
(`open_home`): an older layout is migrated in place, one step at a time, each step
writing its new files atomically and keeping what it replaces under
`backups/layout-<version>/`, so a step cut short is simply done again; a home of a
newer layout is refused before anything is read or written.

Layouts:
1. one manifest for every ticker, `manifest/ingest.jsonl`.
2. a manifest per ticker, `manifest/ticker=<TICKER>/ingest.jsonl`: reading a
   ticker's records no longer reads every ticker's (480 tickers add 120,000 records
   a year).
"""

import json
import os
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tickercast.data.storage import Store, atomic_write
from tickercast.errors import InputError

LAYOUT = 2
LAYOUT_FILE = "layout.json"


class HomeLayoutError(InputError):
    """A home this version cannot open: made by a newer tickercast."""


def layout_of(home: Path) -> int:
    """The home's layout version (1 when none is recorded: `open_home` records it).

    Raises:
        HomeLayoutError: the layout file cannot be read.
    """
    path = Path(home) / LAYOUT_FILE
    if not path.is_file():
        return 1
    try:
        return int(json.loads(path.read_text())["layout_version"])
    except (ValueError, KeyError, TypeError) as error:
        raise HomeLayoutError(
            f"{path} cannot be read ({error}): restore it from a backup"
        ) from error


def open_home(home: Path) -> list[str]:
    """Check the home's layout, migrating an older one.

    Args:
        home: the TICKERCAST_HOME; one that does not exist yet is made, in the
            current layout.

    Returns:
        One line per migration step done (none when the layout is current).

    Raises:
        HomeLayoutError: the home was made by a newer tickercast; nothing is changed.
    """
    home = Path(home)
    if not (home / LAYOUT_FILE).is_file() and not (home / "manifest" / "ingest.jsonl").is_file():
        # a new home, or one that holds nothing of layout 1: made in the current layout
        home.mkdir(parents=True, exist_ok=True)
        _record(home, LAYOUT, "a new home")
        return []
    _refuse_newer(home)  # before anything is written, a lock file included
    if layout_of(home) == LAYOUT:  # the common case takes no lock
        return []
    store = Store(home)
    done = []
    with store.lock(".home"):  # one migration, however many processes open the home
        _refuse_newer(home)
        while (version := layout_of(home)) < LAYOUT:
            what = _STEPS[version](store, home / "backups" / f"layout-{version}")
            _record(home, version + 1, what)
            done.append(f"{home}: layout {version} -> {version + 1}: {what}")
    return done


def _refuse_newer(home: Path) -> None:
    if home.is_dir() and (version := layout_of(home)) > LAYOUT:
        raise HomeLayoutError(
            f"{home} has layout {version}, made by a newer tickercast; this one reads layout "
            f"{LAYOUT} and leaves it untouched: upgrade tickercast"
        )


def _record(home: Path, version: int, what: str) -> None:
    path = home / LAYOUT_FILE
    history = json.loads(path.read_text()).get("migrations", []) if path.is_file() else []
    history.append({"to": version, "at": datetime.now(UTC).isoformat(), "what": what})
    text = json.dumps({"layout_version": version, "migrations": history}, indent=1) + "\n"
    atomic_write(path, lambda temporary: temporary.write_text(text))


def _split_manifest(store: Store, backup: Path) -> str:
    """Layout 1 -> 2: each ticker's records of `manifest/ingest.jsonl` into its own
    manifest, in order; the old file is kept under `backup`. Lines that are not JSON
    records are left in the backup only, and counted."""
    old = store.home / "manifest" / "ingest.jsonl"
    if not old.is_file():
        return "no manifest to split"
    records: dict[str, list[bytes]] = defaultdict(list)
    unreadable = 0
    for line in old.read_bytes().splitlines():
        try:
            records[json.loads(line)["ticker"]].append(line)
        except (ValueError, KeyError, TypeError):
            unreadable += bool(line.strip())
    for ticker, lines in records.items():
        text = b"".join(line + b"\n" for line in lines)
        atomic_write(
            store.manifest_file(ticker), lambda temporary, t=text: temporary.write_bytes(t)
        )
    kept = backup / "manifest" / "ingest.jsonl"
    kept.parent.mkdir(parents=True, exist_ok=True)
    os.replace(old, kept)
    skipped = (
        f"; {unreadable} lines that were not records are only in the backup" if unreadable else ""
    )
    count = sum(len(lines) for lines in records.values())
    split = f"split {count} manifest records into {len(records)} tickers' manifests"
    return f"{split} (the old one: {kept}){skipped}"


# The step from each layout to the next.
_STEPS: dict[int, Callable[[Store, Path], str]] = {1: _split_manifest}
