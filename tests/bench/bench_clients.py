"""The clients under test, each doing the same work the way its users would.

Every client is built for one answer size (the emulator's size header is one of its default
headers) and offers four calls, one per scenario family:

* ``invoke``: one non-streaming call (S1),
* ``stream``: consume a stream event by event, keeping every text and reasoning piece (S2),
* ``invoke_streaming``: one call whose answer arrives as a stream and is wanted whole (S3, S6),
* ``ainvoke``: one non-streaming async call (S4; built inside the running event loop).

Each returns an :class:`Answer` so the suite can check completeness. Heavy imports happen in the
constructors, never at module import, so the cold-import scenario stays clean.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bench_answer import Answer, Expected, fetch_reference

__all__ = [
    "CLIENTS",
    "MAX_TOKENS",
    "MODEL",
    "PROMPT",
    "Client",
    "available_clients",
    "reference_answer",
]

MODEL = "kimi-k2.6"
PROMPT = "Explain the benchmark."
# Room for 50,000 reasoning events (3 tokens each) plus the content, within the context window.
MAX_TOKENS = 250_000


def reference_answer(base_url: str, api_key: str, expected: Expected) -> Answer:
    """The complete answer every client must deliver for ``expected``."""
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": MAX_TOKENS,
    }
    return fetch_reference(base_url, api_key, expected, body)


class Client:
    """One client under test, built for one answer size."""

    key = ""
    label = ""
    role = ""  # "baseline", "floor", "peer", "kimi" or "framework floor"
    module = ""  # what S5 imports

    def __init__(self, base_url: str, api_key: str, expected: Expected) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.expected = expected
        self.headers = expected.headers

    def invoke(self) -> Answer:
        raise NotImplementedError

    def stream(self) -> Answer:
        raise NotImplementedError

    def invoke_streaming(self) -> Answer:
        raise NotImplementedError

    async def ainvoke(self) -> Answer:
        raise NotImplementedError


def _triple(input_tokens: Any, output_tokens: Any, total: Any) -> tuple[int, int, int] | None:
    if isinstance(input_tokens, int) and isinstance(output_tokens, int) and isinstance(total, int):
        return input_tokens, output_tokens, total
    return None


# -- the raw openai SDK (the baseline) and the plain httpx + json.loads floor -----------------


def _sdk_usage(usage: Any) -> tuple[int, int, int] | None:
    if usage is None:
        return None
    return _triple(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


class RawSDK(Client):
    key = "sdk"
    label = "raw openai SDK"
    role = "baseline"
    module = "openai"

    def __init__(self, base_url: str, api_key: str, expected: Expected) -> None:
        super().__init__(base_url, api_key, expected)
        import openai

        self.sdk = openai.OpenAI(api_key=api_key, base_url=base_url, default_headers=self.headers)
        self.messages = [{"role": "user", "content": PROMPT}]

    def invoke(self) -> Answer:
        response = self.sdk.chat.completions.create(
            model=MODEL, messages=self.messages, max_tokens=MAX_TOKENS
        )
        message = response.choices[0].message
        reasoning = getattr(message, "reasoning_content", None)
        return Answer(message.content or "", reasoning, _sdk_usage(response.usage))

    def stream(self) -> Answer:
        text: list[str] = []
        reasoning: list[str] = []
        usage = None
        chunks = 0
        for chunk in self.sdk.chat.completions.create(
            model=MODEL,
            messages=self.messages,
            max_tokens=MAX_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        ):
            chunks += 1
            if chunk.choices:
                delta = chunk.choices[0].delta
                if delta.content:
                    text.append(delta.content)
                piece = getattr(delta, "reasoning_content", None)
                if piece:
                    reasoning.append(piece)
            if chunk.usage is not None:
                usage = chunk.usage
        return Answer("".join(text), "".join(reasoning) or None, _sdk_usage(usage), chunks)

    # Without a framework, "the whole answer of a stream" is the same loop.
    invoke_streaming = stream

    async def ainvoke(self) -> Answer:
        if not hasattr(self, "async_sdk"):
            import openai

            self.async_sdk = openai.AsyncOpenAI(
                api_key=self.api_key, base_url=self.base_url, default_headers=self.headers
            )
        response = await self.async_sdk.chat.completions.create(
            model=MODEL, messages=self.messages, max_tokens=MAX_TOKENS
        )
        message = response.choices[0].message
        reasoning = getattr(message, "reasoning_content", None)
        return Answer(message.content or "", reasoning, _sdk_usage(response.usage))


def _wire_usage(usage: Any) -> tuple[int, int, int] | None:
    if not isinstance(usage, dict):
        return None
    return _triple(
        usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens")
    )


def sse_events(chunks: Iterable[bytes]) -> Iterable[dict[str, Any]]:
    """Decoded ``data:`` events of an SSE byte stream, ``[DONE]`` excluded."""
    rest = b""
    loads = json.loads
    for chunk in chunks:
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                yield loads(line[6:])


def accumulate(events: Iterable[dict[str, Any]]) -> Answer:
    """Collect text, reasoning and usage from decoded chat.completion.chunk events."""
    text: list[str] = []
    reasoning: list[str] = []
    usage = None
    chunks = 0
    for event in events:
        chunks += 1
        choices = event.get("choices")
        if choices:
            delta = choices[0].get("delta") or {}
            piece = delta.get("content")
            if piece:
                text.append(piece)
            thought = delta.get("reasoning_content")
            if thought:
                reasoning.append(thought)
        if event.get("usage"):
            usage = event["usage"]
    return Answer("".join(text), "".join(reasoning) or None, _wire_usage(usage), chunks)


class HttpxFloor(Client):
    key = "httpx"
    label = "httpx + json.loads (floor)"
    role = "floor"
    module = "httpx2"

    def __init__(self, base_url: str, api_key: str, expected: Expected) -> None:
        super().__init__(base_url, api_key, expected)
        self.http = self._http_client(sync=True)
        self.body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS,
        }

    def _http_client(self, *, sync: bool) -> Any:
        """An httpx client with the openai SDK's pool limits, so pools behave the same."""
        import httpx2
        from openai._constants import DEFAULT_CONNECTION_LIMITS

        cls = httpx2.Client if sync else httpx2.AsyncClient
        return cls(
            base_url=self.base_url,
            headers=self._all_headers(),
            timeout=600,
            limits=DEFAULT_CONNECTION_LIMITS,
        )

    def _all_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
            **self.headers,
        }

    @staticmethod
    def _answer(data: dict[str, Any]) -> Answer:
        message = data["choices"][0]["message"]
        return Answer(
            message.get("content") or "",
            message.get("reasoning_content"),
            _wire_usage(data.get("usage")),
        )

    def invoke(self) -> Answer:
        response = self.http.post("/chat/completions", content=json.dumps(self.body).encode())
        response.raise_for_status()
        return self._answer(json.loads(response.content))

    def stream(self) -> Answer:
        body = {**self.body, "stream": True, "stream_options": {"include_usage": True}}
        with self.http.stream(
            "POST", "/chat/completions", content=json.dumps(body).encode()
        ) as response:
            response.raise_for_status()
            return accumulate(sse_events(response.iter_bytes()))

    invoke_streaming = stream

    async def ainvoke(self) -> Answer:
        if not hasattr(self, "async_http"):
            self.async_http = self._http_client(sync=False)
        response = await self.async_http.post(
            "/chat/completions", content=json.dumps(self.body).encode()
        )
        response.raise_for_status()
        return self._answer(json.loads(response.content))


