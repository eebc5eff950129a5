"""Fixtures shared by every test directory. Standard library only: isolated sessions install one
package, so nothing here may import a package of this repository."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from replay_http import ReplayServer, running_replay_server


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A loopback HTTP server answering every request with the next canned response, verbatim."""
    with running_replay_server() as server:
        yield server
