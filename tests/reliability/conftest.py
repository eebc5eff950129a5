"""Fixtures of the cross-package reliability tests (``nox -s tests``: every package installed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import kimi_core.client
import pytest
from kimi_emulator import KimiEmulator
from rel_helpers import fast_backoff_policy


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients built from now on back off in milliseconds instead of half-seconds.

    Only the policy's time scale changes; which errors are retried, how often and whether
    ``Retry-After`` wins are still kimi-core's own decisions.
    """
    monkeypatch.setattr(kimi_core.client, "RetryPolicy", fast_backoff_policy())


@pytest.fixture
def retry_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture kimi-core's retry decisions (``retrying in <s>s ...`` at INFO)."""
    caplog.set_level(logging.INFO, logger="kimi_core")
    return caplog


@pytest.fixture
def private_emulator() -> Iterator[KimiEmulator]:
    """An emulator of this test alone.

    For slow faults: a handler still sleeping on a fault after the client gave up would otherwise
    wake up during the next test and take that test's scripted reply.
    """
    with KimiEmulator() as emulator:
        yield emulator
