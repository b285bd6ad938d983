"""What a command prints besides its own output: by default only what concerns the user.

`configure` is the one place that quiets the libraries, and the CLI calls it first, before
TensorFlow, Prefect or MLflow are imported: most of their settings are read from the
environment when they load. Importing this module changes nothing.

At default verbosity a command prints its progress (on a terminal), its summary, and the
warnings and errors of its flow and task runs (Prefect's WARNING and above: a warning
about the data, a crash). A ticker's failure is printed once, in the summary, with its
stage and cause: Prefect's own reports of the failed task and flow runs, and the flow's
line per failed ticker, are left to the UI (`console_handler`). Hidden too are
TensorFlow's C++ log lines, the INFO lines of Prefect and MLflow, and Python warnings
raised in third-party modules. `--verbose`, or a
user's own TF_CPP_MIN_LOG_LEVEL, PREFECT_LOGGING_LEVEL, MLFLOW_LOGGING_LEVEL or -W /
PYTHONWARNINGS, leaves the respective library as it would be without this module.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

# What TensorFlow's C++ libraries print while they load, before absl logging is
# initialised: absl sends these to stderr whatever TF_CPP_MIN_LOG_LEVEL says ("oneDNN
# custom operations are on", "Could not find cuda drivers"). Only INFO and WARNING lines.
_NATIVE_LOAD_CHATTER = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$"
    r"|[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.-]+:\d+\] "
)


# Prefect's console handler without the tracebacks of bad input (see `configure`).
CONSOLE_HANDLER = "tickercast.cli.console_handler.ConsoleHandler"

# How the command set its console up, for the Dask workers it starts: `verbose`, `quiet`,
# or `quiet+tensorflow` (TensorFlow's load-time lines held back too).
CONSOLE = "TICKERCAST_CONSOLE"
# Set on a log record whose news the command's summary prints itself (a flow's line per
# failed ticker): the console handler leaves it to the summary, the UI still gets it.
SUMMARIZED = "tickercast_summarized"


def configure(verbose: bool = False) -> None:
    """Set up this process's console for a command; call it before anything imports
    TensorFlow, Prefect or MLflow (their settings below are read when they load).

    Explicit settings win: every variable is only set when the user has not set it.

    Args:
        verbose: leave every library's logging and warnings as they are by default.
    """
    # The temporary Prefect server (started when no PREFECT_API_URL is set) would send
    # usage telemetry: offline it logs "Failed to send telemetry", and the service's
    # writes to the server's SQLite database have failed with "database is locked".
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # read by `dask_setup` in the Dask workers this process starts (they inherit it)
    os.environ[CONSOLE] = "verbose" if verbose else "quiet"
    if verbose:
        return
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        # 3: no INFO, WARNING or ERROR lines from TensorFlow's C++ runtime ("failed call
        # to cuInit" without a GPU, "NodeDef mentions attribute use_unbounded_threadpool"
        # from tf.data in fit); its failures still raise Python exceptions.
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        os.environ[CONSOLE] = "quiet+tensorflow"
        _hold_back_tensorflow_load_chatter()
    if "PREFECT_LOGGING_LEVEL" not in os.environ:
        # The console handler only: the loggers keep INFO, so the runs' logs still reach
        # the Prefect API (the UI) and any handler the CLI adds (its progress bars).
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # A ticker failed by bad input prints its one-line error, not Prefect's traceback
    # (`console_handler`). Prefect builds its handlers from its logging config, whose
    # every key an environment variable overrides: so this reaches the handlers of
    # every process that inherits the environment (Dask workers, a worker's flow runs).
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_CLASS", CONSOLE_HANDLER)
    # "Creating initial MLflow database tables...", "Validating input example ...".
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    # Matplotlib's own logger: "Matplotlib is building the font cache" on a new machine,
    # "findfont: Font family ... not found" when its cache names fonts moved since.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    # TensorFlow's Python logger: "calls to <function forward> triggered tf.function
    # retracing" when a run makes many networks (a backfill: one a session), each
    # traced once by design (`tickercast.models.network._forward`).
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    # A local Dask cluster's nannies, as it closes on a busy machine: "Worker process
    # still alive after 4.0 seconds, killing" (its tickers have all returned by then).
    logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
    if not sys.warnoptions:
        # Warnings raised in third-party modules say nothing about the user's data; a
        # warning attributed to tickercast's own code still shows (and fails its tests).
        warnings.filterwarnings("ignore", module=r"(?!tickercast(\.|$))")


def run_server(argv: list[str], environment: dict[str, str]) -> int:
    """Run a server command (`mlflow models serve`) until it ends or Ctrl-C stops it, its
    stderr passed on without TensorFlow's native load chatter, which its model's process
    prints where no import hook of ours runs.

    Returns:
        The server's exit code (0 when Ctrl-C stopped it).
    """
    import subprocess
    import threading

    server = subprocess.Popen(argv, env=environment, stderr=subprocess.PIPE, text=True)

    def relay() -> None:
        for line in server.stderr:
            if not _NATIVE_LOAD_CHATTER.match(line):
                sys.stderr.write(line)
                sys.stderr.flush()

    relaying = threading.Thread(target=relay, daemon=True)
    relaying.start()
    try:
        code = server.wait()
    except KeyboardInterrupt:  # the terminal sent it to the server too: let it stop
        server.wait()
        code = 0
    relaying.join(timeout=5)
    return code


def dask_setup(worker) -> None:
    """Dask's preload hook: a local cluster's worker quiets its libraries as the command
    that started it did (its tickers' stages import TensorFlow there, not here)."""
    console = os.environ.get(CONSOLE, "")
    if console == "quiet+tensorflow" and "tensorflow" not in sys.modules:
        _hold_back_tensorflow_load_chatter()  # TF_CPP_MIN_LOG_LEVEL came with the environment
    if console.startswith("quiet"):
        configure(verbose=False)


def _hold_back_tensorflow_load_chatter() -> None:
    """Have the first `import tensorflow` drop its native load chatter from stderr."""
    if "tensorflow" in sys.modules or any(
        isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path
    ):
        return
    sys.meta_path.insert(0, _QuietTensorFlowImport())


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once, with a loader that runs it under `_native_stderr_filtered`;
    the module itself gets its ordinary loader back before it runs."""

    def find_spec(
        self, fullname: str, path: object, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader)
        return spec


class _FilteredLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = module.__spec__.loader = self.loader
        with _native_stderr_filtered():
            self.loader.exec_module(module)


@contextmanager
def _native_stderr_filtered() -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then copy to stderr
    every line that is not `_NATIVE_LOAD_CHATTER` (a traceback, a Python warning)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to filter
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _NATIVE_LOAD_CHATTER.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
