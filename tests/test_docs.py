"""Docs: the site builds strictly, every page is in its nav, the README is short and links right."""

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
# [text](target) links; the target ends at the first space or closing parenthesis
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def _nav_pages(nav: list) -> set[str]:
    """Every page a MkDocs nav names, at any depth."""
    pages = set()
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            pages |= _nav_pages(value)
        else:
            pages.add(value)
    return pages


def _outside_code(markdown: str) -> str:
    """The text of a Markdown file without its code blocks and code spans."""
    lines = [line for line in markdown.splitlines() if not line.startswith("    ")]
    return re.sub(r"`[^`\n]*`", "", "\n".join(lines))


def test_the_site_builds_strictly_without_a_warning(tmp_path):
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output
    warnings = [line for line in output.splitlines() if "WARNING" in line]
    assert not warnings, "\n".join(warnings)
    assert (site / "index.html").is_file()


def test_every_page_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = {path.name for path in DOCS.glob("*.md")}
    missing = pages - _nav_pages(config["nav"])
    assert not missing, f"docs pages missing from mkdocs.yml's nav: {sorted(missing)}"


def test_the_readme_is_a_front_page_of_150_to_200_lines():
    lines = README.read_text().splitlines()
    assert 150 <= len(lines) <= 200, f"README.md has {len(lines)} lines"


def test_every_relative_link_of_the_readme_points_to_a_file():
    targets = LINK.findall(_outside_code(README.read_text()))
    relative = [t for t in targets if not re.match(r"[a-z]+:|#", t)]
    assert relative, "README.md links to no file: the pattern no longer finds links"
    broken = [t for t in relative if not (ROOT / t.split("#")[0]).exists()]
    assert not broken, f"README.md links to files that do not exist: {broken}"
