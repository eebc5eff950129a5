"""pytest plugin loaded into Moonshot's vendor verifier by ``verifier.py`` (``-p``).

It adds nothing to the suite's tests: it marks the known exceptions of ``known_exceptions.toml``
as strict xfails and writes the outcome counts of the run to a JSON file for the summary.
"""

from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

_RUN = os.environ.get("KIMI_CONFORMANCE_RUN", "")
_EXCEPTIONS = Path(os.environ.get("KIMI_CONFORMANCE_EXCEPTIONS", "known_exceptions.toml"))
_COUNTS = os.environ.get("KIMI_CONFORMANCE_COUNTS")
_OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "rerun", "deselected")


def _exceptions() -> list[tuple[str, str]]:
    """(node-id pattern, reason) of this run."""
    data = tomllib.loads(_EXCEPTIONS.read_text(encoding="utf-8"))
    return [
        (pattern, " ".join(entry["reason"].split()))
        for entry in data.get("exception", [])
        if _RUN in entry["runs"]
        for pattern in entry["tests"]
    ]


_unmatched: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    exceptions = _exceptions()
    used: set[str] = set()
    for item in items:
        for pattern, reason in exceptions:
            if fnmatch.fnmatchcase(item.nodeid, pattern):
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
                used.add(pattern)
                break
    _unmatched.extend(pattern for pattern, _ in exceptions if pattern not in used)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts = {name: len(terminalreporter.stats.get(name, [])) for name in _OUTCOMES}
    # A rerun test is reported once per attempt; count only its final outcome above.
    counts["unmatched_exceptions"] = len(_unmatched)
    for pattern in _unmatched:
        terminalreporter.write_line(f"known exception matched no test: {pattern}", red=True)
    if _COUNTS:
        Path(_COUNTS).write_text(json.dumps({"run": _RUN, **counts}), encoding="utf-8")
