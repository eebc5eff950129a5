"""Batch API lines: build them from chat requests within the limits, and parse the result lines.

Transport-free. The input line, result line and BatchObject shapes follow kimi-api.md 10 and 13.5;
where the reference is silent (the error-file line and the batch ``errors`` list) they follow the
OpenAI Batch API, which Moonshot's batch endpoints copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kimi_core.errors import KimiError, MalformedResponseError, error_from_body
from kimi_core.files import MAX_FILE_BYTES
from kimi_core.request import ChatRequest
from kimi_core.response import ChatResult, parse_completion
from kimi_core.sampling import SAMPLING_PARAMS
from kimi_core.transport import encode_json

__all__ = [
    "BATCH_ENDPOINT",
    "MAX_BATCH_FILES",
    "MAX_METADATA_PAIRS",
    "TERMINAL_STATUSES",
    "BatchObject",
    "BatchRequestError",
    "FilePlan",
    "JsonlSplitter",
    "batch_line",
    "check_completion_window",
    "check_metadata",
    "parse_result_line",
    "plan_files",
]

BATCH_ENDPOINT = "/v1/chat/completions"
MAX_BATCH_FILES = 1000
"""Batch files one organisation may hold (kimi-api.md 10)."""
MAX_METADATA_PAIRS = 16
TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
_WINDOW = re.compile(r"^([1-9][0-9]*)([hd])$")
_MIN_WINDOW_HOURS, _MAX_WINDOW_HOURS = 12, 7 * 24


class BatchRequestError(KimiError):
    """A batched request that produced no answer for a reason other than an HTTP error status.

    ``error_type`` (also :attr:`code`) says why: ``batch_expired`` (the window ended first),
    ``batch_cancelled``, ``batch_failed`` (the whole batch failed validation), ``missing`` (in
    neither result file), or the error code the server gave.

    Attributes:
        custom_id: The request's ``custom_id``, when known.
        batch_id: The batch it belonged to, when known.
    """

    custom_id: str | None = None
    batch_id: str | None = None

    @property
    def code(self) -> str:
        """Why the request has no answer (``error_type``)."""
        return self.error_type or "unknown"

    @classmethod
    def of(
        cls, message: str, *, code: str, custom_id: str | None, batch_id: str | None
    ) -> BatchRequestError:
        """The error of one request of one batch."""
        error = cls(message, error_type=code)
        error.custom_id = custom_id
        error.batch_id = batch_id
        return error


def check_completion_window(window: str) -> str:
    """Validate a completion window: ``"12h"`` to ``"7d"`` (hours or days).

    Raises:
        ValueError: Another form or a duration outside the range.
    """
    found = _WINDOW.match(window) if isinstance(window, str) else None
    hours = int(found.group(1)) * (24 if found.group(2) == "d" else 1) if found else 0
    if not _MIN_WINDOW_HOURS <= hours <= _MAX_WINDOW_HOURS:
        raise ValueError(
            f"completion_window {window!r} is not accepted; the Batch API takes '12h' to '7d' "
            "(e.g. '24h', '3d')."
        )
    return window


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    """Validate batch metadata: at most 16 string pairs.

    Raises:
        ValueError: Too many pairs, or a key or value that is not a string.
    """
    if metadata is None:
        return None
    if len(metadata) > MAX_METADATA_PAIRS:
        raise ValueError(
            f"batch metadata has {len(metadata)} pairs; the Batch API accepts at most "
            f"{MAX_METADATA_PAIRS}."
        )
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValueError(f"batch metadata must map str to str; got {key!r}: {value!r}.")
    return dict(metadata)


def batch_line(request: ChatRequest, custom_id: str) -> bytes:
    """One JSONL input line (newline included) for a built chat request.

    Raises:
        ValueError: The request cannot run in a batch (the message names why and the fix).
    """
    body = request.body
    if not isinstance(custom_id, str) or not custom_id:
        raise ValueError("every batched request needs a non-empty string custom_id.")
    profile = request.profile
    if profile.known and not profile.batch_api:
        raise ValueError(
            f"{profile.id} is not served by the Batch API (kimi-k2.6 is); use online calls or "
            "another model."
        )
    sampling = [name for name in SAMPLING_PARAMS if name in body]
    if sampling:
        raise ValueError(
            f"the Batch API rejects sampling fields ({', '.join(sampling)}) in request bodies; "
            "leave them unset (the model then applies its own values)."
        )
    if request.stream or body.get("stream"):
        raise ValueError("a batched request cannot stream; build it with stream=False.")
    if request.web_search:
        raise ValueError(
            "$web_search needs a client-side loop of several calls, which a batch cannot run; "
            "send such requests online."
        )
    if request.remote_media:
        raise ValueError(
            "the request holds media the client must download or upload first; prepare it with "
            "the client (the Batches service does this) before building the line."
        )
    line = {"custom_id": custom_id, "method": "POST", "url": BATCH_ENDPOINT, "body": body}
    return encode_json(line) + b"\n"


@dataclass(frozen=True)
class FilePlan:
    """One input file of a job: its model, the positions it carries and its JSONL content."""

    model: str
    positions: list[int]
    content: bytes


def plan_files(
    models: Sequence[str], lines: Sequence[bytes], *, max_file_bytes: int = MAX_FILE_BYTES
) -> list[FilePlan]:
    """Group lines into files: one model per file, each at most ``max_file_bytes``.

    Order within a model is kept; models are taken in order of first appearance.

    Raises:
        ValueError: One line alone exceeds ``max_file_bytes``, or the job needs more than
            :data:`MAX_BATCH_FILES` files.
    """
    if not 0 < max_file_bytes <= MAX_FILE_BYTES:
        raise ValueError(f"max_file_bytes must be in 1..{MAX_FILE_BYTES}, got {max_file_bytes}.")
    by_model: dict[str, list[int]] = {}
    for position, model in enumerate(models):
        by_model.setdefault(model, []).append(position)
    plans: list[FilePlan] = []
    for model, positions in by_model.items():
        chunk: list[int] = []
        size = 0
        for position in positions:
            length = len(lines[position])
            if length > max_file_bytes:
                raise ValueError(
                    f"request {position} is {length} bytes as a batch line, over the "
                    f"{max_file_bytes}-byte file limit; upload its media through the Files API "
                    "(ms:// references) or send it online."
                )
            if chunk and size + length > max_file_bytes:
                plans.append(_plan(model, chunk, lines))
                chunk, size = [], 0
            chunk.append(position)
            size += length
        plans.append(_plan(model, chunk, lines))
    if len(plans) > MAX_BATCH_FILES:
        raise ValueError(
            f"the job needs {len(plans)} batch files; the Batch API allows {MAX_BATCH_FILES} per "
            "organisation. Submit it in parts."
        )
    return plans


def _plan(model: str, positions: list[int], lines: Sequence[bytes]) -> FilePlan:
    return FilePlan(model, positions, b"".join(lines[p] for p in positions))


@dataclass(frozen=True)
class BatchObject:
    """A batch as ``/v1/batches`` describes it.

    Attributes:
        id: The batch id.
        status: ``validating``, ``failed``, ``in_progress``, ``finalizing``, ``completed``,
            ``expired``, ``cancelling`` or ``cancelled``.
        input_file_id: The uploaded JSONL file.
        output_file_id: The file of successful answers, once there is one.
        error_file_id: The file of failed requests, once there is one.
        completion_window: The window the batch was created with.
        total: ``request_counts.total``.
        completed: ``request_counts.completed``.
        failed: ``request_counts.failed``.
        metadata: The metadata it was created with.
        errors: Validation errors of a failed batch (``{code, message, line?}`` dicts).
        created_at: Unix time of creation.
        raw: The whole body.
    """

    id: str
    status: str
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    completion_window: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    metadata: dict[str, str] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    created_at: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """Whether the batch reached a final status."""
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_wire(cls, data: Any) -> BatchObject:
        """Parse a BatchObject body.

        Raises:
            MalformedResponseError: No id or status.
        """
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise MalformedResponseError("batch object has no id", body=data)
        if not isinstance(data.get("status"), str):
            raise MalformedResponseError("batch object has no status", body=data)
        counts = data.get("request_counts")
        counts = counts if isinstance(counts, dict) else {}
        errors = data.get("errors")
        items = errors.get("data") if isinstance(errors, dict) else errors
        return cls(
            id=data["id"],
            status=data["status"],
            input_file_id=data.get("input_file_id"),
            output_file_id=data.get("output_file_id") or None,
            error_file_id=data.get("error_file_id") or None,
            completion_window=data.get("completion_window"),
            total=_count(counts.get("total")),
            completed=_count(counts.get("completed")),
            failed=_count(counts.get("failed")),
            metadata=data.get("metadata") if isinstance(data.get("metadata"), dict) else None,
            errors=[e for e in items if isinstance(e, dict)] if isinstance(items, list) else [],
            created_at=data.get("created_at"),
            raw=data,
        )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class JsonlSplitter:
    """Split a byte stream into non-empty lines, each at most ``max_line_bytes``."""

    def __init__(self, max_line_bytes: int) -> None:
        self._max = max_line_bytes
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines completed by ``chunk``.

        Raises:
            MalformedResponseError: A line longer than the bound.
        """
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        if len(self._pending) > self._max or any(len(line) > self._max for line in lines):
            raise MalformedResponseError(
                f"a batch result line is longer than {self._max} bytes", retryable=False
            )
        return [line for line in lines if line.strip()]

    def close(self) -> list[bytes]:
        """The last line, when the stream did not end with a newline."""
        rest, self._pending = self._pending, b""
        return [rest] if rest.strip() else []


