"""Odd request bodies never crash the server: every answer is a 200 or a 4xx JSON error envelope."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_scalars = (
    st.none() | st.booleans() | st.integers(-5, 300_000) | st.floats(-2, 2) | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
roles = st.sampled_from(["system", "user", "assistant", "tool", "developer", 7])
parts = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "video_url", "file", "weird"])},
    optional={
        "text": json_values,
        "image_url": st.fixed_dictionaries(
            {"url": st.sampled_from(["data:image/png;base64,AA", "ms://nope", "http://x", 3])}
        ),
        "video_url": json_values,
    },
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": roles},
        optional={
            "content": st.none() | st.text(max_size=20) | st.lists(parts, max_size=2),
            "reasoning_content": st.none() | st.text(max_size=5),
            "tool_calls": st.lists(
                st.fixed_dictionaries(
                    {"id": st.text(max_size=5), "type": st.just("function")},
                    optional={
                        "function": st.fixed_dictionaries(
                            {"name": json_values, "arguments": json_values}
                        )
                    },
                ),
                max_size=2,
            ),
            "tool_call_id": json_values,
            "name": json_values,
            "partial": st.booleans(),
        },
    ),
    max_size=4,
)
bodies = st.fixed_dictionaries(
    {
        "model": st.sampled_from(
            [
                "kimi-k2.6",
                "kimi-k2.7-code",
                "kimi-k3",
                "nope",
                "kimi-k2.5",
                "moonshot-v1-8k",
                "moonshot-v1-8k-vision-preview",
            ]
        ),
        "messages": messages | json_values,
    },
    optional={
        "stream": st.booleans(),
        "thinking": json_values
        | st.fixed_dictionaries({"type": st.sampled_from(["enabled", "disabled"])}),
        "temperature": json_values,
        "n": json_values,
        "max_tokens": json_values,
        "tools": json_values
        | st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["function", "builtin_function"]), "function": json_values}
            ),
            max_size=2,
        ),
        "tool_choice": json_values,
        "response_format": json_values,
        "stop": json_values,
        "stream_options": json_values,
        "reasoning_effort": json_values,
    },
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_any_body_gets_a_clean_answer(august: Any, raw_for: Any, body: dict[str, Any]) -> None:
    # August 2026: every model of the table still serves, the old ones included.
    response = raw_for(august[0]).chat(body)
    assert response.status == 200 or 400 <= response.status < 500, (response.status, response.body)
    if response.status != 200:
        error = response.json()["error"]
        assert isinstance(error["message"], str)
        assert isinstance(error["type"], str)
    elif body.get("stream") is True:
        assert response.events()[-1] == "[DONE]"
    else:
        assert response.json()["object"] == "chat.completion"
