"""The Ray example on a local Ray instance: every row answered in order, retries honoured.

Runs in ``nox -s ray`` (Ray is not in the test group: the module is skipped without it). The
folder is not named ``ray``: with ``tests/`` on ``sys.path`` it would shadow the real package.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from kimi_emulator import Fault, KimiEmulator

ray = pytest.importorskip("ray")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ray" / "ray_online.py"


@pytest.fixture
def example(kimi_emulator: KimiEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    # Set before ray.init: the worker processes Ray starts inherit the environment.
    monkeypatch.setenv("MOONSHOT_API_KEY", kimi_emulator.api_key)
    monkeypatch.setenv("MOONSHOT_BASE_URL", kimi_emulator.base_url)
    spec = importlib.util.spec_from_file_location("ray_online", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    try:
        yield module
    finally:
        ray.shutdown()


@pytest.mark.timeout(600)
def test_actors_answer_every_row_in_order_through_the_retry_layer(example, kimi_emulator):
    # Every 7th call is a 429 "engine overloaded" with Retry-After: the retry layer must absorb it.
    kimi_emulator.faults.every(7, Fault.overloaded(retry_after=0.01))
    rows = [{"id": i, "topic": "billing"} for i in range(60)]
    answered, retries = example.process(rows, actors=2, max_concurrency=3, chunk_size=10)
    assert [row["id"] for row in answered] == list(range(60))
    assert [row["answer"] for row in answered] == [
        f"ticket {i} is about billing" for i in range(60)
    ]
    assert all(row["error"] is None for row in answered)
    sent = kimi_emulator.chat_requests
    assert retries > 0
    assert len(sent) == 60 + retries
    prompts = {body["messages"][0]["content"] for body in sent}
    assert prompts == {f"Say exactly: ticket {i} is about billing" for i in range(60)}
    assert all(body["thinking"] == {"type": "disabled"} for body in sent)
