"""kimi-core: the framework-free Moonshot Kimi wire layer.

Neutral messages in, validated wire bodies out; Kimi's responses and streams back into neutral
results. ``langchain-kimi`` and ``llama-index-llms-kimi`` are thin translations onto this layer.
"""

from kimi_core.batch import BatchPolling
from kimi_core.batch_inputs import BatchInputs, raise_first_error
from kimi_core.batch_job import BatchJob, BatchProgress
from kimi_core.batch_lines import BatchObject, BatchRequestError
from kimi_core.batch_progress import ProgressOption, progress_callback
from kimi_core.chat_stream import AsyncChatStream, ChatStream
from kimi_core.client import DEFAULT_TIMEOUT, KimiClient
from kimi_core.convert import REASONING_PLACEHOLDER, messages_to_wire, tools_to_wire
from kimi_core.endpoints import (
    ENDPOINTS,
    EndpointAssumedWarning,
    EndpointProfile,
    UnsupportedFeatureError,
    get_endpoint,
)
from kimi_core.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ContentFilterError,
    ContextOverflowError,
    DeadlineExceededError,
    EmptyAnswerError,
    EngineOverloadedError,
    IncompleteStreamError,
    InvalidRequestError,
    KimiError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    ServerError,
    WebSearchLoopError,
)
from kimi_core.files import FileObject, ms_url
from kimi_core.formulas import FormulaResult, FormulaToolset
from kimi_core.managed import MANAGED_BODY_FIELDS, check_extra_body
from kimi_core.media import MediaPolicy
from kimi_core.messages import (
    WEB_SEARCH,
    BuiltinTool,
    ContentPart,
    FunctionTool,
    ImagePart,
    Message,
    Role,
    TextPart,
    Tool,
    ToolCall,
    VideoPart,
    is_builtin_name,
)
from kimi_core.pricing import estimate_cost
from kimi_core.profiles import (
    PROFILES,
    FixedSampling,
    ModelProfile,
    ToolChoiceRules,
    get_profile,
    refresh_profiles_from_models,
)
from kimi_core.request import (
    ChatRequest,
    ChatSettings,
    build_chat_request,
    check_thinking_and_sampling,
)
from kimi_core.response import ChatResult, Usage, WebSearch, parse_completion
from kimi_core.retry import RetryPolicy
from kimi_core.sampling import SamplingPolicy, check_sampling, fit_sampling
from kimi_core.schema import normalize_schema
from kimi_core.settings import SETTING_NAMES, apply_overrides, closest_setting
from kimi_core.stream import StreamAccumulator, StreamDelta, ToolCallChunk
from kimi_core.thinking import ThinkingState, resolve_thinking
from kimi_core.transport import CN_BASE_URL, DEFAULT_BASE_URL, resolve_credentials
from kimi_core.web_search import WebSearchLoop

__all__ = [
    "CN_BASE_URL",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "ENDPOINTS",
    "MANAGED_BODY_FIELDS",
    "PROFILES",
    "REASONING_PLACEHOLDER",
    "SETTING_NAMES",
    "WEB_SEARCH",
    "APIConnectionError",
    "APITimeoutError",
    "AsyncChatStream",
    "AuthenticationError",
    "BatchInputs",
    "BatchJob",
    "BatchObject",
    "BatchPolling",
    "BatchProgress",
    "BatchRequestError",
    "BuiltinTool",
    "ChatRequest",
    "ChatResult",
    "ChatSettings",
    "ChatStream",
    "ContentFilterError",
    "ContentPart",
    "ContextOverflowError",
    "DeadlineExceededError",
    "EmptyAnswerError",
    "EndpointAssumedWarning",
    "EndpointProfile",
    "EngineOverloadedError",
    "FileObject",
    "FixedSampling",
    "FormulaResult",
    "FormulaToolset",
    "FunctionTool",
    "ImagePart",
    "IncompleteStreamError",
    "InvalidRequestError",
    "KimiClient",
    "KimiError",
    "MalformedResponseError",
    "MediaPolicy",
    "Message",
    "ModelProfile",
    "NotFoundError",
    "PermissionDeniedError",
    "ProgressOption",
    "QuotaExhaustedError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Role",
    "SamplingPolicy",
    "ServerError",
    "StreamAccumulator",
    "StreamDelta",
    "TextPart",
    "ThinkingState",
    "Tool",
    "ToolCall",
    "ToolCallChunk",
    "ToolChoiceRules",
    "UnsupportedFeatureError",
    "Usage",
    "VideoPart",
    "WebSearch",
    "WebSearchLoop",
    "WebSearchLoopError",
    "apply_overrides",
    "build_chat_request",
    "check_extra_body",
    "check_sampling",
    "check_thinking_and_sampling",
    "closest_setting",
    "estimate_cost",
    "fit_sampling",
    "get_endpoint",
    "get_profile",
    "is_builtin_name",
    "messages_to_wire",
    "ms_url",
    "normalize_schema",
    "parse_completion",
    "progress_callback",
    "raise_first_error",
    "refresh_profiles_from_models",
    "resolve_credentials",
    "resolve_thinking",
    "tools_to_wire",
]
