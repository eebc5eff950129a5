"""Collect the Python code blocks of the Markdown docs and run them like a reader would.

A page is a notebook: its ``python`` blocks run top to bottom in one namespace, with stdout
captured per block. A block followed by a ``text title="Output"`` block must print that output
(doctest rules: ``...`` matches anything, runs of whitespace compare equal). Directives, in an
HTML comment on the line(s) just above a block (invisible on the site):

- ``<!-- docs-test: skip -->``: not executed (say why in the prose; used for real-API-only code).
- ``<!-- docs-test: pytest -->``: the block is a test module; it is run by pytest in a subprocess
  and must pass.

Blocks inside Material content tabs (``=== "LangChain"``) are indented; the indent is removed.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import subprocess
import sys
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Block", "SnippetError", "parse_blocks", "run_page"]

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(?P<what>[\w-]+)\s*-->")
_OUTPUT_INFO = re.compile(r'^text\b.*\btitle="Output"')
_CHECKER = doctest.OutputChecker()
_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


class SnippetError(AssertionError):
    """A docs block failed, or printed something other than its shown output."""


@dataclass
class Block:
    """One fenced block: where it is, its language, its code, directives and expected output."""

    path: Path
    line: int
    lang: str
    info: str
    code: str
    directives: set[str] = field(default_factory=set)
    closing: int = 0  # 1-based line of the closing fence
    expected: str | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def parse_blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, output blocks attached to the block they follow."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    pending: set[str] = set()
    index = 0
    while index < len(lines):
        line = lines[index]
        if match := _DIRECTIVE.search(line):
            pending.add(match["what"])
            index += 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip():
                pending = set()
            index += 1
            continue
        indent, marker, info = fence["indent"], fence["fence"], fence["info"].strip()
        opening = index + 1  # 1-based line of the opening fence
        body: list[str] = []
        index += 1
        while index < len(lines) and not (
            lines[index].strip().startswith(marker) and lines[index].strip() == marker
        ):
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        code = textwrap.dedent("\n".join(body)) if not indent else _strip(body, indent)
        lang = info.split(maxsplit=1)[0].lower() if info else ""
        block = Block(path, opening, lang, info, code, pending, closing=index)
        pending = set()
        previous = blocks[-1] if blocks else None
        if (
            _OUTPUT_INFO.match(info)
            and previous is not None
            and previous.lang == "python"
            and previous.expected is None
            and _only_blank_between(lines, previous, block)
        ):
            previous.expected = code
            continue
        blocks.append(block)
    return blocks


def _strip(body: list[str], indent: str) -> str:
    return "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in body)


def _only_blank_between(lines: list[str], previous: Block, block: Block) -> bool:
    between = lines[previous.closing : block.line - 1]
    return all(not text.strip() for text in between)


def run_page(path: Path, tmp_dir: Path) -> int:
    """Run a page's Python blocks in order; returns how many ran. Raises SnippetError."""
    module = types.ModuleType("docs_page_" + re.sub(r"\W", "_", path.stem))
    # Pydantic, dataclasses and LlamaIndex look classes' modules up in sys.modules.
    sys.modules[module.__name__] = module
    ran = 0
    try:
        for block in parse_blocks(path):
            if block.lang != "python" or "skip" in block.directives:
                continue
            if "pytest" in block.directives:
                _run_pytest(block, tmp_dir)
            else:
                _run_block(block, module)
            ran += 1
    finally:
        del sys.modules[module.__name__]
    return ran


def _run_block(block: Block, module: types.ModuleType) -> None:
    out = io.StringIO()
    try:
        compiled = compile(block.code, block.where, "exec")
        with contextlib.redirect_stdout(out):
            exec(compiled, module.__dict__)
    except Exception as error:
        raise SnippetError(
            f"{block.where}: the block raised {type(error).__name__}: {error}\n"
            f"--- output so far ---\n{out.getvalue()}"
        ) from error
    if block.expected is not None:
        got = out.getvalue()
        if not _CHECKER.check_output(block.expected.rstrip() + "\n", got, _FLAGS):
            raise SnippetError(
                f"{block.where}: the output differs from the page.\n"
                f"--- shown ---\n{block.expected}\n--- printed ---\n{got}"
            )


def _run_pytest(block: Block, tmp_dir: Path) -> None:
    test_file = tmp_dir / f"test_docs_block_{block.line}.py"
    test_file.write_text(block.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=tmp_dir,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    if result.returncode != 0 or " passed" not in result.stdout:
        raise SnippetError(
            f"{block.where}: the pytest block failed.\n{result.stdout}\n{result.stderr}"
        )