def parse_result_line(line: bytes, batch_id: str | None) -> tuple[str, ChatResult | KimiError]:
    """Parse one output- or error-file line into its ``custom_id`` and answer or typed error.

    A line with ``response.status_code`` 200 gives a :class:`~kimi_core.response.ChatResult`; any
    other status gives the typed error of its body (as online); a line with ``error`` and no
    response gives a :class:`BatchRequestError`.

    Raises:
        MalformedResponseError: Not JSON, or no ``custom_id``.
    """
    try:
        # Decoding first skips json.loads' encoding detection on bytes (result files are UTF-8).
        data = json.loads(line.decode("utf-8", "surrogatepass"))
    except ValueError as exc:
        raise MalformedResponseError(
            f"batch result line is not JSON: {line[:200]!r}", retryable=False
        ) from exc
    custom_id = data.get("custom_id") if isinstance(data, dict) else None
    if not isinstance(custom_id, str):
        raise MalformedResponseError("batch result line has no custom_id", body=data)
    response = data.get("response")
    if isinstance(response, dict):
        status = response.get("status_code")
        body = response.get("body")
        request_id = response.get("request_id")
        request_id = request_id if isinstance(request_id, str) else None
        if status == 200 and isinstance(body, dict):
            try:
                return custom_id, parse_completion(body, request_id=request_id)
            except KimiError as malformed:
                return custom_id, malformed
        failure = error_from_body(status if isinstance(status, int) else None, body)
        failure.request_id = failure.request_id or request_id
        return custom_id, failure
    problem = data.get("error")
    problem = problem if isinstance(problem, dict) else {}
    code = problem.get("code")
    message = problem.get("message")
    return custom_id, BatchRequestError.of(
        message if isinstance(message, str) and message else "the request produced no response",
        code=code if isinstance(code, str) and code else "unknown",
        custom_id=custom_id,
        batch_id=batch_id,
    )
