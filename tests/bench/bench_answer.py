"""What a client must deliver, and the check that a fast-but-wrong client cannot pass.

Every request of the suite asks the emulator for an exact size with the header
``X-Kimi-Emulator-Size: reasoning=N,content=M``: N reasoning events and M content events. The
complete answer (text, reasoning, usage) is fetched once per size as one non-streaming body by
plain httpx, independently of every client under test, and each client's answer must equal it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Answer", "Expected", "fetch_reference", "missing_parts", "size_header"]


@dataclass(slots=True)
class Answer:
    """What one call gave back, reduced to comparable parts.

    Attributes:
        text: The answer text.
        reasoning: The reasoning text, None when the client did not surface it.
        usage: ``(input, output, total)`` tokens, None when the client did not surface them.
        chunks: How many pieces a streaming call handed to its caller (0 for one-shot calls).
    """

    text: str
    reasoning: str | None
    usage: tuple[int, int, int] | None
    chunks: int = 0


@dataclass(frozen=True, slots=True)
class Expected:
    """The complete answer for a request of ``reasoning`` and ``content`` pieces."""

    reasoning: int
    content: int
    pace: float = 0.0
    """Seconds between two stream events (the emulator's ``slow_chunks`` fault), 0: none.

    Paced, every SSE event is its own socket write after a wait, so a client reads about one
    event per read, as over a real network; on loopback the whole stream comes in a few reads.
    """

    delay: float = 0.0
    """Seconds the server waits before its first byte (``delay_first_byte``), 0: none."""

    @property
    def headers(self) -> dict[str, str]:
        """The request headers that ask for this size (and pace, and delay)."""
        headers = size_header(self.reasoning, self.content)
        faults = [f"slow_chunks={self.pace:g}"] * bool(self.pace)
        faults += [f"delay_first_byte={self.delay:g}"] * bool(self.delay)
        if faults:
            headers["X-Kimi-Emulator-Fault"] = ",".join(faults)
        return headers


def size_header(reasoning: int, content: int) -> dict[str, str]:
    """The emulator's size header for ``reasoning`` + ``content`` pieces."""
    return {"X-Kimi-Emulator-Size": f"reasoning={reasoning},content={content}"}


def fetch_reference(
    base_url: str, api_key: str, expected: Expected, body: dict[str, object]
) -> Answer:
    """The complete answer for ``expected``: the server's own non-streaming body, via httpx."""
    import json

    import httpx2

    response = httpx2.post(
        base_url + "/chat/completions",
        content=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            **expected.headers,
        },
        timeout=600,
    )
    response.raise_for_status()
    data = response.json()
    message = data["choices"][0]["message"]
    usage = data["usage"]
    return Answer(
        message.get("content") or "",
        message.get("reasoning_content") or None,
        (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]),
    )


def missing_parts(answer: Answer, reference: Answer, *, streamed: bool = False) -> list[str]:
    """What ``answer`` lacks or got wrong compared with the complete answer.

    Args:
        answer: The client's answer.
        reference: The complete answer (:func:`fetch_reference`).
        streamed: The call was a stream handed to the caller piece by piece; one piece means
            the client quietly fell back to a non-streaming call.

    Returns:
        ``"text"``, ``"reasoning"``, ``"usage"`` and/or ``"stream"``; empty when complete.
    """
    missing = []
    if answer.text != reference.text:
        missing.append("text")
    if answer.reasoning != reference.reasoning:
        missing.append("reasoning")
    # Input tokens may differ with a client's valid request encoding; the output must not.
    got, want = answer.usage, reference.usage
    if got is None or want is None or got[1] != want[1] or got[0] <= 0 or got[2] != got[0] + got[1]:
        missing.append("usage")
    if streamed and answer.chunks < 2:
        missing.append("stream")
    return missing