# -- LangChain: ChatOpenAI(base_url=...) and ChatKimi --------------------------------------------


def lc_reasoning(message: Any) -> str | None:
    """A LangChain message's reasoning: ``reasoning_content`` or v1 ``reasoning`` blocks."""
    reasoning = message.additional_kwargs.get("reasoning_content")
    if reasoning:
        return str(reasoning)
    content = message.content
    if isinstance(content, list):
        parts = [
            block.get("reasoning", "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "reasoning"
        ]
        return "".join(parts) or None
    return None


def lc_usage(message: Any) -> tuple[int, int, int] | None:
    usage = message.usage_metadata
    if not usage:
        return None
    return _triple(usage.get("input_tokens"), usage.get("output_tokens"), usage.get("total_tokens"))


def lc_answer(message: Any) -> Answer:
    return Answer(message.text, lc_reasoning(message), lc_usage(message))


def lc_stream(model: Any, prompt: str) -> Answer:
    text: list[str] = []
    reasoning: list[str] = []
    usage: list[int] | None = None
    chunks = 0
    for chunk in model.stream(prompt):
        chunks += 1
        text.append(chunk.text)
        piece = lc_reasoning(chunk)
        if piece:
            reasoning.append(piece)
        chunk_usage = lc_usage(chunk)
        if chunk_usage is not None:
            # LangChain chunks add up, usage included.
            usage = [a + b for a, b in zip(usage or [0, 0, 0], chunk_usage, strict=True)]
    triple = (usage[0], usage[1], usage[2]) if usage else None
    return Answer("".join(text), "".join(reasoning) or None, triple, chunks)


class LangChainClient(Client):
    """Shared calls of the LangChain clients; subclasses build ``model`` and ``streaming_model``."""

    model: Any
    streaming_model: Any

    def make(self, *, streaming: bool) -> Any:
        raise NotImplementedError

    def __init__(self, base_url: str, api_key: str, expected: Expected) -> None:
        super().__init__(base_url, api_key, expected)
        self.model = self.make(streaming=False)
        self.streaming_model = self.make(streaming=True)

    def invoke(self) -> Answer:
        return lc_answer(self.model.invoke(PROMPT))

    def stream(self) -> Answer:
        return lc_stream(self.model, PROMPT)

    def invoke_streaming(self) -> Answer:
        return lc_answer(self.streaming_model.invoke(PROMPT))

    async def ainvoke(self) -> Answer:
        if not hasattr(self, "async_model"):
            # Built in the running loop: async HTTP pools belong to one event loop.
            self.async_model = self.make(streaming=False)
        return lc_answer(await self.async_model.ainvoke(PROMPT))


class ChatOpenAIPeer(LangChainClient):
    key = "chatopenai"
    label = "ChatOpenAI + base_url"
    role = "peer"
    module = "langchain_openai"

    def make(self, *, streaming: bool) -> Any:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=MODEL,
            base_url=self.base_url,
            api_key=self.api_key,
            max_tokens=MAX_TOKENS,
            stream_usage=True,  # what a user sets to get usage from a non-OpenAI base_url
            default_headers=self.headers,
            # Only when True: an explicit streaming=False also switches .stream() off.
            **({"streaming": True} if streaming else {}),
        )


