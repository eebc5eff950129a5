"""Self-hosted wire dialects: the same brain, spoken the way vLLM or SGLang serve open-weight Kimi.

The platform dialect is the rest of the emulator. A self-hosted dialect rewrites the request into
the platform form the validator and brain understand (after refusing what those servers do not
have), and rewrites each response body or stream event into the server's form. Facts:
``kimi-api.md`` 13.7, ``ecosystem-2026-12.md`` section 5, vllm-project/vllm#38488.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from kimi_emulator.errors import ApiError

__all__ = ["DIALECTS", "Dialect", "DialectName", "dialect"]

DialectName = Literal["moonshot", "vllm", "sglang"]

_SAMPLING = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")
# What the validator sees for reasoning the server would not have rendered: open servers do not
# enforce the platform's "reasoning_content is required" rules, so none of them answers a 400.
_NOT_RENDERED = "(no reasoning reached the chat template)"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one server kind differs from the platform on the wire.

    Attributes:
        name: The ``--dialect`` value.
        reasoning_out: The field the reasoning is sent in (message and delta).
        reasoning_in: The only assistant-message field the server reads reasoning from.
        platform_routes: Whether Files, token estimate, balance, signatures and formulas exist.
        rewrite: Whether anything is rewritten at all (False for the platform).
    """

    name: DialectName
    reasoning_out: str = "reasoning_content"
    reasoning_in: str = "reasoning_content"
    platform_routes: bool = True
    rewrite: bool = False

    # ---- requests ------------------------------------------------------------------------------

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """The platform-form body the validator and brain see (the log keeps the original).

        Raises:
            ApiError: 400 for what the server refuses (builtin tools, video, ms:// URLs).
        """
        if not self.rewrite:
            return body
        body = copy.deepcopy(body)
        self._refuse_platform_features(body)
        body.pop("thinking", None)  # a Kimi thinking object means nothing to the template
        kwargs = body.pop("chat_template_kwargs", None)
        if isinstance(kwargs, dict) and "thinking" in kwargs:
            on = bool(kwargs["thinking"])
            switch: dict[str, Any] = {"type": "enabled" if on else "disabled"}
            if on and kwargs.get("preserve_thinking"):
                switch["keep"] = "all"
            body["thinking"] = switch
        _check_sampling_ranges(body, server=self.server)
        for name in _SAMPLING:
            body.pop(name, None)  # served as sent: fixed sampling is not enforced
        body.pop("reasoning_effort", None)
        messages = body.get("messages")
        for message in messages if isinstance(messages, list) else ():
            if isinstance(message, dict) and message.get("role") == "assistant":
                self._assistant(message)
        return body

    def _assistant(self, message: dict[str, Any]) -> None:
        reasoning = message.get(self.reasoning_in)
        message.pop("reasoning", None)
        message.pop("reasoning_content", None)
        message["reasoning_content"] = reasoning or _NOT_RENDERED

    @property
    def server(self) -> str:
        """The server's name in its error messages."""
        return "vLLM" if self.name == "vllm" else "SGLang"

    def _refuse_platform_features(self, body: dict[str, Any]) -> None:
        server = self.server
        for tool in body.get("tools") or ():
            if isinstance(tool, dict) and tool.get("type") != "function":
                raise ApiError(
                    400,
                    "BadRequestError",
                    f"{server}: tools[].type must be 'function', got {tool.get('type')!r}",
                )
        messages = body.get("messages")
        for message in messages if isinstance(messages, list) else ():
            content = message.get("content") if isinstance(message, dict) else None
            for part in content if isinstance(content, list) else ():
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "video_url":
                    raise ApiError(
                        400, "BadRequestError", f"{server}: video input is not supported"
                    )
                ref = part.get(kind) if kind == "image_url" else None
                url = ref.get("url") if isinstance(ref, dict) else None
                if isinstance(url, str) and url.startswith("ms://"):
                    raise ApiError(
                        400,
                        "BadRequestError",
                        f"{server}: the URL must be a data: or http(s) URL, got an ms:// URL",
                    )

    # ---- responses -----------------------------------------------------------------------------

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """A non-stream ``chat.completion`` body in this dialect."""
        if not self.rewrite:
            return body
        for choice in body.get("choices") or ():
            choice.pop("usage", None)
            message = choice.get("message") or {}
            self._reasoning_field(message)
            self._tool_ids(message.get("tool_calls"))
        _no_cache_report(body.get("usage"))
        return body

    def frames(self, frames: Iterator[bytes]) -> Iterator[bytes]:
        """The platform's SSE events rewritten into this dialect."""
        if not self.rewrite:
            yield from frames
            return
        for frame in frames:
            payload = frame.removeprefix(b"data: ").strip()
            if payload == b"[DONE]":
                yield frame
                continue
            chunk = json.loads(payload)
            choices = chunk.get("choices") or []
            if choices:
                # Usage only on the include_usage chunk (``choices: []``), as these servers send.
                chunk.pop("usage", None)
                choices[0].pop("usage", None)
                delta = choices[0].get("delta") or {}
                self._reasoning_field(delta)
                self._tool_ids(delta.get("tool_calls"))
                if not delta and choices[0].get("finish_reason") is None:
                    continue  # the platform's empty reasoning closer has no counterpart here
            _no_cache_report(chunk.get("usage"))
            yield b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"

    def _reasoning_field(self, message: dict[str, Any]) -> None:
        reasoning = message.pop("reasoning_content", None)
        if reasoning:
            message[self.reasoning_out] = reasoning

    @staticmethod
    def _tool_ids(calls: Any) -> None:
        # The kimi_k2/kimi_k3 tool parsers name calls by position in the message.
        for position, call in enumerate(calls if isinstance(calls, list) else ()):
            name = (call.get("function") or {}).get("name")
            if call.get("id") and name:
                call["id"] = f"functions.{name}:{call.get('index', position)}"


# The ranges vLLM's and SGLang's sampling parameters validate (400 outside them); any value
# inside is used as sent, the model's fixed values are not enforced.
_RANGES = {
    "temperature": (0.0, None),
    "top_p": (1e-9, 1.0),
    "n": (1, None),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}


def _check_sampling_ranges(body: dict[str, Any], *, server: str) -> None:
    for name, (low, high) in _RANGES.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ApiError(400, "BadRequestError", f"{server}: {name} must be a number")
        if value < low or (high is not None and value > high):
            bound = f"at least {low:g}" if high is None else f"in [{low:g}, {high:g}]"
            raise ApiError(400, "BadRequestError", f"{server}: {name} must be {bound}, got {value}")


def _no_cache_report(usage: Any) -> None:
    """Cached tokens are reported only with a launch flag the default setup does not have."""
    if isinstance(usage, dict):
        usage.pop("cached_tokens", None)
        usage.pop("prompt_tokens_details", None)


DIALECTS: dict[str, Dialect] = {
    "moonshot": Dialect("moonshot"),
    "vllm": Dialect(
        "vllm", reasoning_out="reasoning", reasoning_in="reasoning", platform_routes=False,
        rewrite=True,
    ),
    "sglang": Dialect("sglang", platform_routes=False, rewrite=True),
}  # fmt: skip


def dialect(name: str) -> Dialect:
    """The dialect called ``name``.

    Raises:
        ValueError: An unknown name.
    """
    found = DIALECTS.get(name)
    if found is None:
        raise ValueError(f"unknown dialect {name!r}; use one of {', '.join(DIALECTS)}")
    return found
