"""The Files API: upload, get, list, delete, content, and ``ms://`` references.

Media uploads are cached by content hash (per endpoint and key), so the same bytes are never
uploaded twice by one process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kimi_core.errors import MalformedResponseError
from kimi_core.messages import ImagePart, VideoPart

if TYPE_CHECKING:
    from kimi_core.client import KimiClient

__all__ = [
    "MAX_FILE_BYTES",
    "AsyncFiles",
    "FileObject",
    "FilePurpose",
    "Files",
    "clear_upload_cache",
    "ms_url",
]

FilePurpose = Literal["file-extract", "image", "video", "batch"]
_PURPOSES = ("file-extract", "image", "video", "batch")
MAX_FILE_BYTES = 100 * 1024 * 1024
"""The API's per-file limit."""


def ms_url(file_id: str) -> str:
    """The ``ms://`` reference of an uploaded image or video, for ``image_url``/``video_url``."""
    if not file_id or "://" in file_id:
        raise ValueError(f"not a file id: {file_id!r}")
    return f"ms://{file_id}"


@dataclass(frozen=True, slots=True)
class FileObject:
    """A stored file, as the API describes it."""

    id: str
    filename: str | None = None
    purpose: str | None = None
    bytes: int | None = None
    created_at: int | None = None
    status: str | None = None
    status_details: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_wire(cls, data: Any) -> FileObject:
        """Parse a FileObject body."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise MalformedResponseError("file object has no id", body=data)
        return cls(
            id=data["id"],
            filename=data.get("filename"),
            purpose=data.get("purpose"),
            bytes=data.get("bytes"),
            created_at=data.get("created_at"),
            status=data.get("status"),
            status_details=data.get("status_details"),
            raw=data,
        )

    @property
    def url(self) -> str:
        """``ms://<id>``."""
        return ms_url(self.id)


_cache_lock = threading.Lock()
_upload_cache: dict[tuple[str, str, str, str], str] = {}


def _read(data: bytes | str | Path) -> tuple[bytes, str | None]:
    if isinstance(data, bytes):
        return data, None
    path = Path(data)
    return path.read_bytes(), path.name


def _prepare(
    data: bytes | str | Path, filename: str | None, purpose: str, mime_type: str | None
) -> tuple[bytes, tuple[str, bytes, str]]:
    import mimetypes

    if purpose not in _PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(_PURPOSES)}, got {purpose!r}.")
    content, found_name = _read(data)
    if not content:
        raise ValueError("the file is empty; the API rejects zero-byte uploads.")
    if len(content) > MAX_FILE_BYTES:
        raise ValueError(
            f"the file is {len(content)} bytes; the API accepts at most {MAX_FILE_BYTES} (100 MB)."
        )
    name = filename or found_name
    mime = mime_type or (mimetypes.guess_type(name)[0] if name else None)
    if not name:
        # file-extract picks the parser from the extension, so give one when we can.
        ext = mimetypes.guess_extension(mime or "") or ".bin"
        name = f"upload{ext}"
    return content, (name, content, mime or "application/octet-stream")


def _cache_key(client: KimiClient, content: bytes, purpose: str) -> tuple[str, str, str, str]:
    import hashlib

    base_url, digest = client.account
    return (base_url, digest, purpose, hashlib.sha256(content).hexdigest())


def _cached(key: tuple[str, str, str, str]) -> str | None:
    with _cache_lock:
        return _upload_cache.get(key)


def _remember(key: tuple[str, str, str, str], file_id: str) -> str:
    with _cache_lock:
        _upload_cache[key] = file_id
    return file_id


def _media_part(kind: str, file_id: str) -> ImagePart | VideoPart:
    return ImagePart(file_id=file_id) if kind == "image" else VideoPart(file_id=file_id)


def _list(data: Any) -> list[FileObject]:
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise MalformedResponseError("file list has no data list", body=data)
    return [FileObject.from_wire(item) for item in items]


def _content_text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


