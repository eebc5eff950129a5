"""The public surface is pinned: adapters code against exactly these names."""

from __future__ import annotations

import subprocess
import sys

import kimi_core

PUBLIC = {
    "APIConnectionError", "APITimeoutError", "AsyncChatStream", "AuthenticationError",
    "BatchInputs", "BatchJob", "BatchObject", "BatchPolling", "BatchProgress", "BatchRequestError",
    "BuiltinTool", "CN_BASE_URL", "ChatRequest", "ChatResult", "ChatSettings", "ChatStream",
    "ContentFilterError", "ContentPart", "ContextOverflowError", "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT", "EngineOverloadedError", "FileObject", "FixedSampling", "FormulaResult",
    "FormulaToolset", "FunctionTool", "ImagePart", "IncompleteStreamError", "InvalidRequestError",
    "KimiClient", "KimiError", "MalformedResponseError", "MediaPolicy", "Message", "ModelProfile",
    "NotFoundError", "PROFILES", "PermissionDeniedError", "QuotaExhaustedError", "RateLimitError",
    "REASONING_PLACEHOLDER", "RetryPolicy", "SamplingPolicy", "ServerError", "StreamAccumulator",
    "StreamDelta",
    "TextPart", "ThinkingState", "Tool", "ToolCall", "ToolCallChunk", "ToolChoiceRules", "Usage",
    "VideoPart", "WEB_SEARCH", "WebSearch", "WebSearchLoop", "WebSearchLoopError",
    "build_chat_request", "check_sampling", "check_thinking_and_sampling", "estimate_cost",
    "fit_sampling", "get_profile", "messages_to_wire", "ms_url", "normalize_schema",
    "parse_completion",
    "refresh_profiles_from_models", "resolve_thinking", "tools_to_wire",
    "DeadlineExceededError", "RedirectError", "ResponseTooLargeError",
    # endpoint profiles (issue 16)
    "ENDPOINTS", "EmptyAnswerError", "EndpointAssumedWarning", "EndpointProfile",
    "UnsupportedFeatureError", "get_endpoint",
    # one settings vocabulary; what the adapters used to import from private modules (issue 17)
    "MANAGED_BODY_FIELDS", "SETTING_NAMES", "apply_overrides", "check_extra_body",
    "closest_setting", "is_builtin_name", "ProgressOption", "Role", "progress_callback",
    "raise_first_error",
    "resolve_credentials",
}  # fmt: skip


def test_all_is_pinned():
    assert set(kimi_core.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(kimi_core, name) is not None


def test_errors_share_one_base():
    for name in PUBLIC:
        obj = getattr(kimi_core, name)
        if isinstance(obj, type) and name.endswith("Error"):
            assert issubclass(obj, kimi_core.KimiError)


def test_import_does_not_load_the_openai_sdk():
    # The SDK costs most of a cold import; it is loaded only when a client first sends.
    code = "import sys, kimi_core; print('openai' in sys.modules, 'pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
