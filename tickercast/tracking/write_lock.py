"""One MLflow call at a time on a local SQLite store, across processes (Dask workers)
and threads.

SQLite fails a writer with "database is locked" when another holds the database past
the busy timeout, or at once when a transaction that read must upgrade to a write while
another writes: serialised calls meet neither. A tracking server serialises its own
writes, so the lock is a no-op there.
"""

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mlflow


class WriteLock:
    """A lock file held with `flock` for a block; reentrant within a thread."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path = path
        self.enabled = enabled
        self._thread = threading.RLock()
        self._depth = 0
        self._handle = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for a block."""
        if not self.enabled:
            yield
            return
        with self._thread:
            if self._depth == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a")
                fcntl.flock(self._handle, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._handle, fcntl.LOCK_UN)
                    self._handle.close()


class SerializedClient:
    """An MlflowClient whose every call holds a `WriteLock`."""

    def __init__(self, client: "mlflow.MlflowClient", lock: WriteLock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def locked(*args, **kwargs):
            with self._lock.held():
                return attribute(*args, **kwargs)

        return locked
