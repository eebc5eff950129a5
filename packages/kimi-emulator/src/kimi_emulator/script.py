"""What a test can queue: exact replies (``Reply``, ``ScriptedToolCall``) and faults (``Fault``)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["FAULT_HEADER", "Fault", "FaultKind", "Reply", "ScriptedToolCall"]

FAULT_HEADER = "X-Kimi-Emulator-Fault"

FaultKind = Literal[
    "status",
    "html",
    "reset",
    "disconnect",
    "malformed_sse",
    "delay_first_byte",
    "slow_chunks",
    "stall",
    "stream_error",
]

_RATE_LIMIT_MESSAGES = {
    "concurrency": (
        "Your account org-emulator<ak-emulator> request reached organization max concurrency: 1, "
        "please try again after {time} seconds"
    ),
    "rpm": (
        "Your account org-emulator<ak-emulator> request reached organization max RPM: 3, "
        "please try again after {time} seconds"
    ),
    "tpm": "request reached organization TPM rate limit, current:500123, limit:500000",
    "tpd": "request reached organization TPD rate limit, current:1500123, limit:1500000",
}
_QUOTA_MESSAGES = {
    "tokens": (
        "You exceeded your current token quota: <org-emulator> 0, please check your account balance"
    ),
    "suspended": (
        "Your account org-emulator<ak-emulator> is suspended, please check your plan and "
        "billing details"
    ),
}
_DEFAULT_MESSAGES = {
    "engine_overloaded_error": "The engine is currently overloaded, please try again later",
    "rate_limit_reached_error": _RATE_LIMIT_MESSAGES["rpm"].format(time=1),
    "exceeded_current_quota_error": _QUOTA_MESSAGES["tokens"],
    "server_error": "Internal server error",
    "server_unavailable": "The server is temporarily unavailable, please try again later",
    "content_filter": "The request was rejected because it was considered high risk",
    "unexpected_output": "invalid state transition",
    "invalid_request_error": "Invalid request: rejected by an injected fault",
}


@dataclass(frozen=True)
class ScriptedToolCall:
    """One tool call; ``arguments`` is a dict (JSON-encoded on the wire) or a raw string."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None
    type: str = "function"

    def arguments_json(self) -> str:
        """The ``function.arguments`` string as sent on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    """An exact assistant reply, replacing the rule-based brain for one request.

    ``reasoning_chunks`` / ``content_chunks`` are either a number of stream chunks to cut the
    text into,
    or the exact list of stream pieces (the text is then their concatenation). ``chunk_size``
    cuts both
    texts into pieces of that many characters. ``usage`` replaces the computed usage object
    verbatim.
    ``search_query`` is the question the fake search engine answers after a ``$web_search`` echo.
    ``no_reasoning`` leaves reasoning out entirely even with thinking on (no ``reasoning_content``
    field, deltas or ``reasoning_tokens``), as one live K3 recording shows.
    """

    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ScriptedToolCall] | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    chunk_size: int | None = None
    reasoning_chunks: int | list[str] | None = None
    content_chunks: int | list[str] | None = None
    search_query: str | None = None
    no_reasoning: bool = False

    @classmethod
    def web_search(
        cls,
        query: str = "",
        *,
        total_tokens: int = 1200,
        search_id: str | None = None,
        reasoning: str | None = None,
    ) -> Reply:
        """A round in which the model calls the ``$web_search`` builtin (kimi-api.md 4)."""
        arguments = {
            "search_result": {"search_id": search_id or f"search-{secrets.token_hex(12)}"},
            "usage": {"total_tokens": total_tokens},
        }
        call = ScriptedToolCall(
            name="$web_search",
            arguments=arguments,
            id=f"t-web_search-{secrets.token_hex(8)}",
            type="builtin_function",
        )
        return cls(tool_calls=[call], reasoning=reasoning, search_query=query)


@dataclass(frozen=True)
class Fault:
    """An injected failure or slowdown; build one with the class methods, not the constructor."""

    kind: FaultKind
    http_status: int = 0
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    after: int = 0
    seconds: float = 0.0
    code: str | None = None

    @property
    def replaces_response(self) -> bool:
        """True when the fault is the whole answer; False when it alters a normal answer."""
        return self.kind in ("status", "html", "reset")

    # ---- error statuses ------------------------------------------------------------------------
    @classmethod
    def status(
        cls,
        status: int,
        error_type: str | None,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        code: str | None = None,
    ) -> Fault:
        """An HTTP error with a JSON envelope; ``retry_after`` adds a ``Retry-After`` header.

        ``error_type=None`` leaves ``type`` out and ``code`` adds one; the live service sends a type
        and no code, but hand-made client fixtures use both shapes.
        """
        text = message if message is not None else _DEFAULT_MESSAGES.get(error_type or "", "error")
        return cls(
            "status",
            http_status=status,
            error_type=error_type,
            message=text,
            retry_after=retry_after,
            code=code,
        )

    @classmethod
    def overloaded(cls, *, retry_after: float | None = None) -> Fault:
        """429 ``engine_overloaded_error`` (retryable)."""
        return cls.status(429, "engine_overloaded_error", retry_after=retry_after)

    @classmethod
    def rate_limit(
        cls,
        limit: Literal["concurrency", "rpm", "tpm", "tpd"] = "rpm",
        *,
        retry_after: float | None = None,
    ) -> Fault:
        """429 ``rate_limit_reached_error`` with the official message template for ``limit``."""
        wait = retry_after if retry_after is not None else 1
        message = _RATE_LIMIT_MESSAGES[limit].format(time=f"{wait:g}")
        return cls.status(429, "rate_limit_reached_error", message, retry_after=retry_after)

    @classmethod
    def quota(cls, reason: Literal["tokens", "suspended"] = "tokens") -> Fault:
        """429 ``exceeded_current_quota_error`` (must not be retried)."""
        return cls.status(429, "exceeded_current_quota_error", _QUOTA_MESSAGES[reason])

    @classmethod
    def server_error(cls, status: Literal[500, 503] = 500) -> Fault:
        """500 ``server_error`` or 503 ``server_unavailable``."""
        if status == 503:
            return cls.status(503, "server_unavailable")
        return cls.status(500, "server_error")

    @classmethod
    def content_filter(cls) -> Fault:
        """400 ``content_filter``: the request was judged high risk."""
        return cls.status(400, "content_filter")

    @classmethod
    def gateway_timeout_html(cls) -> Fault:
        """504 with an HTML body, as the gateway sends it."""
        return cls("html", http_status=504)

    # ---- transport ---------------------------------------------------------------------------
    @classmethod
    def reset(cls) -> Fault:
        """Abort the connection before any response byte."""
        return cls("reset")

    @classmethod
    def disconnect_after(cls, chunks: int) -> Fault:
        """Abort the connection after ``chunks`` SSE events (non-streaming: mid-body)."""
        return cls("disconnect", after=chunks)

    @classmethod
    def malformed_sse(cls, after: int = 1) -> Fault:
        """Send one line that is not valid JSON after ``after`` SSE events, then carry on."""
        return cls("malformed_sse", after=after)

    @classmethod
    def stream_error(
        cls,
        after: int = 1,
        *,
        message: str = "Stream failed",
        error_type: str | None = "server_error",
        code: str | None = None,
    ) -> Fault:
        """An ``{"error": ...}`` event inside a 200 stream after ``after`` events; the stream ends.

        The reference documents no such event; it exists because hand-made client fixtures use it.
        """
        return cls("stream_error", after=after, message=message, error_type=error_type, code=code)

    @classmethod
    def delay_first_byte(cls, seconds: float) -> Fault:
        """Wait ``seconds`` before sending anything."""
        return cls("delay_first_byte", seconds=seconds)

    @classmethod
    def slow_chunks(cls, seconds: float) -> Fault:
        """Wait ``seconds`` between SSE events."""
        return cls("slow_chunks", seconds=seconds)

    @classmethod
    def stall_after(cls, chunks: int, seconds: float) -> Fault:
        """Send ``chunks`` SSE events, then go silent for ``seconds`` before the rest.

        A stream that stalls mid-answer: with ``seconds`` beyond the client's read timeout, the
        caller already holds the first events when the timeout fires.
        """
        return cls("stall", after=chunks, seconds=seconds)

    # ---- header form -------------------------------------------------------------------------
    def to_header(self) -> str:
        """This fault in ``X-Kimi-Emulator-Fault`` syntax (see ``parse_header``)."""
        if self.kind == "status":
            parts = [f"status={self.http_status}", f"type={self.error_type}"]
            if self.retry_after is not None:
                parts.append(f"retry_after={self.retry_after:g}")
            if self.message is not None and self.message != _DEFAULT_MESSAGES.get(
                self.error_type or ""
            ):
                parts.append(f"message={self.message}")
            return ";".join(parts)
        simple = {
            "html": "gateway_timeout",
            "reset": "reset",
            "disconnect": f"disconnect_after={self.after}",
            "malformed_sse": f"malformed_sse={self.after}",
            "delay_first_byte": f"delay_first_byte={self.seconds:g}",
            "slow_chunks": f"slow_chunks={self.seconds:g}",
            "stall": f"stall_after={self.after};seconds={self.seconds:g}",
            "stream_error": f"stream_error={self.after}",
        }
        return simple[self.kind]

    @classmethod
    def parse_header(cls, value: str) -> list[Fault]:
        """Parse the ``X-Kimi-Emulator-Fault`` request header.

        Syntax: faults separated by ``,``; each is ``name[=value]`` followed by ``;key=value``
        options.
        Names: ``status=<code>;type=<error type>[;retry_after=<s>][;message=<text>]``,
        ``overloaded[;retry_after=<s>]``,
        ``rate_limit[=concurrency|rpm|tpm|tpd][;retry_after=<s>]``,
        ``quota[=tokens|suspended]``, ``server_error[=500|503]``, ``content_filter``,
        ``gateway_timeout``, ``reset``, ``disconnect_after=<k>``, ``malformed_sse=<k>``,
        ``stream_error=<k>``, ``delay_first_byte=<s>``, ``slow_chunks=<s>``,
        ``stall_after=<k>;seconds=<s>``.

        Raises:
            ValueError: the header names an unknown fault or has a bad value.
        """
        faults: list[Fault] = []
        for spec in filter(None, (s.strip() for s in value.split(","))):
            head, *option_texts = (p.strip() for p in spec.split(";"))
            name, _, arg = head.partition("=")
            options = dict(o.partition("=")[::2] for o in option_texts if o)
            faults.append(cls._from_spec(name.strip(), arg.strip(), options))
        return faults

    @classmethod
    def _from_spec(cls, name: str, arg: str, options: dict[str, str]) -> Fault:
        retry = float(options["retry_after"]) if "retry_after" in options else None
        try:
            if name == "status":
                return cls.status(
                    int(arg),
                    options.get("type", "server_error"),
                    options.get("message"),
                    retry_after=retry,
                )
            if name == "overloaded":
                return cls.overloaded(retry_after=retry)
            if name == "rate_limit":
                limit = arg or "rpm"
                if limit not in _RATE_LIMIT_MESSAGES:
                    raise ValueError(limit)
                return cls.rate_limit(limit, retry_after=retry)  # type: ignore[arg-type]
            if name == "quota":
                reason = arg or "tokens"
                if reason not in _QUOTA_MESSAGES:
                    raise ValueError(reason)
                return cls.quota(reason)  # type: ignore[arg-type]
            if name == "server_error":
                return cls.server_error(503 if arg == "503" else 500)
            simple = {
                "content_filter": cls.content_filter,
                "gateway_timeout": cls.gateway_timeout_html,
                "reset": cls.reset,
            }
            if name in simple:
                return simple[name]()
            if name in ("disconnect_after", "malformed_sse", "stream_error"):
                count = int(arg or "1")
                if name == "disconnect_after":
                    return cls.disconnect_after(count)
                if name == "malformed_sse":
                    return cls.malformed_sse(count)
                return replace(cls.stream_error(count), code=options.get("code"))
            timed = {"delay_first_byte": cls.delay_first_byte, "slow_chunks": cls.slow_chunks}
            if name in timed:
                return timed[name](float(arg))
            if name == "stall_after":
                return cls.stall_after(int(arg or "1"), float(options.get("seconds", "1")))
        except ValueError as exc:
            raise ValueError(f"bad value in {FAULT_HEADER} fault {name!r}: {exc}") from exc
        raise ValueError(
            f"unknown fault {name!r} in {FAULT_HEADER}; see kimi_emulator.Fault.parse_header "
            f"for the syntax"
        )
