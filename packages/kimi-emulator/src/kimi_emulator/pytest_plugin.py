"""pytest plugin (``pytest11``): fixtures ``kimi_emulator_server`` and ``kimi_emulator``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kimi_emulator.server import KimiEmulator

__all__ = ["kimi_emulator", "kimi_emulator_server"]


@pytest.fixture(scope="session")
def kimi_emulator_server() -> Iterator[KimiEmulator]:
    """One emulator for the whole test session (127.0.0.1, ephemeral port)."""
    with KimiEmulator() as emulator:
        yield emulator


@pytest.fixture
def kimi_emulator(kimi_emulator_server: KimiEmulator) -> KimiEmulator:
    """The session emulator, reset (script, faults, log, files, cache) before each test."""
    kimi_emulator_server.reset()
    return kimi_emulator_server
