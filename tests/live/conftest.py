"""Live tests talk to the real Moonshot API: only with ``--live`` (``nox -s live``) and a key.

The network guard of ``tests/conftest.py`` cleared the developer's credentials at start-up; this
fixture hands them back to the live tests alone.
"""

from __future__ import annotations

import network_guard
import pytest


@pytest.fixture(autouse=True)
def _live_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in network_guard.stashed_credentials().items():
        monkeypatch.setenv(name, value)
