"""Fixtures: a ``Kimi`` bound to the emulator, and an environment without stray credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kimi_emulator import KimiEmulator
from llama_index.llms.kimi import Kimi

_CREDENTIAL_VARS = (
    "MOONSHOT_API_KEY",
    "KIMI_API_KEY",
    "MOONSHOT_BASE_URL",
    "KIMI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_llm(kimi_emulator: KimiEmulator) -> Callable[..., Kimi]:
    """Build a ``Kimi`` talking to the emulator (no retries unless asked)."""

    def make(**kwargs: Any) -> Kimi:
        kwargs.setdefault("max_retries", 0)
        return Kimi(api_key=kimi_emulator.api_key, base_url=kimi_emulator.base_url, **kwargs)

    return make


@pytest.fixture
def llm(make_llm: Callable[..., Kimi]) -> Kimi:
    return make_llm()