class ChatKimiClient(LangChainClient):
    key = "chatkimi"
    label = "ChatKimi"
    role = "kimi"
    module = "langchain_kimi"

    def make(self, *, streaming: bool) -> Any:
        from langchain_kimi import ChatKimi

        extra: dict[str, Any] = {"streaming": True} if streaming else {}
        headers_field = "default_headers" in ChatKimi.model_fields
        if headers_field:
            extra["default_headers"] = self.headers
        model = ChatKimi(
            model=MODEL,
            base_url=self.base_url,
            api_key=self.api_key,
            max_tokens=MAX_TOKENS,
            **extra,
        )
        if not headers_field:
            # ChatKimi has no default_headers (yet): add the emulator's size header to the
            # kimi-core client it uses (a public attribute; same code path otherwise).
            model.client.default_headers.update(self.headers)
        return model


class ChatKimiPerEventClient(ChatKimiClient):
    """``ChatKimi(coalesce_stream=False)``: one chunk per server event (what ``stream`` did before
    it merged the events of one read); the twin of ``Kimi (LlamaIndex, per event)``."""

    key = "chatkimi-per-event"
    label = "ChatKimi (per event)"

    def make(self, *, streaming: bool) -> Any:
        model = super().make(streaming=streaming)
        model.coalesce_stream = False
        return model


# -- LlamaIndex: OpenAILike and Kimi ------------------------------------------------------------


def li_reasoning(message: Any) -> str | None:
    parts = [
        block.content or "" for block in message.blocks if type(block).__name__ == "ThinkingBlock"
    ]
    return "".join(parts) or None


def li_usage(response: Any) -> tuple[int, int, int] | None:
    kwargs = response.additional_kwargs
    usage = _triple(
        kwargs.get("prompt_tokens"), kwargs.get("completion_tokens"), kwargs.get("total_tokens")
    )
    if usage is None and response.raw is not None:
        raw = response.raw
        raw_usage = raw.get("usage") if isinstance(raw, dict) else getattr(raw, "usage", None)
        if isinstance(raw_usage, dict):
            usage = _wire_usage(raw_usage)
        elif raw_usage is not None:
            usage = _sdk_usage(raw_usage)
    return usage


