"""``Kimi``: Moonshot AI's Kimi models as a LlamaIndex ``FunctionCallingLLM``."""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from kimi_core import (
    DEFAULT_TIMEOUT,
    SETTING_NAMES,
    WEB_SEARCH,
    ChatRequest,
    ChatResult,
    ChatSettings,
    KimiClient,
    MediaPolicy,
    SamplingPolicy,
    Tool,
    apply_overrides,
    build_chat_request,
    check_thinking_and_sampling,
    get_profile,
)
from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.bridge.pydantic import (
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    model_validator,
)
from llama_index.core.constants import DEFAULT_NUM_OUTPUTS

# Re-exported by llama_index.core.instrumentation without __all__, hence the ignore.
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.types import PydanticProgramMode
from llama_index.llms.kimi._batch import BatchMixin
from llama_index.llms.kimi._convert import (
    from_kimi_result,
    response_kwargs,
    response_logprobs,
    response_raw,
    to_kimi_messages,
    to_kimi_tools,
)
from llama_index.llms.kimi._documents import DocumentExtractor, has_documents
from llama_index.llms.kimi._stream import StreamAssembler
from llama_index.llms.kimi._structured import (
    astream_function_object,
    no_tool_call_error,
    stream_function_object,
)
from pydantic import AliasChoices

if TYPE_CHECKING:
    from kimi_core import ModelProfile
    from llama_index.core.program.utils import FlexibleModel
    from llama_index.core.prompts import PromptTemplate
    from llama_index.core.tools.types import BaseTool
    from llama_index.core.types import Model

__all__ = ["Kimi"]

dispatcher = get_dispatcher(__name__)

_DEFAULT_MODEL = ChatSettings.model
# The settings that are fields of the same name here (extra_body is additional_kwargs, as in
# OpenAILike); per call, every setting is accepted under its own name.
_SETTING_FIELDS = tuple(name for name in SETTING_NAMES if name != "extra_body")
# Per-call keyword arguments that are not settings.
_REQUEST_KWARGS = frozenset({"tools", "tool_choice", "response_format", "web_search"})


