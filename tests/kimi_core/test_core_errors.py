"""Error classification: every documented status/type/wording maps to one typed error."""

from __future__ import annotations

import kimi_core
import pytest
from kimi_core import ChatSettings, Message, build_chat_request
from kimi_core.errors import error_from_body, parse_retry_after


def _body(etype: str | None, message: str) -> dict:
    error = {"message": message}
    if etype:
        error["type"] = etype
    return {"error": error}


@pytest.mark.parametrize(
    ("status", "etype", "message", "cls", "retryable"),
    [
        (400, "content_filter", "The request was rejected because it was considered high risk",
         kimi_core.ContentFilterError, False),
        (400, "invalid_request_error",
         "Invalid request: Your request exceeded model token limit: 262144 (requested: 291351)",
         kimi_core.ContextOverflowError, False),
        (400, "invalid_request_error", "Input token length too long",
         kimi_core.ContextOverflowError, False),
        (400, "invalid_request_error", "invalid temperature: only 1 is allowed for this model",
         kimi_core.InvalidRequestError, False),
        (401, "invalid_authentication_error", "Invalid Authentication",
         kimi_core.AuthenticationError, False),
        (401, "incorrect_api_key_error", "Incorrect API key provided",
         kimi_core.AuthenticationError, False),
        (403, "permission_denied_error", "not available", kimi_core.PermissionDeniedError, False),
        (404, "resource_not_found_error", "Not found the model x or Permission denied",
         kimi_core.NotFoundError, False),
        (429, "engine_overloaded_error", "The engine is currently overloaded",
         kimi_core.EngineOverloadedError, True),
        (429, "rate_limit_reached_error", "request reached organization max RPM: 3",
         kimi_core.RateLimitError, True),
        (429, "exceeded_current_quota_error", "You exceeded your current token quota",
         kimi_core.QuotaExhaustedError, False),
        # kimi-code's rule: a 429 worded as a balance problem is quota, whatever its type says.
        (429, "rate_limit_reached_error", "insufficient balance, please recharge your account",
         kimi_core.QuotaExhaustedError, False),
        (500, "server_error", "Failed to extract file", kimi_core.ServerError, True),
        (500, "unexpected_output", "invalid state transition", kimi_core.ServerError, True),
        (503, "server_unavailable", "", kimi_core.ServerError, True),
        (None, "server_error", "Stream failed", kimi_core.ServerError, True),
        (None, None, "Message-only stream failure", kimi_core.ServerError, True),
    ],
)  # fmt: skip
def test_error_classes(status, etype, message, cls, retryable):
    error = error_from_body(status, _body(etype, message))
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.status == status
    assert error.error_type == etype


def test_html_gateway_timeout_keeps_the_text():
    error = error_from_body(504, "<html><body>504 Gateway Time-out</body></html>")
    assert isinstance(error, kimi_core.ServerError)
    assert "504 Gateway Time-out" in error.message


def test_headers_give_request_id_and_retry_after():
    headers = {"msh-request-id": "req-1", "retry-after": "2"}
    error = error_from_body(429, _body("engine_overloaded_error", "busy"), headers=headers)
    assert (error.request_id, error.retry_after) == ("req-1", 2.0)
    assert "req-1" in str(error)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_not_found_names_replacement_only_for_retired_models():
    retired = error_from_body(404, _body("resource_not_found_error", "Not found the model "
                                         "moonshot-v1-8k or Permission denied"))  # fmt: skip
    assert "moonshot-v1-8k was retired on 2026-08-31; use 'kimi-k2.6' instead" in retired.message
    unknown = error_from_body(404, _body("resource_not_found_error", "Not found the model zz"))
    assert unknown.message == "Not found the model zz"


def test_context_overflow_from_the_server(client):
    long_prompt = "word " * 2000
    request = build_chat_request(
        [Message.user(long_prompt)], ChatSettings(max_tokens=get_limit("kimi-k2.6"))
    )
    with pytest.raises(kimi_core.ContextOverflowError, match="token limit"):
        client.complete(request)


def get_limit(model: str) -> int:
    return kimi_core.get_profile(model).max_output_tokens


def test_rate_limit_wording_gives_retry_after_without_a_header():
    message = (
        "Your account org-1<ak-1> request reached organization max RPM: 3, please try again "
        "after 2 seconds"
    )
    error = error_from_body(429, _body("rate_limit_reached_error", message))
    assert error.retry_after == 2.0
    headers = {"retry-after": "5"}
    assert (
        error_from_body(
            429, _body("rate_limit_reached_error", message), headers=headers
        ).retry_after
        == 5.0
    )


@pytest.mark.parametrize("data", [{}, {"data": []}, {"data": {"total_tokens": "9"}}, [], None])
def test_malformed_token_estimate(data):
    from kimi_core.tokens import total_tokens

    with pytest.raises(kimi_core.MalformedResponseError, match="total_tokens"):
        total_tokens(data)