def li_answer(response: Any) -> Answer:
    message = response.message
    return Answer(message.content or "", li_reasoning(message), li_usage(response))


class LlamaIndexClient(Client):
    """Shared calls of the LlamaIndex clients; subclasses build ``llm``."""

    def make(self) -> Any:
        raise NotImplementedError

    def __init__(self, base_url: str, api_key: str, expected: Expected) -> None:
        super().__init__(base_url, api_key, expected)
        from llama_index.core.llms import ChatMessage

        self.llm = self.make()
        self.messages = [ChatMessage(role="user", content=PROMPT)]

    def invoke(self) -> Answer:
        return li_answer(self.llm.chat(self.messages))

    def stream(self) -> Answer:
        text: list[str] = []
        reasoning: list[str] = []
        usage = None
        chunks = 0
        for response in self.llm.stream_chat(self.messages):
            chunks += 1
            text.append(response.delta or "")
            piece = response.additional_kwargs.get("thinking_delta")
            if piece:
                reasoning.append(piece)
            usage = li_usage(response) or usage
        return Answer("".join(text), "".join(reasoning) or None, usage, chunks)

    def invoke_streaming(self) -> Answer:
        # LlamaIndex's whole-answer-from-a-stream: the last streamed response holds the message.
        last = None
        usage = None
        for last in self.llm.stream_chat(self.messages):
            usage = li_usage(last) or usage
        assert last is not None
        answer = li_answer(last)
        answer.usage = usage
        return answer

    async def ainvoke(self) -> Answer:
        if not hasattr(self, "async_llm"):
            self.async_llm = self.make()
        return li_answer(await self.async_llm.achat(self.messages))


class OpenAILikePeer(LlamaIndexClient):
    key = "openailike"
    label = "llama-index OpenAILike"
    role = "peer"
    module = "llama_index.llms.openai_like"

    def make(self) -> Any:
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            model=MODEL,
            api_base=self.base_url,
            api_key=self.api_key,
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=262_144,
            max_tokens=MAX_TOKENS,
            # kimi-k2.6 with thinking accepts only 1.0; OpenAILike defaults to 0.1.
            temperature=1.0,
            default_headers=self.headers,
            # What a user adds to get usage on streams (only sent with stream=True).
            additional_kwargs={"stream_options": {"include_usage": True}},
        )


class KimiLlamaIndexClient(LlamaIndexClient):
    key = "kimi"
    label = "Kimi (LlamaIndex)"
    role = "kimi"
    module = "llama_index.llms.kimi"

    def make(self) -> Any:
        from llama_index.llms.kimi import Kimi

        return Kimi(
            model=MODEL,
            base_url=self.base_url,
            api_key=self.api_key,
            max_tokens=MAX_TOKENS,
            default_headers=self.headers,
        )


class KimiPerEventClient(KimiLlamaIndexClient):
    """``Kimi(coalesce_stream=False)``: one response per server event, as on a network where every
    event arrives in its own read; shows what coalescing saves on loopback, where it does not."""

    key = "kimi-per-event"
    label = "Kimi (LlamaIndex, per event)"

    def make(self) -> Any:
        llm = super().make()
        llm.coalesce_stream = False
        return llm


CLIENTS: list[type[Client]] = [
    RawSDK,
    HttpxFloor,
    ChatOpenAIPeer,
    ChatKimiClient,
    ChatKimiPerEventClient,
    OpenAILikePeer,
    KimiLlamaIndexClient,
    KimiPerEventClient,
]


def available_clients(classes: list[type[Client]]) -> tuple[list[type[Client]], dict[str, str]]:
    """The clients whose package imports here, and why the others were left out."""
    import importlib

    ok: list[type[Client]] = []
    skipped: dict[str, str] = {}
    for cls in classes:
        try:
            importlib.import_module(cls.module)
        except Exception as exc:  # a package still being built must not stop the suite
            skipped[cls.key] = f"{type(exc).__name__}: {exc}"
        else:
            ok.append(cls)
    return ok, skipped