class Kimi(BatchMixin, FunctionCallingLLM):
    """Moonshot AI's Kimi chat models (``kimi-k2.6``, ``kimi-k3``, ...) for LlamaIndex.

    A drop-in replacement for ``OpenAILike`` pointed at Moonshot: thinking is exposed as
    ``ThinkingBlock`` (and ``thinking_delta`` while streaming) and sent back as
    ``reasoning_content`` where Kimi requires it, the builtin ``$web_search`` runs inside the call,
    and every Kimi rule (fixed sampling, ``tool_choice`` under thinking, schemas, media) is applied
    by ``kimi-core`` before a request is sent.

    Examples:
        ```python
        from llama_index.llms.kimi import Kimi

        llm = Kimi(model="kimi-k2.6")  # key from MOONSHOT_API_KEY or KIMI_API_KEY
        print(llm.complete("Say hi").text)
        ```

    Args:
        model: Model id; capabilities come from kimi-core's profile table.
        api_key: Defaults to ``MOONSHOT_API_KEY``, then ``KIMI_API_KEY`` (never ``OPENAI_API_KEY``).
        base_url: Defaults to ``MOONSHOT_BASE_URL`` / ``KIMI_BASE_URL`` / the global endpoint.
        region: ``"global"`` or ``"cn"`` instead of ``base_url``.
        endpoint: The server kind: ``"moonshot"``, ``"vllm"``, ``"sglang"`` or
            ``"openai-compatible"``; None detects Moonshot's hosts and otherwise assumes the
            platform, with a warning.
        thinking: True/False switches thinking; None keeps the model's default.
        preserve_thinking: Keep every earlier turn's reasoning in context (``thinking.keep="all"``).
        reasoning_effort: ``"low"``, ``"high"`` or ``"max"`` on models with effort levels (K3).
        max_tokens: Completion limit, reasoning included.
        temperature: Only sent when set; checked against the model's fixed value.
        top_p: Only sent when set; checked like ``temperature``.
        presence_penalty: Only sent when set; checked like ``temperature``.
        frequency_penalty: Only sent when set; checked like ``temperature``.
        stop: Stop sequence(s): at most 5, each at most 32 bytes.
        logprobs: Return token log probabilities (``ChatResponse.logprobs``).
        top_logprobs: Alternatives per token (0-20; needs ``logprobs``).
        n: Answers per request; kimi-core returns one, so only 1 (omitted unless set).
        safety_identifier: A hashed end-user id.
        stream_usage: Ask for the trailing usage chunk when streaming.
        web_search_max_rounds: Round limit of the ``$web_search`` echo loop.
        timeout: Seconds per request.
        deadline: Seconds a whole call may take, retries and streaming included (default None:
            no bound); ``kimi_core.DeadlineExceededError`` when passed.
        max_retries: Retries of retryable failures (one retry layer, in kimi-core).
        prompt_cache_key: A stable session id that improves prompt-cache hits.
        prompt_cache_options: Sent verbatim as ``prompt_cache_options`` (cache-write TTL ``5m`` /
            ``1h``); a pass-through, as the field's shape is not public.
        tool_choice_policy: When the model rejects a forced ``tool_choice`` (``tool_required``,
            a named tool) in its thinking state: ``"downgrade"`` sends ``"auto"``, ``"error"``
            raises ``ValueError`` before the request.
        sampling_policy: A sampling value the model cannot take (``temperature=0`` on a K-model,
            a habit of other providers): ``"omit"`` leaves it out of the request, with a warning
            and an entry in ``ChatResponse.additional_kwargs["adjustments"]``; ``"error"``
            raises ``ValueError``.
        web_search: Declare Kimi's builtin ``$web_search`` on every call; the search rounds run
            inside the call, so agents never see a ``$web_search`` tool call.
        documents: ``"file-extract"`` uploads each ``DocumentBlock`` once to the Files API and
            sends its extracted text in its place; ``"error"`` (default) refuses them.
        additional_kwargs: Extra top-level body fields (an escape hatch, sent as given; a field
            a setting sends, or a setting's name, is refused). Per call: ``extra_body``.
        default_headers: Extra HTTP headers on every request.
        coalesce_stream: While streaming, text (or reasoning) events that arrived in the same
            network read come as one response. Nothing waits for more bytes, so this adds no
            latency; since every response carries the whole message so far, it keeps a long
            answer from being copied once per token. False gives one response per server event.
        media: How http(s) image/video URLs are fetched (``kimi_core.MediaPolicy``): public
            addresses only by default; ``allowed_hosts`` for your own internal hosts,
            ``download=False`` to refuse URLs, size and time limits. Also per call
            (``llm.chat(messages, media=MediaPolicy(...))``). Not serialized (it may hold hooks).
    """

    # Knobs set after construction (llm.thinking = False) are checked and applied like the
    # constructor's, instead of leaving a stale request setup behind. Unknown arguments (e.g.
    # OpenAILike's is_function_calling_model, which Kimi takes from its profile) are refused
    # rather than silently ignored.
    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    model: str = Field(default=_DEFAULT_MODEL, description="The Kimi model id.")
    api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)
    base_url: str | None = Field(
        default=None,
        description="API base URL.",
        # OpenAILike's name, so that swapping the class keeps a custom endpoint.
        validation_alias=AliasChoices("base_url", "api_base"),
    )
    region: Literal["global", "cn"] | None = Field(default=None, description="API region.")
    endpoint: str | None = Field(
        default=None,
        description="Server kind: 'moonshot', 'vllm', 'sglang' or 'openai-compatible'.",
    )
    thinking: bool | None = Field(default=None, description="Switch thinking on/off.")
    preserve_thinking: bool = Field(default=False, description="Preserve earlier reasoning.")
    reasoning_effort: str | None = Field(default=None, description="K3 reasoning depth.")
    max_tokens: int | None = Field(default=None, description="Completion limit.", gt=0)
    temperature: float | None = Field(default=None, description="Sampling temperature.")
    top_p: float | None = Field(default=None, description="Nucleus sampling.")
    presence_penalty: float | None = Field(default=None, description="Presence penalty.")
    frequency_penalty: float | None = Field(default=None, description="Frequency penalty.")
    stop: str | list[str] | None = Field(default=None, description="Stop sequence(s).")
    logprobs: bool | None = Field(default=None, description="Return token log probabilities.")
    top_logprobs: int | None = Field(default=None, description="Alternatives per token (0-20).")
    n: int | None = Field(default=None, description="Answers per request (only 1).")
    safety_identifier: str | None = Field(default=None, description="A hashed end-user id.")
    stream_usage: bool = Field(default=True, description="Ask for usage when streaming.")
    web_search_max_rounds: int = Field(
        default=8, description="Round limit of the $web_search echo loop.", ge=1
    )
    timeout: float = Field(default=DEFAULT_TIMEOUT, description="Seconds per request.", gt=0)
    max_retries: int = Field(default=2, description="Retries of retryable failures.", ge=0)
    deadline: float | None = Field(
        default=None, description="Seconds a whole call may take (None: no bound).", gt=0
    )
    prompt_cache_key: str | None = Field(default=None, description="Prompt-cache session id.")
    prompt_cache_options: Any = Field(
        default=None,
        description="Sent verbatim as prompt_cache_options (cache-write TTL); shape not public.",
    )
    tool_choice_policy: Literal["downgrade", "error"] = Field(
        default="downgrade",
        description="A forced tool_choice the model rejects: send 'auto', or raise.",
    )
    sampling_policy: SamplingPolicy = Field(
        default="omit",
        description="A sampling value the model cannot take: leave it out, or raise.",
    )
    web_search: bool = Field(default=False, description="Declare the builtin $web_search.")
    documents: Literal["error", "file-extract"] = Field(
        default="error", description="How DocumentBlocks are sent: refused, or extracted."
    )
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra body fields sent as given."
    )
    default_headers: dict[str, str] | None = Field(default=None, exclude=True, repr=False)
    coalesce_stream: bool = Field(
        default=True, description="Merge stream events that arrived in one network read."
    )
    media: MediaPolicy = Field(
        default_factory=MediaPolicy,
        exclude=True,
        description="How http(s) image/video URLs are fetched (kimi-core MediaPolicy).",
    )

    _client: KimiClient = PrivateAttr()
    _extractor: DocumentExtractor = PrivateAttr(default_factory=DocumentExtractor)
    # Sampling values left out, already warned about: validate_assignment re-runs the check.
    _sampling_warned: set[str] = PrivateAttr(default_factory=set)

    @model_validator(mode="after")
    def _resolve(self) -> Kimi:
        """Validate the knobs with kimi-core and build the (shared-pool) client."""
        check_thinking_and_sampling(self._settings(), warned=self._sampling_warned)
        self._client = KimiClient(
            api_key=self.api_key.get_secret_value() if self.api_key else None,
            base_url=self.base_url,
            region=self.region,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            deadline=self.deadline,
            endpoint=self.endpoint,
        )
        return self

    def _settings(self, kwargs: Mapping[str, Any] | None = None) -> ChatSettings:
        # Built per call from the current field values, so later assignments take effect.
        values = {name: getattr(self, name) for name in _SETTING_FIELDS}
        settings = ChatSettings(**values, extra_body=dict(self.additional_kwargs) or None)
        overrides = {k: v for k, v in (kwargs or {}).items() if k not in _REQUEST_KWARGS}
        return apply_overrides(settings, overrides)

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Kimi:
        # kimi-core refuses to copy a client that holds a key; the copy shares the client, which
        # is stateless apart from the connection pools equal clients share anyway.
        clone = self.model_copy()
        memo = {} if memo is None else memo
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            object.__setattr__(clone, name, copy.deepcopy(value, memo))
        return clone

    def __getstate__(self) -> dict[str, Any]:
        # Neither the key nor the client holding it is pickled, just as to_dict() leaves the key
        # out; dropping the client here also spares LlamaIndex's "unpickleable" warning.
        clone = self.model_copy()
        clone.__dict__.pop("api_key", None)
        clone.__pydantic_private__ = {
            name: value
            for name, value in (clone.__pydantic_private__ or {}).items()
            if name != "_client"
        }
        state: dict[str, Any] = super(Kimi, clone).__getstate__()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Rebuilt by __init__, which reads the key from the environment again (like from_dict).
        # A failure is raised, not swallowed into a client-less object as BaseComponent would.
        try:
            type(self).__init__(self, **state["__dict__"])
        except ValueError as exc:
            raise ValueError(
                f"cannot unpickle Kimi: its API key is never pickled, so it is read from "
                f"MOONSHOT_API_KEY or KIMI_API_KEY in the unpickling process. {exc}"
            ) from exc

    @classmethod
    def class_name(cls) -> str:
        """Stable name used in serialization and instrumentation payloads."""
        return "Kimi_LLM"

    @property
    def profile(self) -> ModelProfile:
        """kimi-core's capability profile of :attr:`model`."""
        return get_profile(self.model)

    @property
    def client(self) -> KimiClient:
        """The kimi-core client (connection pools are shared between equal clients)."""
        return self._client

    @property
    def metadata(self) -> LLMMetadata:
        """Context window and output size from kimi-core's profile; function calling, chat."""
        profile = self.profile
        return LLMMetadata(
            context_window=profile.context_window,
            num_output=self.max_tokens or profile.default_max_tokens or DEFAULT_NUM_OUTPUTS,
            is_chat_model=True,
            is_function_calling_model=True,
            model_name=self.model,
        )

    # -- request building --------------------------------------------------------------------

    def _request(
        self, messages: Sequence[ChatMessage], *, stream: bool, **kwargs: Any
    ) -> ChatRequest:
        settings = self._settings(kwargs)
        tools: list[Tool] = list(kwargs.get("tools") or ())
        if kwargs.get("web_search", self.web_search) and WEB_SEARCH not in tools:
            tools.append(WEB_SEARCH)
        return build_chat_request(
            to_kimi_messages(messages),
            settings,
            tools=tools or None,
            tool_choice=kwargs.get("tool_choice"),
            response_format=kwargs.get("response_format"),
            stream=stream,
            warned=self._sampling_warned,
        )

    def _documents(self, messages: Sequence[ChatMessage]) -> Sequence[ChatMessage]:
        if self.documents == "file-extract" and has_documents(messages):
            return self._extractor.extract(messages, self._client)
        return messages

    async def _adocuments(self, messages: Sequence[ChatMessage]) -> Sequence[ChatMessage]:
        if self.documents == "file-extract" and has_documents(messages):
            return await self._extractor.aextract(messages, self._client)
        return messages

    def _chat_response(self, result: ChatResult, request: ChatRequest | None) -> ChatResponse:
        # A batch job collected in another process no longer has its requests (no adjustments).
        return ChatResponse(
            message=from_kimi_result(result),
            raw=response_raw(result),
            additional_kwargs=response_kwargs(result, request.adjustments if request else ()),
            logprobs=response_logprobs(result),
        )

    # -- chat ----------------------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Send the conversation and return the answer (thinking, text, tool calls, usage)."""
        request = self._request(self._documents(messages), stream=False, **kwargs)
        return self._chat_response(self._client.complete(request), request)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`."""
        request = self._request(await self._adocuments(messages), stream=False, **kwargs)
        return self._chat_response(await self._client.acomplete(request), request)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer.

        Every response holds the message so far (thinking, text, tool calls), ``delta`` the new
        text and ``additional_kwargs["thinking_delta"]`` the new reasoning. With
        ``coalesce_stream`` (the default), events that arrived in one network read come as one
        response.
        """
        request = self._request(self._documents(messages), stream=True, **kwargs)
        client, coalesce = self._client, self.coalesce_stream

        def gen() -> ChatResponseGen:
            assembler = StreamAssembler(request.adjustments)
            with client.stream(request, coalesce=coalesce) as stream:
                for delta in stream:
                    yield assembler.feed(delta)

        return gen()

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`."""
        request = self._request(await self._adocuments(messages), stream=True, **kwargs)
        client, coalesce = self._client, self.coalesce_stream

        async def gen() -> ChatResponseAsyncGen:
            assembler = StreamAssembler(request.adjustments)
            async with client.astream(request, coalesce=coalesce) as stream:
                async for delta in stream:
                    yield assembler.feed(delta)

        return gen()

    # -- completion (Kimi has no completions endpoint: everything goes through chat) -----------

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Complete a prompt, sent as one user message."""
        return chat_to_completion_decorator(self.chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        return await achat_to_completion_decorator(self.achat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream a completion of a prompt, sent as one user message."""
        return stream_chat_to_completion_decorator(self.stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        return await astream_chat_to_completion_decorator(self.astream_chat)(prompt, **kwargs)

    # -- tools ---------------------------------------------------------------------------------

    def _prepare_chat_with_tools(  # noqa: PLR0917 (FunctionCallingLLM's signature)
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Build ``chat`` kwargs for a tool call; the caller's ``chat_history`` is not modified.

        ``tool_required`` asks for ``tool_choice="required"``; kimi-core downgrades it to
        ``"auto"`` where the model rejects forced choices (e.g. kimi-k2.6 while thinking).
        """
        messages = list(chat_history or [])
        if isinstance(user_msg, str):
            user_msg = ChatMessage(role=MessageRole.USER, content=user_msg)
        if user_msg is not None:
            messages.append(user_msg)
        kimi_tools = to_kimi_tools(tools, strict=strict)
        if tool_choice is None and tool_required and kimi_tools:
            tool_choice = "required"
        return {"messages": messages, "tools": kimi_tools, "tool_choice": tool_choice, **kwargs}

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence[BaseTool],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        """Keep only the first tool call unless parallel calls were allowed (Kimi has no flag)."""
        if not allow_parallel_tool_calls:
            blocks = response.message.blocks
            calls = [b for b in blocks if isinstance(b, ToolCallBlock)]
            if len(calls) > 1:
                response.message.blocks = [
                    b for b in blocks if not isinstance(b, ToolCallBlock) or b is calls[0]
                ]
        return response

    def get_tool_calls_from_response(
        self,
        response: ChatResponse,
        error_on_no_tool_call: bool = True,
        **kwargs: Any,
    ) -> list[ToolSelection]:
        """Tool calls of a response or a streamed chunk.

        A chunk's arguments still arriving are parsed leniently (partial JSON). In a finished
        answer (``finish_reason`` set) arguments were parsed already; a string left there is
        invalid JSON (e.g. cut off by ``max_tokens``) and is not guessed at: the call gets no
        arguments, so the tool fails visibly, and the raw text stays in the ``ToolCallBlock``.
        """
        finished = "finish_reason" in response.additional_kwargs
        selections = []
        for block in response.message.blocks:
            if not isinstance(block, ToolCallBlock):
                continue
            arguments = block.tool_kwargs
            if isinstance(arguments, str):
                try:
                    arguments = parse_partial_json(arguments) if arguments and not finished else {}
                except ValueError:
                    arguments = {}
            selections.append(
                ToolSelection(
                    tool_id=block.tool_call_id or "",
                    tool_name=block.tool_name,
                    tool_kwargs=arguments if isinstance(arguments, dict) else {},
                )
            )
        if not selections and error_on_no_tool_call:
            raise no_tool_call_error(response)
        return selections

    # -- structured output -------------------------------------------------------------------

    def _uses_json_schema(self) -> bool:
        return (
            self.pydantic_program_mode == PydanticProgramMode.DEFAULT
            and self.profile.structured_output
        )

    def _schema_kwargs(
        self, llm_kwargs: dict[str, Any] | None, output_cls: type[Model]
    ) -> dict[str, Any]:
        kwargs = {k: v for k, v in (llm_kwargs or {}).items() if k != "tool_choice"}
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": output_cls.__name__, "schema": output_cls.model_json_schema()},
        }
        return kwargs

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Predict an ``output_cls`` instance.

        Uses ``response_format`` ``json_schema`` where the model supports it, otherwise function
        calling (kimi-core drops the forced ``tool_choice`` where the model rejects it).
        """
        if not self._uses_json_schema():
            # Function calling with tool_required=True; kimi-core turns "required" into "auto"
            # where the model rejects forced choices.
            predicted: Model = super().structured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
            return predicted
        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        response = self.chat(messages, **self._schema_kwargs(llm_kwargs, output_cls))
        return _parse(output_cls, response)

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async :meth:`structured_predict`."""
        if not self._uses_json_schema():
            predicted: Model = await super().astructured_predict(
                output_cls, prompt, llm_kwargs, **prompt_args
            )
            return predicted
        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        response = await self.achat(messages, **self._schema_kwargs(llm_kwargs, output_cls))
        return _parse(output_cls, response)

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]:
        if not self._uses_json_schema():
            yield from stream_function_object(self, output_cls, prompt, llm_kwargs, prompt_args)
            return
        from llama_index.core.program.streaming_utils import (
            process_streaming_content_incremental,
        )

        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        current = None
        for response in self.stream_chat(messages, **self._schema_kwargs(llm_kwargs, output_cls)):
            current = process_streaming_content_incremental(response, output_cls, current)
            yield current

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
        if not self._uses_json_schema():
            return astream_function_object(self, output_cls, prompt, llm_kwargs, prompt_args)
        from llama_index.core.program.streaming_utils import (
            process_streaming_content_incremental,
        )

        messages = self._extend_messages(prompt.format_messages(**prompt_args))
        kwargs = self._schema_kwargs(llm_kwargs, output_cls)

        async def gen() -> AsyncGenerator[
            Model | list[Model] | FlexibleModel | list[FlexibleModel], None
        ]:
            current = None
            async for response in await self.astream_chat(messages, **kwargs):
                current = process_streaming_content_incremental(response, output_cls, current)
                yield current

        return gen()

    def to_payload(self) -> dict[str, Any]:
        """Instrumentation payload: model and knobs, never the key or headers."""
        return {
            **super().to_payload(),
            "thinking": self.thinking,
            "preserve_thinking": self.preserve_thinking,
            "reasoning_effort": self.reasoning_effort,
            "web_search": self.web_search,
            "base_url": self._client.base_url,
        }


def _parse(output_cls: type[Model], response: ChatResponse) -> Model:
    parsed: Model = output_cls.model_validate_json(response.message.content or "")
    return parsed
