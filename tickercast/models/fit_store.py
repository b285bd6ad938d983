"""Volatility fits kept across evenings: each window's parameters are fitted once.

The GARCH-type models and the log-HAR refit every 21 sessions on the last 1,000, and a
daily run asks for the spread at a year of calibration and holdout origins: every
evening needs the same twenty-odd windows as the evening before, and one new one
every 21 sessions. In a process, fits are cached on the window's bytes
(`functools.lru_cache` on the fit functions); across processes and evenings, once a
folder is set (`kept_in`), each fit is also one small JSON file named by a digest
of the model and its window, so an evening filters rather than fits. A dividend
re-adjusts the whole history, and so changes every window: the next evening refits.
The folder is a context variable, set for the duration of a stage (`kept_in`): it
follows a stage into its thread and never outlives it, so two homes in one process
(tests, a server running flows for several) never read each other's fits.

The files hold plain numbers, never pickles, so a change of these classes cannot make
them unreadable; a file that does not parse is refitted and replaced.
"""

import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

Fit = TypeVar("Fit")
_folder: ContextVar[Path | None] = ContextVar("fit_folder", default=None)


@contextmanager
def kept_in(folder: Path | None) -> Iterator[None]:
    """Within the block, keep fits as files in `folder` (None: in memory only).

    Args:
        folder: the home's fit folder (`Store.fits_folder`), created when first written.
    """
    token = _folder.set(folder)
    try:
        yield
    finally:
        _folder.reset(token)


def persisted(
    kind: str, as_data: Callable[[Fit], dict], from_data: Callable[[dict], Fit]
) -> Callable[[Callable[..., Fit]], Callable[..., Fit]]:
    """Make a fit function read and write its results in the fit folder, when set.

    Args:
        kind: the model's name in the file names; a change of what a fit means must
            change it, so that older files are not read as newer fits.
        as_data: a fit as JSON-ready data.
        from_data: the fit back from that data.

    Returns:
        A decorator for a function of hashable arguments (bools, ints, bytes).
    """

    def decorate(fit: Callable[..., Fit]) -> Callable[..., Fit]:
        @functools.wraps(fit)
        def remembered(*arguments) -> Fit:
            folder = _folder.get()
            if folder is None:
                return fit(*arguments)
            digest = hashlib.sha256(kind.encode())
            for argument in arguments:
                digest.update(argument if isinstance(argument, bytes) else repr(argument).encode())
            path = folder / kind / f"{digest.hexdigest()}.json"
            if path.is_file():
                try:
                    return from_data(json.loads(path.read_text()))
                except (ValueError, KeyError, TypeError) as error:
                    logger.warning("refitting %s: %s did not parse (%s)", kind, path, error)
            result = fit(*arguments)
            _write(path, as_data(result))
            return result

        return remembered

    return decorate


def _write(path: Path, data: dict) -> None:
    """Write atomically (a reader sees no file or all of it); a full disk costs a refit
    next time, not the run."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".json")
        with os.fdopen(descriptor, "w") as handle:
            json.dump(data, handle)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from a team's other users
        os.replace(temporary, path)
    except OSError as error:
        logger.warning("could not keep a fit in %s: %s", path.parent, error)
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
