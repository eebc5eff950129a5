"""The examples and pages keep their promises on paper: how to run them, and where to find them.

Running them is `nox -s examples` (each against an embedded emulator, first line checked).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
INDEX = (ROOT / "docs" / "examples.md").read_text(encoding="utf-8")


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 8


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_docstring_says_what_it_shows_and_how_to_use_the_real_api(script: Path) -> None:
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert docstring, f"{script.name} has no module docstring"
    assert "MOONSHOT_API_KEY" in docstring, f"{script.name} does not say how to use the real API"
    assert "emulator" in docstring, f"{script.name} does not say what happens without a key"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_is_listed_in_the_docs(script: Path) -> None:
    assert f"`{script.name}`" in INDEX, f"docs/examples.md does not list {script.name}"


def test_every_docs_page_is_in_the_site_navigation() -> None:
    # mkdocs --strict only logs pages missing from the nav; a page nobody can reach has rotted.
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    missing = [page for page in pages if f" {page}\n" not in nav]
    assert not missing, f"pages not in mkdocs.yml nav: {missing}"
