"""The Batch API's records: one per batch, its status machine and its wire form.

Shapes follow kimi-api.md 10 and 13.5 (BatchObject fields, ``request_counts``, output lines,
``has_more``); where the reference is silent (timestamps other than ``created_at``, the error-file
line, ``errors`` of a failed batch) they follow the OpenAI Batch API that Moonshot's copies.
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from kimi_emulator.errors import ApiError

__all__ = ["BATCH_MODELS", "BatchRecord", "BatchStore", "window_seconds"]

BATCH_MODELS = frozenset({"kimi-k2.6", "kimi-k2.5"})
"""Models the Batch API serves (the Aug-2026 guide; K3 support was not found, kimi-api.md 13.5)."""
_WINDOW = re.compile(r"^([1-9][0-9]*)([hd])$")
_MIN_WINDOW, _MAX_WINDOW = 12 * 3600, 7 * 24 * 3600
MAX_METADATA_PAIRS = 16
_MAX_LIST_LIMIT = 100
# The emulator's own bound (the reference documents none): each running batch holds a task.
MAX_RUNNING = 1000
_FINAL = frozenset({"completed", "failed", "expired", "cancelled"})


def window_seconds(window: Any) -> int:
    """Seconds of a ``completion_window`` ("12h" to "7d").

    Raises:
        ApiError: Any other value.
    """
    found = _WINDOW.match(window) if isinstance(window, str) else None
    seconds = int(found.group(1)) * (86400 if found.group(2) == "d" else 3600) if found else 0
    if not _MIN_WINDOW <= seconds <= _MAX_WINDOW:
        raise ApiError.invalid(
            f"Invalid request: completion_window must be between 12h and 7d, got {window!r}"
        )
    return seconds


@dataclass
class BatchRecord:
    """One batch and where it stands.

    ``elapsed`` is the batch's own emulated clock (seconds since creation): it advances by the
    configured stage and request durations, never by the host's speed, so a batch expires (or not)
    the same way on a fast and a slow machine. ``scale`` only paces it against real time.
    """

    id: str
    input_file_id: str
    completion_window: str
    window: int
    metadata: dict[str, str] | None
    created_at: int
    scale: float
    elapsed: float = 0.0
    status: str = "validating"
    total: int = 0
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    stamps: dict[str, int] = field(default_factory=dict)
    cancel_requested: bool = False
    discarded: bool = False

    def now(self) -> int:
        """The emulated Unix time: ``created_at`` plus the batch's emulated seconds."""
        return self.created_at + int(self.elapsed)

    def past_window(self) -> bool:
        """Whether the completion window has ended."""
        return self.elapsed >= self.window

    def move(self, status: str) -> None:
        """Enter ``status`` and stamp ``<status>_at``."""
        self.status = status
        self.stamps[f"{status}_at"] = self.now()

    def to_wire(self) -> dict[str, Any]:
        """The BatchObject JSON."""
        stamps = {
            name: self.stamps.get(name)
            for name in (
                "in_progress_at",
                "finalizing_at",
                "completed_at",
                "failed_at",
                "expired_at",
                "cancelling_at",
                "cancelled_at",
            )
        }
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "errors": None if self.errors is None else {"object": "list", "data": self.errors},
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + self.window,
            **stamps,
            "request_counts": {
                "total": self.total,
                "completed": self.completed,
                "failed": self.failed,
            },
            "metadata": self.metadata,
        }


class BatchStore:
    """Batches by id, newest last; thread-safe because tests read it from outside the loop."""

    def __init__(self) -> None:
        self._batches: dict[str, BatchRecord] = {}
        self._lock = threading.Lock()

    def add(
        self,
        input_file_id: str,
        completion_window: str,
        metadata: dict[str, str] | None,
        created_at: int,
        scale: float,
    ) -> BatchRecord:
        """Create a batch in ``validating``."""
        record = BatchRecord(
            id=f"batch_{secrets.token_hex(12)}",
            input_file_id=input_file_id,
            completion_window=completion_window,
            window=window_seconds(completion_window),
            metadata=metadata,
            created_at=created_at,
            scale=scale,
        )
        with self._lock:
            running = sum(b.status not in _FINAL for b in self._batches.values())
            if running >= MAX_RUNNING:
                raise ApiError.invalid(
                    f"Invalid request: too many unfinished batches (the emulator runs at most "
                    f"{MAX_RUNNING} at a time)"
                )
            self._batches[record.id] = record
        return record

    def get(self, batch_id: str) -> BatchRecord:
        """The batch with ``batch_id``.

        Raises:
            ApiError: 404 when there is no such batch.
        """
        with self._lock:
            record = self._batches.get(batch_id)
        if record is None:
            raise ApiError.not_found(f"batch {batch_id} not found")
        return record

    def all(self) -> list[BatchRecord]:
        """Every batch, oldest first."""
        with self._lock:
            return list(self._batches.values())

    def listing(self, after: str | None, limit: Any) -> dict[str, Any]:
        """``GET /v1/batches``: newest first, ``after`` a batch id, ``limit`` 1-100 (default 20).

        Raises:
            ApiError: A limit that is not an integer in range.
        """
        text = "20" if limit is None else str(limit)
        if not text.isdigit() or not 1 <= int(text) <= _MAX_LIST_LIMIT:
            raise ApiError.invalid(
                f"Invalid request: limit must be an integer between 1 and {_MAX_LIST_LIMIT}"
            )
        newest_first = list(reversed(self.all()))
        ids = [record.id for record in newest_first]
        start = ids.index(after) + 1 if after in ids else (len(ids) if after else 0)
        page = newest_first[start : start + int(text)]
        return {
            "object": "list",
            "data": [record.to_wire() for record in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": start + len(page) < len(ids),
        }

    def clear(self) -> None:
        """Forget every batch; running ones stop at their next step."""
        with self._lock:
            for record in self._batches.values():
                record.discarded = True
            self._batches.clear()
