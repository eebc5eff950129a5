"""`ChatKimi`: Moonshot AI's Kimi models as a LangChain chat model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, Self

from kimi_core import (
    DEFAULT_TIMEOUT,
    SETTING_NAMES,
    ChatRequest,
    ChatSettings,
    KimiClient,
    MediaPolicy,
    SamplingPolicy,
    apply_overrides,
    build_chat_request,
    check_thinking_and_sampling,
    closest_setting,
    get_endpoint,
    get_profile,
    resolve_credentials,
)
from kimi_core import ChatResult as KimiResult
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    convert_to_messages,
)
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from langchain_kimi import _translator
from langchain_kimi._arguments import field_names, move_unknown_arguments
from langchain_kimi._batch import BATCH_ARGS, BatchAPIMixin
from langchain_kimi._convert import from_kimi_result, to_chunk, to_kimi_messages
from langchain_kimi._errors import mapped_errors
from langchain_kimi._structured import require_tool_call
from langchain_kimi._tool_format import tool_to_wire
from langchain_kimi._version import __version__

if TYPE_CHECKING:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForLLMRun,
        CallbackManagerForLLMRun,
    )
    from langchain_core.output_parsers import BaseOutputParser
    from langchain_core.tools import BaseTool

__all__ = ["ChatKimi"]

_translator.register()

# The settings that are fields of the same name here; `model` is `model_name` (alias `model`)
# and `extra_body` is `model_kwargs` at construction, as in LangChain's other chat models.
_SETTING_FIELDS = tuple(name for name in SETTING_NAMES if name not in ("model", "extra_body"))
# Per-call kwargs that are arguments of build_chat_request rather than settings.
_REQUEST_ARGS = ("tools", "tool_choice", "response_format")
# Per-call kwargs that configure the client, not the body.
_CLIENT_ARGS = ("timeout", "max_retries", "deadline")
# Per-call kwargs langchain-core passes along that are not meant for the request.
_CALL_ARGS = ("stream", "ls_structured_output_format")

StructuredOutputMethod = Literal["function_calling", "json_mode", "json_schema"]


_MAX_CACHED_CLIENTS = 16


class _ClientCache:
    """kimi-core clients by connection settings, kept on a model.

    Keyed by settings so a `model_copy(update=...)` that changes them gets its own client. A
    deep copy or pickle starts empty: a client holds the key, which kimi-core never pickles.
    """

    __slots__ = ("_clients",)

    def __init__(self) -> None:
        self._clients: dict[tuple[Any, ...], KimiClient] = {}

    def get(self, key: tuple[Any, ...], build: Callable[[], KimiClient]) -> KimiClient:
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) >= _MAX_CACHED_CLIENTS:
                # Many per-call timeouts: drop the old entries (the pools live in kimi-core).
                self._clients.clear()
            client = self._clients[key] = build()
        return client

    def __deepcopy__(self, memo: dict[int, Any]) -> _ClientCache:
        return _ClientCache()

    def __reduce__(self) -> tuple[type[_ClientCache], tuple[()]]:
        return (_ClientCache, ())


class ChatKimi(BatchAPIMixin, BaseChatModel):
    r"""Moonshot AI's Kimi chat models (kimi-k2.6, kimi-k2.7-code, kimi-k3, ...).

    Built on `langchain-core` and `kimi-core`: every Kimi rule (thinking per model, fixed
    sampling, `reasoning_content` round trip, `$web_search` echo loop, JSON-schema dialect,
    media policy, retries) lives in `kimi-core`; this class translates LangChain types.

    Setup:
        Install `langchain-kimi` and set the key (`MOONSHOT_API_KEY`, or `KIMI_API_KEY`;
        `MOONSHOT_BASE_URL` / `KIMI_BASE_URL` select another endpoint):

        ```bash
        pip install -U langchain-kimi
        export MOONSHOT_API_KEY="your-api-key"
        ```

    Key init args — completion params:
        model:
            Model id, default `"kimi-k2.6"`.
        thinking:
            `True`/`False` to switch thinking on models that can; `None` keeps the default.
        preserve_thinking:
            Keep earlier turns' reasoning in context (`thinking.keep = "all"`).
        reasoning_effort:
            `"low"`, `"high"` or `"max"` on models with effort levels (kimi-k3).
        max_tokens:
            Completion limit including reasoning (alias `max_completion_tokens`).
        temperature, top_p:
            Omitted unless set. A value the model cannot take (K-models fix their sampling) is
            left out of the request with a warning and an entry in
            `response_metadata["adjustments"]`; `sampling_policy="error"` raises instead.
        stop:
            Up to five stop sequences.

    Key init args — client params:
        api_key:
            Defaults to `MOONSHOT_API_KEY`, then `KIMI_API_KEY`.
        base_url:
            Defaults to `MOONSHOT_BASE_URL`, `KIMI_BASE_URL`, then `https://api.moonshot.ai/v1`.
        region:
            `"cn"` for `https://api.moonshot.cn/v1` (instead of `base_url`).
        timeout:
            Seconds per request.
        deadline:
            Seconds a whole call may take, retries and streaming included (default None: no
            bound); `kimi_core.DeadlineExceededError` when passed.
        max_retries:
            Retries of retryable failures (overload, rate limit, 5xx, network).
        media:
            How http(s) image/video URLs are fetched (`kimi_core.MediaPolicy`): public
            addresses only by default; also per call (`invoke(..., media=...)`).

    Instantiate:
        ```python
        from langchain_kimi import ChatKimi

        model = ChatKimi(model="kimi-k2.6", max_tokens=16000)
        ```

    Invoke:
        ```python
        msg = model.invoke([("system", "Be brief."), ("human", "What is 17 * 19?")])
        msg.text  # '323'
        msg.additional_kwargs["reasoning_content"]  # the model's reasoning
        [block["type"] for block in msg.content_blocks]  # ['reasoning', 'text']
        ```

        Per-call overrides work for every setting, under its own name:
        `model.invoke("Hi", thinking=False)`; a misspelt one raises `TypeError`.

    Stream:
        ```python
        for chunk in model.stream("Tell me a joke"):
            print(chunk.additional_kwargs.get("reasoning_content", ""), chunk.text, end="")
        ```

    Async:
        ```python
        await model.ainvoke("Hello")
        async for chunk in model.astream("Hello"):
            ...
        await model.abatch(["Hello", "Goodbye"])
        ```

    Tool calling:
        ```python
        from pydantic import BaseModel, Field


        class GetWeather(BaseModel):
            '''Get the current weather in a given location.'''

            location: str = Field(description="The city, e.g. Beijing")


        with_tools = model.bind_tools([GetWeather, {"type": "web_search"}])
        msg = with_tools.invoke("Weather in Beijing? Search the news too.")
        msg.tool_calls  # [{'name': 'GetWeather', 'args': {'location': 'Beijing'}, ...}]
        ```

        `{"type": "web_search"}` (or the wire dict `{"type": "builtin_function", "function":
        {"name": "$web_search"}}`) enables Kimi's server-side search: the echo loop runs inside
        the call and each search appears as `server_tool_call` / `server_tool_result` blocks and
        in `response_metadata["web_searches"]`. A forced `tool_choice` the model rejects in its
        thinking state is sent as `"auto"` (`tool_choice_policy="error"` raises instead).

    Structured output:
        ```python
        class Joke(BaseModel):
            '''A joke.'''

            setup: str
            punchline: str


        model.with_structured_output(Joke).invoke("A joke about cats")
        # Joke(setup='...', punchline='...')
        ```

        Methods: `"json_schema"` (default where the model supports it), `"function_calling"`,
        `"json_mode"`; `include_raw=True` returns the raw message and any parsing error too.

    Token usage:
        ```python
        msg.usage_metadata
        # {'input_tokens': 20, 'output_tokens': 80, 'total_tokens': 100,
        #  'input_token_details': {'cache_read': 0},
        #  'output_token_details': {'reasoning': 60}}
        ```

        Streams carry usage on exactly one (the last) chunk, summed over `$web_search` rounds.

    Response metadata:
        ```python
        msg.response_metadata
        # {'model_name': 'kimi-k2.6', 'finish_reason': 'stop', 'id': 'chatcmpl-...',
        #  'request_id': '...', 'model_provider': 'moonshot', ...}
        ```

    Multimodal input:
        Standard `image` / `video` blocks (`base64` + `mime_type`, `url`, or a Files API
        `file_id`, sent as `ms://<id>`) and OpenAI-style `image_url` / `video_url` dicts.
        http(s) URLs are downloaded and inlined (Kimi rejects public URLs), from public
        addresses only unless `media=MediaPolicy(allowed_hosts=...)` allows more.

        ```python
        model.invoke(
            [
                HumanMessage(
                    [
                        {"type": "text", "text": "What happens in this clip?"},
                        {"type": "video", "base64": video_b64, "mime_type": "video/mp4"},
                    ]
                )
            ]
        )
        ```

    Partial mode:
        End the conversation with the prefix the answer must continue:

        ```python
        prefix = AIMessage("Soft", additional_kwargs={"partial": True})
        model.invoke([("human", "Write a haiku about rain."), prefix])
        ```

    Official tools:
        `MoonshotFormulaToolkit(formulas=["moonshot/fetch:latest"]).get_tools()` returns
        `BaseTool`s that run through Moonshot's fibers endpoint, for any agent.
    """

    model_config = ConfigDict(populate_by_name=True)

    model_name: str = Field(default="kimi-k2.6", alias="model")
    """Model id sent on the wire."""
    api_key: SecretStr | None = None
    """API key; resolved by kimi-core from `MOONSHOT_API_KEY`, then `KIMI_API_KEY`."""
    base_url: str | None = None
    """API base URL; `None` lets kimi-core read `MOONSHOT_BASE_URL` / `KIMI_BASE_URL`."""
    region: Literal["global", "cn"] | None = None
    """`"cn"` selects the mainland endpoint (keys do not work across regions)."""
    endpoint: str | None = None
    """The server kind: `"moonshot"`, `"vllm"`, `"sglang"` or `"openai-compatible"`; `None`
    detects Moonshot's hosts and otherwise assumes the platform, with a warning."""
    thinking: bool | None = None
    """Switch thinking on/off; `None` keeps the model's default."""
    preserve_thinking: bool = False
    """Keep every earlier turn's reasoning in context (`thinking.keep = "all"`)."""
    reasoning_effort: str | None = None
    """`"low"`, `"high"` or `"max"` on models with effort levels (kimi-k3)."""
    max_tokens: int | None = Field(default=None, alias="max_completion_tokens")
    """Completion token limit, reasoning included."""
    temperature: float | None = None
    """Sampling temperature; omitted unless set (Kimi K-models fix it per thinking state)."""
    top_p: float | None = None
    """Nucleus sampling; omitted unless set."""
    presence_penalty: float | None = None
    """Omitted unless set."""
    frequency_penalty: float | None = None
    """Omitted unless set."""
    stop: list[str] | str | None = Field(default=None, alias="stop_sequences")
    """Stop sequences (at most five, 32 bytes each)."""
    n: int | None = None
    """Answers per request: only 1 (kimi-core returns one answer); omitted unless set."""
    logprobs: bool | None = None
    """Return token log probabilities (in `response_metadata["logprobs"]`)."""
    top_logprobs: int | None = None
    """Alternatives per token (0-20; needs `logprobs`)."""
    safety_identifier: str | None = None
    """A hashed end-user id."""
    web_search_max_rounds: int = 8
    """Round limit of the `$web_search` echo loop."""
    timeout: float | None = None
    """Seconds per request (default: kimi-core's, generous for long reasoning)."""
    max_retries: int = 2
    """Retries of retryable failures; a quota-exhausted 429 is never retried."""
    deadline: float | None = Field(default=None, gt=0)
    """Seconds a whole call may take, retries and streaming included (None: no bound)."""
    streaming: bool = False
    """Stream even for `invoke` (chunks reach callbacks; the result is aggregated linearly)."""
    stream_usage: bool = True
    """Report token usage on the last streamed chunk."""
    coalesce_stream: bool = True
    """Text (or reasoning) events that arrived in one network read come as one chunk, never
    mixing new reasoning with new text (no added latency): from `stream`/`astream`, and to the
    callbacks of a streamed `invoke` (LangGraph's `stream_mode="messages"`); `False`: one chunk
    per server event."""
    prompt_cache_key: str | None = None
    """Stable session or task id that improves prompt-cache hits."""
    prompt_cache_options: Any = None
    """Sent verbatim as `prompt_cache_options` (cache-write TTL `5m`/`1h`); its shape is not
    public, so it is passed through unchecked beyond being JSON."""
    tool_choice_policy: Literal["downgrade", "error"] = "downgrade"
    """When the model rejects a forced `tool_choice` in its thinking state: send `"auto"`, or
    raise `ValueError`."""
    media: MediaPolicy = Field(default_factory=MediaPolicy, exclude=True)
    """How http(s) image/video URLs are fetched (kimi-core `MediaPolicy`): public addresses only
    by default; `allowed_hosts` for your own internal hosts, `download=False` to refuse URLs,
    size and time limits. Per call: `invoke(..., media=MediaPolicy(...))`."""
    sampling_policy: SamplingPolicy = "omit"
    """A sampling value the model cannot take (`temperature=0` on a K-model): leave it out of the
    request (`"omit"`, reported in `response_metadata["adjustments"]`), or raise `ValueError`."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Other request body fields (e.g. `{"top_k": 20}`); per call, `extra_body`. Unknown
    constructor arguments land here with a warning. kimi-core's settings are arguments of their
    own (where they are checked), so they and the fields kimi-core builds itself (`tools`,
    `stream`, ...) are refused here."""
    use_batch_api: bool = False
    """Run `batch()`/`abatch()` through Kimi's Batch API (60 % of the price, results within the
    completion window) instead of concurrent online calls; `invoke` and `stream` stay online."""

    _clients: _ClientCache = PrivateAttr(default_factory=_ClientCache)
    # Sampling values left out of requests that were already warned about (once per instance).
    _sampling_warned: set[str] = PrivateAttr(default_factory=set)

    @model_validator(mode="before")
    @classmethod
    def _build_model_kwargs(cls, values: Any) -> Any:
        """Unknown arguments go to `model_kwargs` (with a warning); close misspellings raise."""
        if isinstance(values, dict):
            return move_unknown_arguments(values, field_names(cls), cls.__name__)
        return values

    @model_validator(mode="after")
    def _resolve_kimi_settings(self) -> Self:
        """Fill the key from the environment and reject impossible knob combinations now."""
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        key, _ = resolve_credentials(key, self.base_url, self.region)
        if self.api_key is None:
            self.api_key = SecretStr(key)
        # Impossible thinking/sampling combinations fail at construction, not at the first call.
        check_thinking_and_sampling(self._settings(None, {}), warned=self._sampling_warned)
        return self

    def __getstate__(self) -> dict[Any, Any]:
        # The key is not pickled, just as dumpd() writes only a reference to MOONSHOT_API_KEY.
        state: dict[Any, Any] = super().__getstate__()
        return {**state, "__dict__": {**state["__dict__"], "api_key": None}}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        # Read from the environment again now, so a missing key fails here, not at the first call.
        try:
            key, _ = resolve_credentials(None, self.base_url, self.region)
        except ValueError as exc:
            msg = (
                "cannot unpickle ChatKimi: its API key is never pickled, so it is read from "
                f"MOONSHOT_API_KEY or KIMI_API_KEY in the unpickling process. {exc}"
            )
            raise ValueError(msg) from exc
        self.api_key = SecretStr(key)

    @model_validator(mode="after")
    def _set_langchain_kimi_version(self) -> Self:
        self._add_version("langchain-kimi", __version__)
        return self

    @property
    def _llm_type(self) -> str:
        return "kimi-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        """Secrets are serialised as references to this environment variable."""
        return {"api_key": "MOONSHOT_API_KEY"}

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """`ChatKimi` can be saved with `dumpd` / loaded with `load`."""
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """The import path used in serialised form: `langchain_kimi.chat_models`."""
        return ["langchain_kimi", "chat_models"]

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "base_url": self.base_url,
            "region": self.region,
            "endpoint": self.endpoint,
            **{name: getattr(self, name) for name in _SETTING_FIELDS if name != "endpoint"},
            "model_kwargs": self.model_kwargs,
        }

    def _resolve_model_profile(self) -> ModelProfile | None:
        profile = get_profile(self.model_name)
        endpoint = get_endpoint(self.endpoint)
        fixed = profile.fixed_sampling(thinking_on=True) or profile.fixed_sampling(False)
        effort: ModelProfile = (
            {"reasoning_effort_default": profile.default_effort} if profile.default_effort else {}
        )
        return ModelProfile(
            **effort,
            max_input_tokens=profile.context_window,
            max_output_tokens=profile.max_output_tokens,
            text_inputs=True,
            image_inputs=profile.image_input,
            # http(s) URLs are downloaded and inlined by kimi-core's media policy.
            image_url_inputs=profile.image_input,
            video_inputs=profile.video_input and endpoint.supports("video"),
            pdf_inputs=False,
            audio_inputs=False,
            reasoning_output=profile.thinking_capable,
            reasoning_effort_levels=list(profile.effort_levels),
            text_outputs=True,
            tool_calling=True,
            tool_choice=True,
            tool_call_streaming=True,
            structured_output=profile.structured_output,
            temperature=fixed is None or not endpoint.fixed_sampling_enforced,
        )

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params: LangSmithParams = {
            "ls_provider": _translator.PROVIDER,
            "ls_model_name": kwargs.get("model", self.model_name),
            "ls_model_type": "chat",
        }
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", kwargs.get("max_completion_tokens", self.max_tokens))
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stops = stop or kwargs.get("stop") or self.stop
        if stops:
            params["ls_stop"] = [stops] if isinstance(stops, str) else list(stops)
        return params

    # -- request ------------------------------------------------------------------------------

    @property
    def client(self) -> KimiClient:
        """The kimi-core client (cheap: clients with equal settings share one connection pool)."""
        return self._client_for({})

    def _client_for(self, kwargs: Mapping[str, Any]) -> KimiClient:
        key = self.api_key.get_secret_value() if self.api_key is not None else None
        timeout = kwargs.get("timeout", self.timeout)
        timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        retries = kwargs.get("max_retries", self.max_retries)
        deadline = kwargs.get("deadline", self.deadline)
        return self._clients.get(
            (key, self.base_url, self.region, timeout, retries, deadline, self.endpoint),
            lambda: KimiClient(
                key,
                self.base_url,
                region=self.region,
                timeout=timeout,
                max_retries=retries,
                deadline=deadline,
                endpoint=self.endpoint,
            ),
        )

    def _settings(self, stop: list[str] | None, kwargs: Mapping[str, Any]) -> ChatSettings:
        values: dict[str, Any] = {name: getattr(self, name) for name in _SETTING_FIELDS}
        settings = ChatSettings(
            **values, model=self.model_name, extra_body=dict(self.model_kwargs) or None
        )
        overrides: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in SETTING_NAMES:
                overrides[key] = value
            elif key == "max_completion_tokens":
                overrides["max_tokens"] = value
            elif key in (*_REQUEST_ARGS, *_CLIENT_ARGS, *BATCH_ARGS, *_CALL_ARGS):
                continue
            elif closest_setting(key):
                # A misspelt setting, not a body field: kimi-core refuses it with the fix.
                overrides[key] = value
            else:
                # LangChain's habit (ChatOpenAI): other per-call kwargs are body fields.
                extra[key] = value
        if extra:
            overrides["extra_body"] = {**extra, **(overrides.get("extra_body") or {})}
        if stop is not None:
            overrides["stop"] = stop
        # LangChain's standard params use [] for "no stop sequences".
        overrides["stop"] = overrides.get("stop", settings.stop) or None
        return apply_overrides(settings, overrides)

    def _request(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None,
        kwargs: Mapping[str, Any],
        *,
        stream: bool,
    ) -> ChatRequest:
        return build_chat_request(
            to_kimi_messages(messages),
            self._settings(stop, kwargs),
            tools=kwargs.get("tools"),
            tool_choice=kwargs.get("tool_choice"),
            response_format=kwargs.get("response_format"),
            stream=stream,
            warned=self._sampling_warned,
        )

    def _indexer(self) -> _translator.BlockIndexer | None:
        return _translator.BlockIndexer() if self.output_version == "v1" else None

    # -- BaseChatModel hooks ------------------------------------------------------------------

    def _should_stream(
        self,
        *,
        async_api: bool,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> bool:
        # stream()/astream() ask with stream=True and go through _stream/_astream. An invoke that
        # langchain-core would stream (streaming=True, a streaming callback handler) is served by
        # _generate instead, which streams and aggregates with kimi-core's linear accumulator
        # rather than langchain-core's pairwise chunk merging.
        return bool(kwargs.get("stream")) and super()._should_stream(
            async_api=async_api, run_manager=run_manager, **kwargs
        )

    def _invoke_streams(
        self,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None,
        kwargs: Mapping[str, Any],
    ) -> bool:
        return super()._should_stream(async_api=False, run_manager=run_manager, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        streams = self._invoke_streams(run_manager, kwargs)
        request = self._request(messages, stop, kwargs, stream=streams)
        with mapped_errors():
            if not streams:
                result = self._client_for(kwargs).complete(request)
                return _chat_result(from_kimi_result(result, adjustments=request.adjustments))
            run_id = f"lc_run-{run_manager.run_id}" if run_manager else None
            usage, v1 = request.settings.stream_usage, self._indexer()
            # Coalesced as in _stream: besides saving a chunk per event, the model then returns to
            # the socket right after the first token, so a thread reading a LangGraph stream gets
            # it at once instead of when the switch interval takes the GIL from this one.
            client = self._client_for(kwargs)
            with client.stream(request, coalesce=self.coalesce_stream) as stream:
                for delta in stream:
                    # Chunks are built only for listeners; kimi-core accumulates the result.
                    if run_manager and run_manager.handlers:
                        chunk = to_chunk(delta, usage=usage, v1=v1, adjustments=request.adjustments)
                        chunk.message.id = run_id
                        run_manager.on_llm_new_token(delta.text or "", chunk=chunk)
            return self._streamed_result(stream.result, run_id, request)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        streams = self._invoke_streams(run_manager, kwargs)
        request = self._request(messages, stop, kwargs, stream=streams)
        with mapped_errors():
            if not streams:
                result = await self._client_for(kwargs).acomplete(request)
                return _chat_result(from_kimi_result(result, adjustments=request.adjustments))
            run_id = f"lc_run-{run_manager.run_id}" if run_manager else None
            usage, v1 = request.settings.stream_usage, self._indexer()
            client = self._client_for(kwargs)
            async with client.astream(request, coalesce=self.coalesce_stream) as stream:
                async for delta in stream:
                    if run_manager and run_manager.handlers:
                        chunk = to_chunk(delta, usage=usage, v1=v1, adjustments=request.adjustments)
                        chunk.message.id = run_id
                        await run_manager.on_llm_new_token(delta.text or "", chunk=chunk)
            return self._streamed_result(stream.result, run_id, request)

    def _streamed_result(
        self,
        result: KimiResult | None,
        run_id: str | None,
        request: ChatRequest,
    ) -> ChatResult:
        if result is None:  # pragma: no cover - kimi-core always ends a stream with its result
            msg = "the stream ended without a result"
            raise RuntimeError(msg)
        message = from_kimi_result(
            result, usage=request.settings.stream_usage, adjustments=request.adjustments
        )
        # Same id as the streamed chunks, so stream consumers (LangGraph) see one message.
        message.id = run_id or message.id
        return _chat_result(message)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs, stream=True)
        usage, v1 = request.settings.stream_usage, self._indexer()
        with (
            mapped_errors(),
            self._client_for(kwargs).stream(request, coalesce=self.coalesce_stream) as stream,
        ):
            for delta in stream:
                chunk = to_chunk(delta, usage=usage, v1=v1, adjustments=request.adjustments)
                if run_manager:
                    run_manager.on_llm_new_token(delta.text or "", chunk=chunk)
                yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request = self._request(messages, stop, kwargs, stream=True)
        usage, v1 = request.settings.stream_usage, self._indexer()
        with mapped_errors():
            async with self._client_for(kwargs).astream(
                request, coalesce=self.coalesce_stream
            ) as stream:
                async for delta in stream:
                    chunk = to_chunk(delta, usage=usage, v1=v1, adjustments=request.adjustments)
                    if run_manager:
                        await run_manager.on_llm_new_token(delta.text or "", chunk=chunk)
                    yield chunk

    # -- tools and structured output ----------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | bool | dict[str, Any] | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (and optionally a `tool_choice`) to the model.

        Args:
            tools: Pydantic models, functions, `BaseTool`s, OpenAI-style tool dicts, and Kimi's
                builtin web search as `{"type": "web_search"}` or the wire dict
                `{"type": "builtin_function", "function": {"name": "$web_search"}}`.
            tool_choice: `"auto"`, `"none"`, `"any"` / `"required"` / `True`, a tool name, or
                `{"type": "function", "function": {"name": ...}}`. Where the model rejects a
                forced choice in its thinking state, `tool_choice_policy` decides.
            strict: Ask the server to validate arguments against the schemas (Kimi's default).
            parallel_tool_calls: Kimi always allows parallel calls; only `None`/`True` accepted.
            **kwargs: Passed to `bind` (e.g. `response_format`).

        Returns:
            A runnable that calls the model with the tools.

        Raises:
            ValueError: `parallel_tool_calls=False`, which Kimi cannot honour.
        """
        if parallel_tool_calls is False:
            msg = (
                "Kimi has no switch to disable parallel tool calls; leave parallel_tool_calls "
                "unset (the model may return several calls in one message)."
            )
            raise ValueError(msg)
        formatted = [tool_to_wire(tool, strict) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = _tool_choice(tool_choice)
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredOutputMethod | None = None,
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """A runnable that returns output shaped like `schema`.

        Args:
            schema: A pydantic class, TypedDict class, JSON schema or OpenAI function dict
                (`json_mode` also works without one).
            method: `"json_schema"` (`response_format` json_schema; the default where the model
                supports it), `"function_calling"` (a tool call; the forced `tool_choice` follows
                `tool_choice_policy` with thinking on) or `"json_mode"` (`json_object`; describe
                the JSON in the prompt).
            include_raw: Return `{"raw": AIMessage, "parsed": ..., "parsing_error": ...}`.
            strict: Ask the server to enforce the schema.
            **kwargs: Not accepted (raises).

        Returns:
            The structured-output runnable.

        Raises:
            ValueError: Unknown arguments, or a method that needs a schema got none.
        """
        if kwargs:
            msg = f"Received unsupported arguments {kwargs}"
            raise ValueError(msg)
        if method is None:
            method = (
                "json_schema"
                if get_profile(self.model_name).structured_output
                else "function_calling"
            )
        if method not in ("json_schema", "function_calling", "json_mode"):
            msg = (
                f"Unknown method {method!r}; use 'json_schema', 'function_calling' or 'json_mode'."
            )
            raise ValueError(msg)
        is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        ls_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
        parser: Runnable[Any, Any]
        llm: Runnable[LanguageModelInput, Any]
        if method == "json_mode":
            llm = self.bind(
                response_format={"type": "json_object"}, ls_structured_output_format=ls_format
            )
            parser = _json_parser(schema)
        elif schema is None:
            msg = f"with_structured_output(method={method!r}) needs a schema."
            raise ValueError(msg)
        elif method == "function_calling":
            name = convert_to_openai_tool(schema)["function"]["name"]
            llm = self.bind_tools(
                [schema], tool_choice=name, strict=strict, ls_structured_output_format=ls_format
            )
            tools_parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)
                if is_pydantic
                else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
            )
            # Where the model cannot be forced to call the tool (kimi-k2.6 thinking), an answer in
            # prose would parse to None: it raises instead, as langchain-anthropic does.
            parser = RunnableLambda(require_tool_call(name)) | tools_parser
        else:
            llm = self.bind(
                response_format=_json_schema_format(schema, strict),
                ls_structured_output_format=ls_format,
            )
            parser = _json_parser(schema)
        if not include_raw:
            return llm | parser
        parser_assign = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
        # The model first: RunnableSequence.batch hands its kwargs (use_batch_api=True) to step one.
        return llm | RunnableMap(raw=RunnablePassthrough()) | with_fallback

    # -- token counting -----------------------------------------------------------------------

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
    ) -> int:
        """Count prompt tokens with Kimi's `/tokenizers/estimate-token-count` endpoint.

        Args:
            messages: The messages to count, converted exactly as for a chat request.
            tools: Tool declarations to include. The endpoint has no `tools` field, so their
                wire JSON is counted as one extra system message: an estimate of what the
                declarations add to the prompt.

        Returns:
            The server's token estimate.
        """
        counted = convert_to_messages(messages)
        if tools:
            declarations = [tool_to_wire(tool, None) for tool in tools]
            counted = [SystemMessage(json.dumps(declarations, ensure_ascii=False)), *counted]
        request = self._request(counted, None, {}, stream=False)
        with mapped_errors():
            return self.client.estimate_tokens(request)

    def get_num_tokens(self, text: str) -> int:
        """Count the tokens of `text` sent as one user message (Kimi's estimate endpoint).

        Args:
            text: The text to count.

        Returns:
            The server's token estimate.
        """
        return self.get_num_tokens_from_messages([HumanMessage(text)])


def _chat_result(message: AIMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)])


def _tool_choice(choice: str | bool | dict[str, Any]) -> str | dict[str, Any]:
    if choice is True or choice == "any":
        return "required"
    if choice is False:
        return "none"
    return choice


def _json_parser(schema: dict[str, Any] | type | None) -> BaseOutputParser[Any]:
    if isinstance(schema, type) and is_basemodel_subclass(schema):
        return PydanticOutputParser(pydantic_object=schema)
    return JsonOutputParser()


def _json_schema_format(schema: dict[str, Any] | type, strict: bool | None) -> dict[str, Any]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        # pydantic v2 keeps $defs; kimi-core's MFJS normalisation handles them.
        name, json_schema = schema.__name__, schema.model_json_schema()
    else:
        # pydantic v1 models, TypedDicts, JSON schemas, OpenAI function dicts.
        function = convert_to_openai_tool(schema)["function"]
        name, json_schema = function["name"], convert_to_json_schema(schema)
    spec: dict[str, Any] = {"name": name, "schema": json_schema}
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}
