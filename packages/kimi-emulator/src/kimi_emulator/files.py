"""An in-memory Files API store (kimi-api.md 6.2)."""

from __future__ import annotations

import mimetypes
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from kimi_emulator.errors import ApiError

__all__ = ["PURPOSES", "FileRecord", "FileStore"]

PURPOSES = frozenset({"file-extract", "image", "video", "batch"})
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_FILES = 1000


@dataclass(frozen=True)
class FileRecord:
    """One uploaded file."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int

    def to_wire(self) -> dict[str, Any]:
        """The FileObject JSON."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "ready",
            "status_details": "",
        }

    def extracted(self) -> dict[str, Any]:
        """``GET /v1/files/{id}/content`` for a file-extract upload: the text wrapped in JSON."""
        file_type = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        return {
            "content": self.data.decode("utf-8", errors="replace"),
            "file_type": file_type,
            "filename": self.filename,
            "title": "",
            "type": "file",
        }


class FileStore:
    """Files by id; thread-safe because tests read it from outside the server loop."""

    def __init__(self) -> None:
        self._files: dict[str, FileRecord] = {}
        self._lock = threading.Lock()

    def add(self, filename: str, purpose: str, data: bytes, now: int) -> FileRecord:
        """Store an upload after the service's checks.

        Raises:
            ApiError: bad purpose, empty or too large file, too many files, or an SVG image.
        """
        if purpose not in PURPOSES:
            raise ApiError.invalid(
                f"Invalid request: invalid purpose {purpose!r}, must be one of "
                + ", ".join(sorted(PURPOSES))
            )
        if not data:
            raise ApiError.invalid("File size is zero, please confirm and re-upload the file")
        if len(data) > MAX_FILE_BYTES:
            raise ApiError.invalid(
                "File size is too large, max file size is 100MB, please confirm and re-upload "
                "the file"
            )
        if purpose == "image" and (
            filename.lower().endswith(".svg") or data.lstrip()[:5] in (b"<svg ", b"<?xml")
        ):
            raise ApiError.invalid(
                "Invalid request: unsupported image format: text/plain; charset=utf-8"
            )
        with self._lock:
            if len(self._files) >= MAX_FILES:
                raise ApiError.invalid("Too many uploaded files")
            names = {record.filename for record in self._files.values()}
            stored_name = filename
            counter = 1
            while stored_name in names:  # same-name uploads are auto-renamed (changelog 2026-08-31)
                stem, dot, suffix = filename.rpartition(".")
                stored_name = f"{stem}({counter}).{suffix}" if dot else f"{filename}({counter})"
                counter += 1
            record = FileRecord(f"file_{secrets.token_hex(12)}", stored_name, purpose, data, now)
            self._files[record.id] = record
        return record

    def add_result(self, filename: str, purpose: str, data: bytes, now: int) -> FileRecord:
        """Store a file the server wrote (a batch's output or error file), outside upload rules."""
        record = FileRecord(f"file_{secrets.token_hex(12)}", filename, purpose, data, now)
        with self._lock:
            self._files[record.id] = record
        return record

    def get(self, file_id: str) -> FileRecord:
        """The file with ``file_id``.

        Raises:
            ApiError: 404 when there is no such file.
        """
        with self._lock:
            record = self._files.get(file_id)
        if record is None:
            raise ApiError.not_found(f"file {file_id} not found")
        return record

    def exists(self, file_id: str) -> bool:
        """Whether ``file_id`` was uploaded and not deleted."""
        with self._lock:
            return file_id in self._files

    def delete(self, file_id: str) -> dict[str, Any]:
        """Delete and return the deletion object.

        Raises:
            ApiError: 404 when there is no such file.
        """
        with self._lock:
            if self._files.pop(file_id, None) is None:
                raise ApiError.not_found(f"file {file_id} not found")
        return {"id": file_id, "object": "file", "deleted": True}

    def listing(self, after: str | None = None) -> dict[str, Any]:
        """``GET /v1/files``; ``after`` (an OpenAI-style cursor) skips up to and including that id.

        The reference documents no paging, but OpenAI SDK list iterators send ``after=<last id>``
        until a page comes back empty, so the cursor must be honoured to end their loop.
        """
        with self._lock:
            records = list(self._files.values())
        ids = [record.id for record in records]
        start = ids.index(after) + 1 if after in ids else (len(ids) if after else 0)
        return {"object": "list", "data": [record.to_wire() for record in records[start:]]}

    def clear(self) -> None:
        """Forget every file."""
        with self._lock:
            self._files.clear()
