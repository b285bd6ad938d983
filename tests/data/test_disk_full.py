"""Issue 14: a disk that fills up during a run, on a real small filesystem (a tmpfs
mounted for the test): every file keeps its previous version, the error names the
path and says "No space left on device", and the next run, with space back, succeeds."""

import errno
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tickercast.cli.main import main
from tickercast.data.storage import Store

pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs, mounted for the test."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()}): needs root")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(folder: Path) -> Path:
    """Write a file until the filesystem is full; returns it."""
    filler = folder / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def _files(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def test_a_full_disk_keeps_every_file_and_the_next_run_succeeds(small_disk, monkeypatch, capsys):
    home = small_disk / "home"
    monkeypatch.setenv("TICKERCAST_HOME", str(home))
    ingest = ["ingest", "--tickers", "IBM", "--source", "sample"]
    assert main([*ingest, "--as-of", "2013-01-31"]) == 0
    store = Store(home)
    before = _files(home)
    filler = _fill(small_disk)

    assert main(ingest) == 1  # 20 new sessions to write, on a full disk
    out = capsys.readouterr().out
    path = store.prices_file("IBM")
    assert (
        f"IBM      FAILED in ingest_prices: OSError: [Errno 28] No space left on device: '{path}'"
        in out
    )
    after = {name: data for name, data in _files(home).items() if not name.startswith("locks/")}
    assert after == {name: data for name, data in before.items() if not name.startswith("locks/")}
    assert store.read_prices("IBM")["session"].iloc[-1].date() == date(2013, 1, 31)

    filler.unlink()  # space is back
    assert main(ingest) == 0
    assert store.read_prices("IBM")["session"].iloc[-1].date() == date(2013, 3, 1)
    assert [r["last_session"] for r in store.read_manifest("IBM")] == ["2013-01-31", "2013-03-01"]
