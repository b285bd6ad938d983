"""What a refactor must not change: the AAPL/MSFT backtest and a `make run` forecast.

Runs, through the command line only (so the script outlives any move of the code),
in fresh homes and with the default seed:

1. `tickercast backtest` of AAPL and MSFT (`../shared/data/yahoo`, 2010 to 2022,
   5 folds, 10 epochs): every model, horizon, fold and metric of the report;
2. `tickercast run --source sample --tickers AAPL,MSFT` (what `make run` runs): each
   published forecast file.

Times, run ids and paths are dropped; everything else is kept and written to
`benchmarks/results/behaviour_fingerprint_<label>.json`. `--compare A B` says whether
two labels are identical and, where not, the first differences.

    .venv/bin/python benchmarks/behaviour_fingerprint.py --label before
    .venv/bin/python benchmarks/behaviour_fingerprint.py --label after
    .venv/bin/python benchmarks/behaviour_fingerprint.py --compare before after
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import RESULTS, write_result

TICKERCAST = Path(sys.executable).with_name("tickercast")
YAHOO = Path(__file__).resolve().parents[2] / "shared" / "data" / "yahoo"
# what changes between two honest runs of the same code: clocks, ids and where they ran
VOLATILE = {
    "seconds",
    "fit_seconds",
    "run_id",
    "mlflow_run_id",
    "created",
    "created_at",
    "path",
    "published_at",
    "experiment_id",
    "flow_run_id",
    "model_uri",
    "model_version",
    "artifact_uri",
    "written_at",
    "home",
}


def _stable(value):
    if isinstance(value, dict):
        return {
            k: _stable(v)
            for k, v in value.items()
            if k not in VOLATILE and not k.endswith("_seconds")
        }
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _command(arguments: list[str], home: Path) -> float:
    environment = {
        **os.environ,
        "TICKERCAST_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [str(TICKERCAST), *arguments], env=environment, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def fingerprint() -> dict:
    """Run both commands in fresh homes and return what they produced, times dropped."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "backtest"
        seconds = _command(
            [
                "backtest",
                "--source",
                str(YAHOO),
                "--tickers",
                "AAPL,MSFT",
                "--start",
                "2010-01-01",
                "--end",
                "2022-12-30",
                "--folds",
                "5",
                "--epochs",
                "10",
            ],
            home,
        )
        report = json.loads((home / "reports" / "backtest" / "latest.json").read_text())
        print(f"backtest: {seconds:.0f} s", flush=True)
        home = Path(folder) / "run"
        seconds = _command(["run", "--source", "sample", "--tickers", "AAPL,MSFT"], home)
        forecasts = {
            str(path.relative_to(home)): json.loads(path.read_text())
            for path in sorted((home / "forecasts").rglob("*.json"))
        }
        print(f"run: {seconds:.0f} s, {len(forecasts)} forecast files", flush=True)
    return {"backtest": _stable(report), "forecasts": _stable(forecasts)}


def _differences(a, b, where="", found=None):
    found = [] if found is None else found
    if len(found) >= 10:
        return found
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _differences(a.get(key), b.get(key), f"{where}/{key}", found)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _differences(x, y, f"{where}[{index}]", found)
    elif a != b:
        found.append(f"{where}: {a!r} != {b!r}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"))
    arguments = parser.parse_args()
    if arguments.compare:
        a, b = (
            json.loads((RESULTS / f"behaviour_fingerprint_{label}.json").read_text())
            for label in arguments.compare
        )
        differences = _differences(a, b)
        print("identical" if not differences else "\n".join(["different:", *differences]))
        raise SystemExit(1 if differences else 0)
    if not YAHOO.is_dir():
        raise SystemExit(f"needs {YAHOO} (../shared/data beside the project)")
    out = write_result(f"behaviour_fingerprint_{arguments.label}", fingerprint())
    print(f"written to {out}")


if __name__ == "__main__":
    main()
