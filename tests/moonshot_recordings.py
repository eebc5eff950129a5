"""Where the vendored live recordings of the Moonshot API live (one place for every test directory).

The recordings are part of the repository (``tests/fixtures/moonshot-recorded``, Apache-2.0, see
its ``INDEX.md`` and ``NOTICE``), so a fresh clone tests itself. Standard library only: isolated
sessions install one package, so nothing here may import a package of this repository.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["RECORDINGS", "recording_files"]

RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "moonshot-recorded"

# The folder's own documentation and licence files, written for this repository: not recordings.
_NOT_RECORDINGS = frozenset({"INDEX.md", "LICENSE", "NOTICE"})


def recording_files() -> list[str]:
    """Every recording, as a path relative to :data:`RECORDINGS` (``alt-versions/...`` included)."""
    return sorted(
        str(p.relative_to(RECORDINGS))
        for p in RECORDINGS.rglob("*")
        if p.is_file() and p.name not in _NOT_RECORDINGS
    )