class Files:
    """Sync Files API bound to a :class:`KimiClient`."""

    def __init__(self, client: KimiClient) -> None:
        self._client = client

    def upload(
        self,
        data: bytes | str | Path,
        *,
        purpose: FilePurpose,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> FileObject:
        """Upload a file (``POST /v1/files``).

        Raises:
            ValueError: Empty file, over 100 MB, or unknown purpose (before any request).
        """
        _, part = _prepare(data, filename, purpose, mime_type)
        body = self._client.request_json(
            "POST", "/files", body={"purpose": purpose}, files={"file": part}
        )
        return FileObject.from_wire(body)

    def upload_media(
        self,
        data: bytes | str | Path,
        *,
        kind: Literal["image", "video"],
        mime_type: str | None = None,
    ) -> ImagePart | VideoPart:
        """Upload an image/video once (content-hash cache) and return a part referencing it."""
        content, part = _prepare(data, None, kind, mime_type)
        key = _cache_key(self._client, content, kind)
        file_id = _cached(key)
        if file_id is None:
            body = self._client.request_json(
                "POST", "/files", body={"purpose": kind}, files={"file": part}
            )
            file_id = _remember(key, FileObject.from_wire(body).id)
        return _media_part(kind, file_id)

    def get(self, file_id: str) -> FileObject:
        """``GET /v1/files/{id}``."""
        return FileObject.from_wire(self._client.request_json("GET", f"/files/{file_id}"))

    def list(self) -> list[FileObject]:
        """``GET /v1/files``."""
        return _list(self._client.request_json("GET", "/files"))

    def delete(self, file_id: str) -> bool:
        """``DELETE /v1/files/{id}``; True when the server confirms the deletion."""
        data = self._client.request_json("DELETE", f"/files/{file_id}")
        _forget(file_id)
        return bool(isinstance(data, dict) and data.get("deleted"))

    def content(self, file_id: str) -> str:
        """``GET /v1/files/{id}/content``: the extracted text of a ``file-extract`` file."""
        return _content_text(self._client.request("GET", f"/files/{file_id}/content").content)


class AsyncFiles:
    """Async Files API bound to a :class:`KimiClient`."""

    def __init__(self, client: KimiClient) -> None:
        self._client = client

    async def upload(
        self,
        data: bytes | str | Path,
        *,
        purpose: FilePurpose,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> FileObject:
        """Async :meth:`Files.upload`."""
        _, part = _prepare(data, filename, purpose, mime_type)
        body = await self._client.arequest_json(
            "POST", "/files", body={"purpose": purpose}, files={"file": part}
        )
        return FileObject.from_wire(body)

    async def upload_media(
        self,
        data: bytes | str | Path,
        *,
        kind: Literal["image", "video"],
        mime_type: str | None = None,
    ) -> ImagePart | VideoPart:
        """Async :meth:`Files.upload_media`."""
        content, part = _prepare(data, None, kind, mime_type)
        key = _cache_key(self._client, content, kind)
        file_id = _cached(key)
        if file_id is None:
            body = await self._client.arequest_json(
                "POST", "/files", body={"purpose": kind}, files={"file": part}
            )
            file_id = _remember(key, FileObject.from_wire(body).id)
        return _media_part(kind, file_id)

    async def get(self, file_id: str) -> FileObject:
        """Async :meth:`Files.get`."""
        return FileObject.from_wire(await self._client.arequest_json("GET", f"/files/{file_id}"))

    async def list(self) -> list[FileObject]:
        """Async :meth:`Files.list`."""
        return _list(await self._client.arequest_json("GET", "/files"))

    async def delete(self, file_id: str) -> bool:
        """Async :meth:`Files.delete`."""
        data = await self._client.arequest_json("DELETE", f"/files/{file_id}")
        _forget(file_id)
        return bool(isinstance(data, dict) and data.get("deleted"))

    async def content(self, file_id: str) -> str:
        """Async :meth:`Files.content`."""
        response = await self._client.arequest("GET", f"/files/{file_id}/content")
        return _content_text(response.content)


def clear_upload_cache() -> None:
    """Forget every cached upload (e.g. after files were deleted outside this process)."""
    with _cache_lock:
        _upload_cache.clear()


def _forget(file_id: str) -> None:
    with _cache_lock:
        for key in [k for k, v in _upload_cache.items() if v == file_id]:
            del _upload_cache[key]
