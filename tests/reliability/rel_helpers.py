"""Drive ChatKimi and Kimi the same way in every mode, and record what the caller saw.

A uniquely named module (test dirs share sys.path). Every call goes over real HTTP to the
emulator; nothing here mocks a client.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from typing import Any

import kimi_core
from kimi_emulator import KimiEmulator, Reply
from langchain_kimi import ChatKimi
from llama_index.core.base.llms.types import ChatMessage
from llama_index.llms.kimi import Kimi

FRAMEWORKS = ("langchain", "llamaindex")
MODES = ("invoke", "ainvoke", "stream", "astream")
STREAM_MODES = ("stream", "astream")
INVOKE_MODES = ("invoke", "ainvoke")

PROMPT = "What is 17 * 19?"
ANSWER = "Seventeen times nineteen is three hundred and twenty-three, so the answer is 323."
REASONING = "17 * 19 = 17 * 20 - 17 = 340 - 17 = 323."


def reply() -> Reply:
    """The scripted answer: several reasoning and text chunks, so a stream can break mid-way."""
    return Reply(content=ANSWER, reasoning=REASONING, reasoning_chunks=4, content_chunks=8)


@dataclass
class Outcome:
    """What the caller of one framework call got."""

    text: str = ""
    reasoning: str = ""
    pieces: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def streamed_text(self) -> str:
        return "".join(self.pieces)


def model(framework: str, emu: KimiEmulator, **kwargs: Any) -> ChatKimi | Kimi:
    """A ChatKimi or Kimi bound to ``emu``."""
    if framework == "langchain":
        return ChatKimi(api_key=emu.api_key, base_url=emu.base_url, **kwargs)
    return Kimi(api_key=emu.api_key, base_url=emu.base_url, **kwargs)


def drive(
    framework: str, mode: str, emu: KimiEmulator, prompt: str = PROMPT, **kwargs: Any
) -> Outcome:
    """One call in ``mode``; errors are kept in the outcome, after whatever was streamed."""
    llm = model(framework, emu, **kwargs)
    out = Outcome()
    try:
        if framework == "langchain":
            assert isinstance(llm, ChatKimi)
            _drive_langchain(llm, mode, prompt, out)
        else:
            assert isinstance(llm, Kimi)
            _drive_llamaindex(llm, mode, prompt, out)
    except Exception as exc:
        out.error = exc
    return out


def _drive_langchain(llm: ChatKimi, mode: str, prompt: str, out: Outcome) -> None:
    if mode == "invoke":
        message = llm.invoke(prompt)
    elif mode == "ainvoke":
        message = asyncio.run(llm.ainvoke(prompt))
    elif mode == "stream":
        for chunk in llm.stream(prompt):
            _lc_piece(chunk, out)
        return
    else:

        async def consume() -> None:
            async for chunk in llm.astream(prompt):
                _lc_piece(chunk, out)

        asyncio.run(consume())
        return
    out.text = message.text
    out.reasoning = message.additional_kwargs.get("reasoning_content", "")


def _lc_piece(chunk: Any, out: Outcome) -> None:
    if chunk.text:
        out.pieces.append(chunk.text)
    out.text += chunk.text
    out.reasoning += chunk.additional_kwargs.get("reasoning_content", "")


def _drive_llamaindex(llm: Kimi, mode: str, prompt: str, out: Outcome) -> None:
    messages = [ChatMessage(role="user", content=prompt)]
    if mode == "invoke":
        response = llm.chat(messages)
    elif mode == "ainvoke":
        response = asyncio.run(llm.achat(messages))
    elif mode == "stream":
        for response in llm.stream_chat(messages):
            _li_piece(response, out)
        return
    else:

        async def consume() -> None:
            async for response in await llm.astream_chat(messages):
                _li_piece(response, out)

        asyncio.run(consume())
        return
    out.text = response.message.content or ""
    out.reasoning = "".join(
        b.content or "" for b in response.message.blocks if type(b).__name__ == "ThinkingBlock"
    )


def _li_piece(response: Any, out: Outcome) -> None:
    if response.delta:
        out.pieces.append(response.delta)
    out.text += response.delta or ""
    out.reasoning += response.additional_kwargs.get("thinking_delta", "")


def retry_delays(records: list[logging.LogRecord]) -> list[float]:
    """The waits kimi-core's one retry layer chose, from its ``retrying in ...`` log records."""
    return [
        float(r.args[0])  # type: ignore[index]
        for r in records
        if r.name == "kimi_core" and r.getMessage().startswith("retrying in")
    ]


def fast_backoff_policy() -> functools.partial[kimi_core.RetryPolicy]:
    """kimi-core's RetryPolicy with a millisecond backoff scale (the policy math is unchanged)."""
    return functools.partial(kimi_core.RetryPolicy, initial_delay=0.01, max_delay=0.02)


def sse(*payloads: str, done: bool = True) -> bytes:
    """An SSE body of these ``data:`` payloads (and ``[DONE]``)."""
    lines = [f"data: {p}\n\n" for p in payloads] + (["data: [DONE]\n\n"] if done else [])
    return "".join(lines).encode()
