"""Secrets and transport: a canary key never leaks; plain http warns; redirects drop the key.

Both packages, every surface issue 7 names: repr/str, LangChain dumps, LlamaIndex to_dict /
to_json / to_payload, log records at every level (ours, the SDK's, httpx's, the emulator's),
exception messages and their chained causes, tracing payloads (LangChain callbacks and run
collector, LlamaIndex instrumentation events and spans).
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import kimi_core
import pytest
from kimi_emulator import EmulatorConfig, Fault, KimiEmulator
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.load import dumpd, dumps
from langchain_core.tracers.run_collector import RunCollectorCallbackHandler
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.span_handlers import SimpleSpanHandler
from llama_index.llms.kimi import Kimi
from replay_http import Canned

CANARY = "sk-canary-7f3e9a1c5d2b8e4f6a0c"


@pytest.fixture(scope="module")
def canary_emulator() -> Iterator[KimiEmulator]:
    """An emulator whose only valid key is the canary."""
    with KimiEmulator(config=EmulatorConfig(api_key=CANARY)) as emulator:
        yield emulator


@pytest.fixture
def emu(canary_emulator: KimiEmulator) -> KimiEmulator:
    canary_emulator.reset()
    return canary_emulator


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record of every logger, DEBUG and up (the SDK's and httpx's request logs too)."""
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpx2", "httpcore", "httpcore2", "kimi_core", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _rendered(record: logging.LogRecord) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return formatter.format(record) + repr(record.args) + repr(record.__dict__)


def _assert_no_canary_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "nothing was logged: the check would be vacuous"
    for record in caplog.records:
        assert CANARY not in _rendered(record), f"{record.name}: {record.getMessage()[:200]}"


def _assert_no_canary_in_error(error: BaseException | None) -> None:
    assert error is not None
    text = "".join(traceback.format_exception(error))  # the whole chain, causes included
    assert CANARY not in text
    assert CANARY not in repr(error)
    assert CANARY not in repr(vars(error))


def _exercise_langchain(model: ChatKimi, emu: KimiEmulator) -> BaseException:
    model.invoke("Hello")
    list(model.stream("Hello"))
    asyncio.run(model.ainvoke("Hello"))
    emu.script(Fault.server_error(500))
    emu.script(Fault.server_error(500))
    try:
        model.invoke("Hello")
    except kimi_core.KimiError as error:
        return error
    raise AssertionError("the scripted 500s did not surface")


def _exercise_llamaindex(llm: Kimi, emu: KimiEmulator) -> BaseException:
    user = [ChatMessage(role="user", content="Hello")]
    llm.chat(user)
    list(llm.stream_chat(user))
    asyncio.run(llm.achat(user))
    emu.script(Fault.server_error(500))
    emu.script(Fault.server_error(500))
    try:
        llm.chat(user)
    except kimi_core.KimiError as error:
        return error
    raise AssertionError("the scripted 500s did not surface")


class _Recorder(BaseCallbackHandler):
    """Everything LangChain hands a tracer."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.seen.append(repr((serialized, messages, kwargs)))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(repr((response, kwargs)))

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.seen.append(repr((error, kwargs)))


def test_langchain_never_shows_the_key(emu: KimiEmulator, all_logs) -> None:
    model = ChatKimi(api_key=CANARY, base_url=emu.base_url, max_retries=1)
    recorder, collector = _Recorder(), RunCollectorCallbackHandler()
    traced = model.with_config(callbacks=[recorder, collector])
    error = _exercise_langchain(traced, emu)  # type: ignore[arg-type]
    # The key was really used: the canary emulator accepts nothing else.
    assert len(emu.chat_requests) == 5
    for surface in (
        repr(model),
        str(model),
        dumps(model),
        json.dumps(dumpd(model)),
        repr(model.model_dump()),
        repr(model._identifying_params),
        repr(model._get_ls_params()),
        repr(model.client),
        repr(vars(model.client)),
    ):
        assert CANARY not in surface
    assert recorder.seen
    assert collector.traced_runs
    for payload in [*recorder.seen, *(run.model_dump_json() for run in collector.traced_runs)]:
        assert CANARY not in payload
    _assert_no_canary_in_error(error)
    _assert_no_canary_in_logs(all_logs)
    assert all(CANARY not in repr(r.headers) for r in emu.requests)


class _Events(BaseEventHandler):
    seen: list[str] = []

    @classmethod
    def class_name(cls) -> str:
        return "CanaryEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.seen.append(event.model_dump_json() + repr(event) + repr(kwargs))


@pytest.fixture
def li_events() -> Iterator[_Events]:
    dispatcher = get_dispatcher()
    handler = _Events(seen=[])
    dispatcher.add_event_handler(handler)
    try:
        yield handler
    finally:
        dispatcher.event_handlers.remove(handler)


class _Spans(SimpleSpanHandler):
    """Records what every span handler is handed: the call's arguments, instance and result."""

    seen: list[str] = []

    def new_span(self, id_: str, bound_args: Any, instance: Any = None, **kwargs: Any) -> Any:
        self.seen.append(repr(bound_args.arguments) + repr(instance) + repr(kwargs))
        return super().new_span(id_, bound_args, instance, **kwargs)

    def prepare_to_exit_span(
        self, id_: str, bound_args: Any, instance: Any = None, result: Any = None, **kwargs: Any
    ) -> Any:
        self.seen.append(repr(result))
        return super().prepare_to_exit_span(id_, bound_args, instance, result, **kwargs)


