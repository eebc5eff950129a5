"""Framework floors: the cheapest adapters LangChain and LlamaIndex allow.

Each floor is a minimal, complete chat model for its framework whose transport and parsing are the
plain httpx + ``json.loads`` floor: no validation, no retries, no Kimi rules. Whatever a floor
costs above the httpx floor is the framework's own machinery (run managers, callbacks,
instrumentation events, per-chunk message objects and their merging), which no integration can
avoid while honouring the framework's contract. One framework chunk per SSE event, like the peers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Sequence
from functools import cache
from typing import Any

from bench_answer import Expected
from bench_clients import (
    MAX_TOKENS,
    MODEL,
    HttpxFloor,
    LangChainClient,
    LlamaIndexClient,
    accumulate,
    sse_events,
)

__all__ = ["FLOORS", "LangChainFloor", "LlamaIndexFloor"]


def _usage_fields(usage: dict[str, Any] | None) -> dict[str, int]:
    if not usage:
        return {}
    return {
        "prompt_tokens": usage["prompt_tokens"],
        "completion_tokens": usage["completion_tokens"],
        "total_tokens": usage["total_tokens"],
    }


@cache
def _langchain_model_class() -> type:  # noqa: C901 - one class body, built lazily
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.messages.ai import UsageMetadata
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    def lc_usage(usage: dict[str, Any] | None) -> UsageMetadata | None:
        if not usage:
            return None
        return UsageMetadata(
            input_tokens=usage["prompt_tokens"],
            output_tokens=usage["completion_tokens"],
            total_tokens=usage["total_tokens"],
        )

    class FloorChatModel(BaseChatModel):
        """httpx + json.loads behind LangChain's BaseChatModel, nothing else."""

        floor: Any
        streaming: bool = False

        @property
        def _llm_type(self) -> str:
            return "bench-floor"

        def _post(self) -> ChatResult:
            data = json.loads(
                self.floor.http.post(
                    "/chat/completions", content=json.dumps(self.floor.body).encode()
                ).content
            )
            message = data["choices"][0]["message"]
            reasoning = message.get("reasoning_content")
            ai = AIMessage(
                content=message.get("content") or "",
                additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
                usage_metadata=lc_usage(data.get("usage")),
            )
            return ChatResult(generations=[ChatGeneration(message=ai)])

        async def _agenerate(self, messages: Any, stop: Any = None, **kwargs: Any) -> ChatResult:
            response = await self.floor.async_http.post(
                "/chat/completions", content=json.dumps(self.floor.body).encode()
            )
            data = json.loads(response.content)
            message = data["choices"][0]["message"]
            reasoning = message.get("reasoning_content")
            ai = AIMessage(
                content=message.get("content") or "",
                additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
                usage_metadata=lc_usage(data.get("usage")),
            )
            return ChatResult(generations=[ChatGeneration(message=ai)])

        def _should_stream(self, *, async_api: bool, **kwargs: Any) -> bool:
            # stream() streams; invoke() on a streaming model is served by _generate, which
            # aggregates in lists instead of langchain-core's pairwise chunk merging.
            return bool(kwargs.get("stream")) and super()._should_stream(
                async_api=async_api, **kwargs
            )

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
        ) -> ChatResult:
            # Stream when langchain-core would (streaming=True, or a streaming handler such as
            # LangGraph's stream_mode="messages"), as ChatKimi does.
            streams = BaseChatModel._should_stream(
                self, async_api=False, run_manager=run_manager, **kwargs
            )
            if not streams:
                return self._post()
            if run_manager and run_manager.handlers:
                return self._from_chunks(self._stream(messages, stop, run_manager, **kwargs))
            # Nobody listens to the chunks: accumulate the events directly.
            body = {**self.floor.body, "stream": True, "stream_options": {"include_usage": True}}
            with self.floor.http.stream(
                "POST", "/chat/completions", content=json.dumps(body).encode()
            ) as response:
                answer = accumulate(sse_events(response.iter_bytes()))
            ai = AIMessage(
                content=answer.text,
                additional_kwargs=(
                    {"reasoning_content": answer.reasoning} if answer.reasoning else {}
                ),
                usage_metadata=(
                    UsageMetadata(
                        input_tokens=answer.usage[0],
                        output_tokens=answer.usage[1],
                        total_tokens=answer.usage[2],
                    )
                    if answer.usage
                    else None
                ),
            )
            return ChatResult(generations=[ChatGeneration(message=ai)])

        def _from_chunks(self, chunks: Iterator[ChatGenerationChunk]) -> ChatResult:
            text: list[str] = []
            reasoning: list[str] = []
            usage = None
            for chunk in chunks:
                message = chunk.message
                if message.content:
                    text.append(message.content)
                if message.additional_kwargs:
                    reasoning.append(message.additional_kwargs["reasoning_content"])
                usage = message.usage_metadata or usage
            thought = "".join(reasoning)
            ai = AIMessage(
                content="".join(text),
                additional_kwargs={"reasoning_content": thought} if thought else {},
                usage_metadata=usage,
            )
            return ChatResult(generations=[ChatGeneration(message=ai)])

        def _stream(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any
        ) -> Iterator[ChatGenerationChunk]:
            body = {**self.floor.body, "stream": True, "stream_options": {"include_usage": True}}
            with self.floor.http.stream(
                "POST", "/chat/completions", content=json.dumps(body).encode()
            ) as response:
                for event in sse_events(response.iter_bytes()):
                    choices = event.get("choices")
                    delta = (choices[0].get("delta") or {}) if choices else {}
                    reasoning = delta.get("reasoning_content")
                    text = delta.get("content") or ""
                    chunk = ChatGenerationChunk(
                        message=AIMessageChunk(
                            content=text,
                            additional_kwargs={"reasoning_content": reasoning} if reasoning else {},
                            usage_metadata=lc_usage(event.get("usage")),
                        )
                    )
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk

    return FloorChatModel


