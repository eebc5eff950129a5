"""Every Python block of the READMEs and docs/ runs against the emulator and prints what it shows.

The pages read credentials from the environment like a user's app, so the test points
``MOONSHOT_API_KEY`` / ``MOONSHOT_BASE_URL`` at the (reset) session emulator: no block knows it is
being tested.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_snippets import SnippetError, parse_blocks, run_page
from kimi_emulator import KimiEmulator

ROOT = Path(__file__).resolve().parents[2]
# The package READMEs are documentation too (they are what PyPI shows). kimi-emulator's is left out:
# its first block shows `async with` at module level, an illustration rather than a script.
_PACKAGE_READMES = [
    ROOT / "packages" / name / "README.md"
    for name in ("kimi-core", "langchain-kimi", "llama-index-llms-kimi")
]
PAGES = sorted([ROOT / "README.md", *_PACKAGE_READMES, *(ROOT / "docs").rglob("*.md")])
# Pages with no Python to run: measured tables (performance, reliability) and the examples index
# (the scripts themselves run in `nox -s examples`).
_NO_PYTHON = {"performance.md", "reliability.md", "examples.md"}


@pytest.fixture
def emulator_env(kimi_emulator: KimiEmulator, monkeypatch: pytest.MonkeyPatch) -> KimiEmulator:
    monkeypatch.setenv("MOONSHOT_API_KEY", kimi_emulator.api_key)
    monkeypatch.setenv("MOONSHOT_BASE_URL", kimi_emulator.base_url)
    for name in ("KIMI_API_KEY", "KIMI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # Pages open repository files by relative path (examples/assets/...), as a reader would.
    monkeypatch.chdir(ROOT)
    return kimi_emulator


# LlamaIndex workflows find their steps with inspect.getmembers() on the pydantic agent, which
# reads deprecated pydantic attributes; only warnings raised from ``inspect`` are ignored (as in
# tests/llama_index_llms_kimi/test_li_e2e.py).
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_blocks_run_and_print_what_they_show(
    page: Path, emulator_env: KimiEmulator, tmp_path: Path
) -> None:
    ran = run_page(page, tmp_path)
    if page.name not in _NO_PYTHON and page.parent.name != "reference":
        assert ran > 0, f"{page} shows no runnable Python block"
    if ran:
        assert emulator_env.requests or _offline_only(page), (
            f"{page}: its blocks never reached the emulator"
        )


def _offline_only(page: Path) -> bool:
    # The testing guide starts its own emulators; its blocks talk to those, not the session one.
    return page.name == "testing.md"


def test_a_wrong_shown_output_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text('```python\nprint("hello")\n```\n\n```text title="Output"\nhallo\n```\n')
    with pytest.raises(SnippetError, match="differs"):
        run_page(page, tmp_path)


def test_a_raising_block_fails_and_says_where(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("Intro.\n\n```python\nx = 1\n```\n\n```python\nraise ValueError(x)\n```\n")
    with pytest.raises(SnippetError, match=r"page\.md:7: the block raised ValueError: 1"):
        run_page(page, tmp_path)


def test_blocks_share_a_namespace_and_tabs_are_dedented(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        '```python\nx = 20\n```\n\n=== "Tab"\n\n    ```python\n    print(x + 1)\n    ```\n\n'
        '    ```text title="Output"\n    21\n    ```\n'
    )
    assert run_page(page, tmp_path) == 2


def test_directives_and_output_blocks_attach_to_the_right_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- docs-test: skip -->\n```python\nraise SystemExit\n```\n\n"
        '```python\nprint(1)\n```\n\nSome prose.\n\n```text title="Output"\n2\n```\n'
    )
    skipped, printing, loose = parse_blocks(page)
    assert skipped.directives == {"skip"}
    # Output shown after prose belongs to no block: it is not checked against print(1).
    assert printing.expected is None
    assert loose.lang == "text"
    assert run_page(page, tmp_path) == 1
