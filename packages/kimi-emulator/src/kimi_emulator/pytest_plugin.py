"""pytest plugin (``pytest11``): emulator fixtures.

``kimi_emulator_server``, ``kimi_emulator`` and ``kimi_emulator_dialect``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kimi_emulator.config import EmulatorConfig
from kimi_emulator.server import KimiEmulator

__all__ = ["kimi_emulator", "kimi_emulator_dialect", "kimi_emulator_server"]


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


@pytest.fixture(scope="session")
def _kimi_emulator_dialects() -> Iterator[dict[str, KimiEmulator]]:
    started: dict[str, KimiEmulator] = {}
    try:
        yield started
    finally:
        for emulator in started.values():
            emulator.stop()


@pytest.fixture
def kimi_emulator_dialect(
    kimi_emulator_server: KimiEmulator, _kimi_emulator_dialects: dict[str, KimiEmulator]
) -> Callable[[str], KimiEmulator]:
    """``get(dialect)``: an emulator speaking ``"moonshot"``, ``"vllm"`` or ``"sglang"``, reset.

    One server per dialect for the whole session, started on first use (``"moonshot"`` is the
    session emulator itself).
    """

    def get(dialect: str) -> KimiEmulator:
        if dialect == "moonshot":
            emulator = kimi_emulator_server
        elif dialect in _kimi_emulator_dialects:
            emulator = _kimi_emulator_dialects[dialect]
        else:
            emulator = KimiEmulator(config=EmulatorConfig(dialect=dialect))  # type: ignore[arg-type]
            emulator.start()
            _kimi_emulator_dialects[dialect] = emulator
        emulator.reset()
        return emulator

    return get
