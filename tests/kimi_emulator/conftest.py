"""Fixtures for the emulator tests: the plain openai SDK and a raw (stdlib) HTTP helper."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import openai
import pytest
from kimi_emulator import EmulatorConfig, KimiEmulator


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[Any]:
        """SSE data payloads; ``[DONE]`` kept as the string."""
        out: list[Any] = []
        for line in self.body.decode().split("\n"):
            if line.startswith("data: "):
                data = line[len("data: ") :]
                out.append(data if data == "[DONE]" else json.loads(data))
        return out


class Raw:
    """Plain HTTP against the emulator, for status codes, headers and exact wire bytes."""

    def __init__(self, emulator: KimiEmulator) -> None:
        self.emulator = emulator

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        auth: str | None = "default",
    ) -> RawResponse:
        url = self.emulator.base_url.removesuffix("/v1") + path
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"} if data is not None else {}
        if auth == "default":
            all_headers["Authorization"] = f"Bearer {self.emulator.api_key}"
        elif auth is not None:
            all_headers["Authorization"] = auth
        all_headers.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return RawResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return RawResponse(error.code, dict(error.headers), error.read())

    def chat(self, body: dict[str, Any], **kwargs: Any) -> RawResponse:
        return self.request("POST", "/v1/chat/completions", body, **kwargs)


@pytest.fixture
def raw(kimi_emulator: KimiEmulator) -> Raw:
    return Raw(kimi_emulator)


@pytest.fixture
def raw_for() -> type[Raw]:
    """The raw HTTP helper class, for servers other than the session one."""
    return Raw


@pytest.fixture
def client(kimi_emulator: KimiEmulator) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=kimi_emulator.base_url, api_key=kimi_emulator.api_key, max_retries=0
    ) as sdk:
        yield sdk


@pytest.fixture
def rejects(client: openai.OpenAI, kimi_emulator: KimiEmulator) -> Any:
    """``rejects(status, type, message, **create_kwargs)``: the SDK call fails exactly like that."""

    def check(status: int, error_type: str, message: str, **kwargs: Any) -> None:
        kwargs.setdefault("model", "kimi-k2.6")
        kwargs.setdefault("messages", [{"role": "user", "content": "hi"}])
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(**kwargs)
        assert caught.value.status_code == status
        assert caught.value.body == {"message": message, "type": error_type}
        assert kimi_emulator.chat_requests[-1]["model"] == kwargs["model"]

    return check


@pytest.fixture
def make_emulator() -> Iterator[Any]:
    """``make_emulator(**config) -> (emulator, client)``: a private server with its own switches."""
    started: list[tuple[KimiEmulator, openai.OpenAI]] = []

    def make(**config: Any) -> tuple[KimiEmulator, openai.OpenAI]:
        emulator = KimiEmulator(config=EmulatorConfig(**config))
        emulator.start()
        sdk = openai.OpenAI(base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0)
        started.append((emulator, sdk))
        return emulator, sdk

    yield make
    for emulator, sdk in started:
        sdk.close()
        emulator.stop()


AUGUST_2026 = datetime(2026, 8, 25, 12, 0, tzinfo=UTC)
"""A clock before the 2026-08-31 sunset: kimi-k2.5 and moonshot-v1-* still serve."""


@pytest.fixture
def august() -> Iterator[tuple[KimiEmulator, openai.OpenAI]]:
    """A server whose clock is 2026-08-25 (the live fixtures were recorded then)."""
    with (
        KimiEmulator(config=EmulatorConfig(clock=AUGUST_2026)) as emulator,
        openai.OpenAI(base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0) as sdk,
    ):
        yield emulator, sdk
