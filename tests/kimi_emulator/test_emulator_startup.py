"""The three ways to start the emulator (Python, pytest plugin, CLI) and the public API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import kimi_emulator
import openai
import pytest
from kimi_emulator import EmulatorConfig, KimiEmulator


def test_public_api_is_pinned() -> None:
    assert sorted(kimi_emulator.__all__) == [
        "EmulatorConfig",
        "FAULT_HEADER",
        "Fault",
        "KimiEmulator",
        "RecordedRequest",
        "Reply",
        "SIZE_HEADER",
        "ScriptedToolCall",
    ]


def test_sync_form_binds_loopback_and_stops() -> None:
    emulator = KimiEmulator(config=EmulatorConfig(api_key="sk-fixed"))
    with emulator:
        assert emulator.base_url.startswith("http://127.0.0.1:")
        assert emulator.base_url.endswith("/v1")
        assert emulator.api_key == "sk-fixed"
        with openai.OpenAI(base_url=emulator.base_url, api_key="sk-fixed", max_retries=0) as sdk:
            assert sdk.models.list().data
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.base_url


def test_each_server_has_its_own_random_key() -> None:
    assert EmulatorConfig().api_key != EmulatorConfig().api_key
    assert "sk-" not in repr(EmulatorConfig())


def test_naive_clock_is_refused() -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="timezone-aware"):
        EmulatorConfig(clock=datetime(2026, 1, 1))


async def test_async_form_serves_hundreds_of_concurrent_streams() -> None:
    async with KimiEmulator() as emulator:
        sdk = openai.AsyncOpenAI(
            base_url=emulator.base_url, api_key=emulator.api_key, max_retries=0
        )

        async def one(index: int) -> str:
            stream = await sdk.chat.completions.create(
                model="kimi-k3",
                messages=[{"role": "user", "content": f"reply with exactly OK{index}"}],
                stream=True,
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        answers = await asyncio.gather(*(one(i) for i in range(200)))
        await sdk.close()
    assert answers == [f"OK{i}" for i in range(200)]
    assert len(emulator.chat_requests) == 200


def test_pytest_plugin_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_uses_plugin.py").write_text(
        textwrap.dedent(
            """
            import openai
            from kimi_emulator import Reply

            def test_first(kimi_emulator, kimi_emulator_server):
                assert kimi_emulator is kimi_emulator_server
                kimi_emulator.script(Reply(content="scripted"))
                sdk = openai.OpenAI(base_url=kimi_emulator.base_url, api_key=kimi_emulator.api_key)
                sdk.models.list()

            def test_second_starts_clean(kimi_emulator):
                assert kimi_emulator.requests == []
                sdk = openai.OpenAI(base_url=kimi_emulator.base_url, api_key=kimi_emulator.api_key)
                reply = sdk.chat.completions.create(
                    model="kimi-k3", messages=[{"role": "user", "content": "hi"}]
                )
                assert reply.choices[0].message.content != "scripted"
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_cli_prints_url_and_key_and_stops_on_ctrl_c() -> None:
    cli = Path(sys.executable).parent / "kimi-emulator"
    process = subprocess.Popen(
        [str(cli), "--port", "0", "--api-key", "sk-cli-test"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Kimi emulator listening: base URL http://127.0.0.1:")
        base_url = first.rsplit(" ", 1)[1].strip()
        assert process.stdout.readline().strip() == "API key: sk-cli-test"
        with openai.OpenAI(base_url=base_url, api_key="sk-cli-test", max_retries=0) as sdk:
            reply = sdk.chat.completions.create(
                model="kimi-k3", messages=[{"role": "user", "content": "17*19"}]
            )
        assert reply.choices[0].message.content == "323"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Kimi emulator stopped." in err
    assert "Traceback" not in err
