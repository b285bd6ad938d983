"""What `pip install .` puts in site-packages, and that every third-party import is declared."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The folders installed into the wheel, and pyproject.toml's setuptools table maps them.
SOURCES = ["tickercast", "flows", "tasks", "cli"]
# Folders whose imports count, and the requirement groups that must declare them.
RUNTIME = ["tickercast", "flows", "tasks", "cli", "deployments"]
GROUPS = {"tests": ["dev"], "benchmarks": ["bench"], **{folder: [] for folder in RUNTIME}}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(extras: list[str]) -> set[str]:
    """The distributions named by [project].dependencies and the given extras."""
    project = PYPROJECT["project"]
    requirements = project["dependencies"] + [
        requirement for extra in extras for requirement in project["optional-dependencies"][extra]
    ]
    return {canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Top-level names of the absolute imports in a folder's Python files, with the files."""
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                # a sibling module run as a script's neighbour (benchmarks/results_file.py)
                if (path.parent / f"{top}.py").is_file():
                    continue
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_wheel_installs_only_the_tickercast_package(tmp_path):
    """flows/, tasks/ and cli/ install as tickercast.flows, .tasks and .cli: no top-level
    `flows`, `tasks` or `cli` in site-packages to clash with other projects."""
    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the checkout
    for name in SOURCES:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--quiet", "--wheel-dir", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("tickercast-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    assert {name.split("/")[0] for name in names} == {
        "tickercast",
        wheel.name.split("-py3")[0] + ".dist-info",
    }
    for package in ("tickercast", "tickercast/flows", "tickercast/tasks", "tickercast/cli"):
        assert f"{package}/__init__.py" in names
    assert "tickercast/flows/daily_forecast.py" in names
    assert "tickercast = tickercast.cli.main:main" in entry_points


def test_no_code_imports_the_folders_by_their_top_level_names():
    """`import flows` works only from the checkout; installed, it is tickercast.flows."""
    for folder in GROUPS:
        found = imported_modules(ROOT / folder)
        assert not {"flows", "tasks", "cli"} & set(found), (folder, found)


def test_every_third_party_import_is_declared():
    """Runtime code needs [project].dependencies; tests may add the dev extra, benchmarks
    the bench extra. An installed module maps to its distributions (mlflow to mlflow,
    mlflow-skinny...): one of them declared is enough."""
    distributions = packages_distributions()
    local = {"tickercast", "tests"}
    undeclared = {}
    for folder, extras in GROUPS.items():
        allowed = declared(extras)
        for module, files in imported_modules(ROOT / folder).items():
            if module in sys.stdlib_module_names or module in local:
                continue
            providers = {canonical(d) for d in distributions.get(module, [])}
            if not providers & allowed:
                undeclared[f"{folder}: {module} ({', '.join(sorted(providers)) or '?'})"] = sorted(
                    files
                )
    assert not undeclared, undeclared


def test_psutil_is_for_the_benchmarks_only():
    assert "psutil" not in declared([]) | declared(["dev"])
    assert "psutil" in declared(["bench"])
