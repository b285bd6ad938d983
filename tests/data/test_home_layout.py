"""Issue 14: a versioned home. A home made before layouts were recorded (committed as
a fixture, made by tickercast 0fc4042) is migrated in place with a backup and keeps
working; a home of a newer layout is refused and left untouched."""

import json
import shutil
from pathlib import Path

import pytest

from tickercast.cli.main import main
from tickercast.data import home_layout
from tickercast.data.home_layout import LAYOUT, HomeLayoutError, open_home
from tickercast.data.ingest import ingest_prices
from tickercast.data.sources import SampleSource
from tickercast.data.storage import Store
from tickercast.errors import SourceConflictError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "home-layout-1"


@pytest.fixture
def old_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(FIXTURE, home, ignore=shutil.ignore_patterns("README.md"))
    monkeypatch.setenv("TICKERCAST_HOME", str(home))
    return home


def _files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def test_a_home_made_before_layouts_is_migrated_with_a_backup_and_keeps_working(old_home, capsys):
    original = (old_home / "manifest" / "ingest.jsonl").read_bytes()
    assert main(["status", "--tickers", "IBM"]) == 0
    captured = capsys.readouterr()
    assert f"{old_home}: layout 1 -> 2: split 3 manifest records into 2 tickers'" in captured.err
    assert "IBM\n  data:     434 sessions to 2013-02-21" in captured.out  # read and verified
    assert json.loads((old_home / "layout.json").read_text())["layout_version"] == LAYOUT
    assert (
        old_home / "backups" / "layout-1" / "manifest" / "ingest.jsonl"
    ).read_bytes() == original
    assert not (old_home / "manifest" / "ingest.jsonl").exists()
    store = Store(old_home)
    assert [len(store.read_manifest(t)) for t in ("IBM", "MSFT")] == [2, 1]
    assert main(["verify"]) == 0
    # the migrated manifest still says where MSFT's prices came from (a folder of the
    # machine that made the fixture): the sample is refused, unless it replaces them
    with pytest.raises(SourceConflictError, match="MSFT: its stored prices came from /tmp/fx"):
        ingest_prices("MSFT", SampleSource(), store, None, "XNYS")
    # the next ingest appends to the ticker's own manifest
    result, _ = ingest_prices("MSFT", SampleSource(), store, None, "XNYS", replace_source=True)
    assert (result.last_session, result.revision) == ("2013-03-01", True)
    assert [r["last_session"] for r in store.read_manifest("MSFT")] == ["2013-02-20", "2013-03-01"]
    assert open_home(old_home) == []  # once is enough


def test_a_newer_home_is_refused_and_left_untouched(old_home, capsys):
    (old_home / "layout.json").write_text(json.dumps({"layout_version": LAYOUT + 1}))
    before = _files(old_home)
    for command in (["status"], ["verify", "--repair"], ["ingest", "--tickers", "IBM"]):
        assert main(command) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"error: {old_home} has layout {LAYOUT + 1}, made by a newer")
        assert error.rstrip().endswith("upgrade tickercast") and error.count("\n") == 1
    assert _files(old_home) == before


def test_a_migration_cut_short_is_done_again(old_home, monkeypatch):
    write = home_layout.atomic_write
    calls = []

    def killed_after_one_ticker(*arguments):
        calls.append(arguments)
        if len(calls) == 2:  # one ticker's manifest written, the next one not
            raise KeyboardInterrupt
        return write(*arguments)

    monkeypatch.setattr(home_layout, "atomic_write", killed_after_one_ticker)
    with pytest.raises(KeyboardInterrupt):
        open_home(old_home)
    assert (
        home_layout.layout_of(old_home) == 1 and (old_home / "manifest" / "ingest.jsonl").exists()
    )
    (done,) = open_home(old_home)
    assert "split 3 manifest records into 2 tickers' manifests" in done
    store = Store(old_home)
    assert [len(store.read_manifest(t)) for t in ("IBM", "MSFT")] == [2, 1]
    assert home_layout.layout_of(old_home) == LAYOUT
    (old_home / "layout.json").write_text("{")
    with pytest.raises(HomeLayoutError, match="cannot be read"):
        home_layout.layout_of(old_home)