class LangChainFloor(LangChainClient):
    key = "lc-floor"
    label = "LangChain floor (minimal adapter)"
    role = "framework floor"
    # Where BaseChatModel lives: `langchain_core.language_models` alone loads its names lazily,
    # and skips the tracers and langsmith that any chat model's import pulls in.
    module = "langchain_core.language_models.chat_models"

    def __init__(self, base_url: str, api_key: str, expected: Expected) -> None:
        self.floor = HttpxFloor(base_url, api_key, expected)
        super().__init__(base_url, api_key, expected)

    def make(self, *, streaming: bool) -> Any:
        kwargs = {"streaming": True} if streaming else {}
        return _langchain_model_class()(floor=self.floor, **kwargs)

    async def ainvoke(self) -> Any:
        if not hasattr(self.floor, "async_http"):
            self.floor.async_http = self.floor._http_client(sync=False)
        return await super().ainvoke()


@cache
def _llama_index_llm_class() -> type:  # noqa: C901 - one class body, built lazily
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseAsyncGen,
        ChatResponseGen,
        CompletionResponse,
        LLMMetadata,
        TextBlock,
        ThinkingBlock,
    )
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from llama_index.core.llms.llm import LLM

    def message_of(text: str, reasoning: str | None) -> ChatMessage:
        blocks: list[Any] = [ThinkingBlock(content=reasoning)] if reasoning else []
        blocks.append(TextBlock(text=text))
        return ChatMessage(role="assistant", blocks=blocks)

    class FloorLLM(LLM):
        """httpx + json.loads behind LlamaIndex's LLM, nothing else."""

        floor: Any

        @classmethod
        def class_name(cls) -> str:
            return "bench_floor"

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=262_144, num_output=MAX_TOKENS, model_name=MODEL)

        def _response(self, data: dict[str, Any]) -> ChatResponse:
            message = data["choices"][0]["message"]
            return ChatResponse(
                message=message_of(message.get("content") or "", message.get("reasoning_content")),
                raw=data,
                additional_kwargs=_usage_fields(data.get("usage")),
            )

        @llm_chat_callback()
        def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
            response = self.floor.http.post(
                "/chat/completions", content=json.dumps(self.floor.body).encode()
            )
            return self._response(json.loads(response.content))

        @llm_chat_callback()
        async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
            response = await self.floor.async_http.post(
                "/chat/completions", content=json.dumps(self.floor.body).encode()
            )
            return self._response(json.loads(response.content))

        @llm_chat_callback()
        def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
            body = {**self.floor.body, "stream": True, "stream_options": {"include_usage": True}}
            http = self.floor.http

            def gen() -> ChatResponseGen:
                # The contract: every response holds the whole message so far. The text grows by
                # appending (a copy of the string per event, which the contract forces) and a
                # block is rebuilt only when its text changed.
                text = reasoning = ""
                text_block = TextBlock(text="")
                thinking: list[Any] = []
                with http.stream(
                    "POST", "/chat/completions", content=json.dumps(body).encode()
                ) as response:
                    for event in sse_events(response.iter_bytes()):
                        choices = event.get("choices")
                        delta = (choices[0].get("delta") or {}) if choices else {}
                        piece = delta.get("content") or ""
                        thought = delta.get("reasoning_content") or ""
                        extra = _usage_fields(event.get("usage"))
                        if thought:
                            reasoning += thought
                            thinking = [ThinkingBlock(content=reasoning)]
                            extra["thinking_delta"] = thought  # type: ignore[assignment]
                        if piece:
                            text += piece
                            text_block = TextBlock(text=text)
                        yield ChatResponse(
                            message=ChatMessage(role="assistant", blocks=[*thinking, text_block]),
                            delta=piece,
                            additional_kwargs=extra,
                        )

            return gen()

        async def astream_chat(self, messages: Any, **kwargs: Any) -> ChatResponseAsyncGen:
            raise NotImplementedError

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def astream_complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> AsyncIterator[CompletionResponse]:
            raise NotImplementedError

    return FloorLLM


class LlamaIndexFloor(LlamaIndexClient):
    key = "li-floor"
    label = "LlamaIndex floor (minimal adapter)"
    role = "framework floor"
    module = "llama_index.core.llms"

    def __init__(self, base_url: str, api_key: str, expected: Expected) -> None:
        self.floor = HttpxFloor(base_url, api_key, expected)
        super().__init__(base_url, api_key, expected)

    def make(self) -> Any:
        return _llama_index_llm_class()(floor=self.floor)

    async def ainvoke(self) -> Any:
        if not hasattr(self.floor, "async_http"):
            self.floor.async_http = self.floor._http_client(sync=False)
        return await super().ainvoke()


FLOORS: list[type[Any]] = [LangChainFloor, LlamaIndexFloor]
