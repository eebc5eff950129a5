"""Fixtures for kimi-core tests: a client bound to the emulator (the replay server is in tests/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from core_helpers import FAST_RETRIES
from kimi_core import KimiClient
from kimi_core.files import clear_upload_cache
from kimi_core.profiles import reset_profiles


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    # The emulator's file store is reset per test; cached file ids must not outlive it. Profiles
    # refreshed from /v1/models are process-wide too, so each test starts from the built-in table.
    clear_upload_cache()
    yield
    reset_profiles()


@pytest.fixture
def client(kimi_emulator) -> KimiClient:
    return KimiClient(
        api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, retry_policy=FAST_RETRIES
    )