@pytest.fixture
def li_spans() -> Iterator[_Spans]:
    dispatcher = get_dispatcher()
    handler = _Spans()
    dispatcher.add_span_handler(handler)
    try:
        yield handler
    finally:
        dispatcher.span_handlers.remove(handler)


def test_llamaindex_never_shows_the_key(emu: KimiEmulator, all_logs, li_events, li_spans) -> None:
    llm = Kimi(api_key=CANARY, base_url=emu.base_url, max_retries=1)
    error = _exercise_llamaindex(llm, emu)
    assert len(emu.chat_requests) == 5
    for surface in (
        repr(llm),
        str(llm),
        llm.to_json(),
        json.dumps(llm.to_dict()),
        json.dumps(llm.to_payload(), default=str),
        llm.model_dump_json(),
        repr(llm.model_dump()),
        repr(llm.metadata),
        repr(llm.client),
        repr(vars(llm.client)),
    ):
        assert CANARY not in surface
    assert li_events.seen
    assert li_spans.seen
    for payload in [*li_events.seen, *li_spans.seen]:
        assert CANARY not in payload
    _assert_no_canary_in_error(error)
    _assert_no_canary_in_logs(all_logs)


def _construct(framework: str, api_key: str, base_url: str, **kwargs: Any) -> ChatKimi | Kimi:
    if framework == "langchain":
        model = ChatKimi(api_key=api_key, base_url=base_url, **kwargs)
        assert model.client is not None  # ChatKimi builds its client (and checks the URL) lazily
        return model
    return Kimi(api_key=api_key, base_url=base_url, **kwargs)


def _call(llm: ChatKimi | Kimi, mode: str) -> None:
    if isinstance(llm, ChatKimi):
        llm.invoke("Hello") if mode == "invoke" else list(llm.stream("Hello"))
        return
    user = [ChatMessage(role="user", content="Hello")]
    llm.chat(user) if mode == "invoke" else list(llm.stream_chat(user))


@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_a_rejected_key_is_not_echoed(emu: KimiEmulator, all_logs, framework) -> None:
    wrong = CANARY[::-1]
    llm = _construct(framework, wrong, emu.base_url)
    with pytest.raises(kimi_core.AuthenticationError) as caught:
        _call(llm, "invoke")
    assert caught.value.status == 401
    assert wrong not in "".join(traceback.format_exception(caught.value))
    assert all(wrong not in _rendered(record) for record in all_logs.records)


@pytest.mark.parametrize(
    "base_url",
    ["http://kimi.example.com/v1", "http://10.1.2.3:8080/v1", "http://[2001:db8::1]/v1"],
)
@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_plain_http_to_a_remote_host_warns(framework, base_url) -> None:
    with pytest.warns(UserWarning, match="travel unencrypted"):
        _construct(framework, "sk-x", base_url)


@pytest.mark.parametrize(
    "base_url",
    ["https://kimi.example.com/v1", "http://127.0.0.1:8765/v1", "http://localhost:8765/v1"],
)
@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_https_and_loopback_do_not_warn(framework, base_url) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Not about transport security: the once-per-host note that the platform is assumed.
        warnings.filterwarnings("ignore", category=kimi_core.EndpointAssumedWarning)
        _construct(framework, "sk-x", base_url)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("mode", ["invoke", "stream"])
@pytest.mark.parametrize("framework", ["langchain", "llamaindex"])
def test_redirect_to_another_host_is_not_followed(
    emu: KimiEmulator, replay_server, framework, mode, status
) -> None:
    # The target is the canary emulator under another host name: it would accept the key.
    target = emu.base_url.replace("127.0.0.1", "localhost") + "/chat/completions"
    replay_server.serve(Canned(status=status, headers={"location": target}))
    llm = _construct(framework, CANARY, replay_server.base_url, max_retries=0)
    with pytest.raises(kimi_core.KimiError) as caught:
        _call(llm, mode)
    first_headers = {k.lower(): v for k, v in replay_server.requests[0][1].items()}
    assert first_headers["authorization"] == f"Bearer {CANARY}"
    # Another origin: not followed at all, so neither the key nor the body got there.
    assert emu.requests == []
    assert isinstance(caught.value, kimi_core.RedirectError)
    assert CANARY not in str(caught.value)
