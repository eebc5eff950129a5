"""Media parts on the wire: what passes through, what is inlined, what is refused.

The API accepts ``data:`` URLs and ``ms://<file_id>`` references only; public http(s) URLs are
rejected by the server, so they are downloaded and inlined when the policy allows it (public
addresses only unless the app allows more, size caps, a deadline; see :mod:`kimi_core.fetch`), or
refused with a clear error before any request.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kimi_core.fetch import afetch, fetch
from kimi_core.messages import ImagePart, VideoPart
from kimi_core.netguard import parse_host_rules
from kimi_core.urls import redact_url

__all__ = [
    "IMAGE_MIME_TYPES",
    "MAX_INLINE_BYTES",
    "VIDEO_MIME_TYPES",
    "MediaPolicy",
    "adownload_media",
    "ainline_remote_media",
    "check_downloads_allowed",
    "check_inline_total",
    "download_media",
    "has_remote_media",
    "inline_remote_media",
    "large_inline_media",
    "media_part_to_wire",
    "needs_client_work",
]

MediaKind = Literal["image", "video"]

IMAGE_MIME_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/heic", "image/heif"}
)
VIDEO_MIME_TYPES = frozenset(
    {
        "video/mp4",
        "video/mpeg",
        "video/quicktime",
        "video/x-msvideo",
        "video/avi",
        "video/x-flv",
        "video/mpg",
        "video/webm",
        "video/x-ms-wmv",
        "video/wmv",
        "video/3gpp",
        "video/mov",
    }
)
_MIME_ALIASES = {"image/jpg": "image/jpeg"}
MAX_INLINE_BYTES = 100 * 1024 * 1024
"""The API's cap on a whole request body; one inlined part above it can never be sent."""


@dataclass(frozen=True, slots=True)
class MediaPolicy:
    """How media that the API cannot take as given is handled before sending.

    By default an http(s) URL is downloaded only when every address its host resolves to is a
    public internet address: loopback, private, link-local (cloud metadata), carrier-grade NAT,
    unique/site-local IPv6, multicast, reserved and unspecified addresses, in any spelling, are
    refused before any connection, on every redirect hop too.

    Attributes:
        download: Download and inline http(s) URLs; when False they raise ``ValueError``.
        max_bytes: Largest single download (the API caps the whole request body at 100 MB, and
            downloads are refused as soon as they would push the request past that).
        timeout: Seconds one download may take in all (connects, redirects, every read).
        upload_over: Upload inline media larger than this many bytes through the Files API and
            send ``ms://<file_id>`` instead (each distinct content uploaded once); None: never.
        allowed_hosts: Hosts fetched even when they resolve to internal addresses: names
            (``"images.internal"``; ``".internal"`` for every subdomain), IP addresses or
            networks (``"10.1.0.0/16"``, ``"127.0.0.1"``).
        denied_hosts: Hosts never fetched, in the same forms; they win over everything else.
        url_hook: Called with every URL (each redirect hop too) before it is resolved: True
            fetches it even from internal addresses, False refuses it, None applies the rules.
        max_redirects: Redirects followed per download.
        resolver: ``(host, port) -> IP address strings``, for custom DNS; default: the system
            resolver. Every address returned is checked; the connection goes to the first.
    """

    download: bool = True
    max_bytes: int = 20 * 1024 * 1024
    timeout: float = 30.0
    upload_over: int | None = None
    allowed_hosts: Collection[str] = frozenset()
    denied_hosts: Collection[str] = frozenset()
    url_hook: Callable[[str], bool | None] | None = None
    max_redirects: int = 5
    resolver: Callable[[str, int], Sequence[str]] | None = None

    def __post_init__(self) -> None:
        for name in ("allowed_hosts", "denied_hosts"):
            value: Collection[str] = getattr(self, name)
            parse_host_rules(value, name)  # a typo fails here, not at the first download
            # Stored frozen, so the policy stays hashable and nobody mutates it behind a model.
            object.__setattr__(self, name, frozenset(value))
        if self.timeout <= 0:
            raise ValueError("MediaPolicy.timeout must be a positive number of seconds.")
        if self.max_bytes < 0 or self.max_redirects < 0:
            raise ValueError("MediaPolicy.max_bytes and max_redirects cannot be negative.")


def _check_mime(kind: MediaKind, mime: str) -> str:
    mime = _MIME_ALIASES.get(mime.lower(), mime.lower())
    if mime == "image/svg+xml":
        raise ValueError(
            "SVG images are rejected by the Kimi API; send the SVG source as text instead."
        )
    allowed = IMAGE_MIME_TYPES if kind == "image" else VIDEO_MIME_TYPES
    if mime not in allowed:
        raise ValueError(
            f"unsupported {kind} type {mime!r}; the Kimi API accepts {', '.join(sorted(allowed))}."
        )
    return mime


def _check_inline_size(size: int, where: str) -> None:
    if size > MAX_INLINE_BYTES:
        raise ValueError(
            f"{where}: {size} bytes of inline media exceed the API's {MAX_INLINE_BYTES}-byte "
            "request limit; upload it with the Files API (files.upload_media), pass the file_id."
        )


def _data_url_mime(url: str) -> str:
    header = url[5 : url.find(",")] if "," in url else ""
    return header.split(";", 1)[0]


def media_part_to_wire(part: ImagePart | VideoPart, *, where: str) -> dict[str, Any]:
    """Convert an image or video part to its wire form.

    ``data:`` URLs (with an accepted MIME type) and ``ms://`` references pass through; ``data`` plus
    ``mime_type`` becomes a base64 ``data:`` URL; ``file_id`` becomes ``ms://<file_id>``; http(s)
    URLs are kept for :func:`inline_remote_media` to download before sending.

    Args:
        part: The part.
        where: Where the part sits (e.g. ``"messages[2].content[1]"``), for error messages.

    Returns:
        ``{"type": "image_url", "image_url": {"url": ...}}`` (or the ``video_url`` form).

    Raises:
        ValueError: The part is empty, ambiguous, or of an unsupported type.
    """
    kind: MediaKind = "image" if isinstance(part, ImagePart) else "video"
    given = [n for n in ("url", "data", "file_id") if getattr(part, n) is not None]
    if len(given) != 1:
        raise ValueError(
            f"{where}: an {kind} part needs exactly one of url, data (with mime_type) or "
            f"file_id, got {given or 'none'}."
        )
    if part.file_id is not None:
        url = f"ms://{part.file_id}"
    elif part.data is not None:
        if not part.mime_type:
            raise ValueError(f"{where}: {kind} data needs a mime_type (e.g. 'image/png').")
        mime = _check_mime(kind, part.mime_type)
        _check_inline_size(len(part.data), where)
        url = f"data:{mime};base64,{base64.b64encode(part.data).decode('ascii')}"
    else:
        url = str(part.url)
        if url.startswith("data:"):
            _check_mime(kind, _data_url_mime(url))
            _check_inline_size(len(url) * 3 // 4, where)
        elif not url.startswith(("ms://", "http://", "https://")):
            raise ValueError(
                f"{where}: unsupported {kind} URL scheme in {redact_url(url)[:60]!r}; use a "
                "data: URL, ms://<file_id>, or an http(s) URL to download."
            )
    return {"type": f"{kind}_url", f"{kind}_url": {"url": url}}


def _finish_download(kind: MediaKind, mime: str, data: bytes) -> str:
    mime = _check_mime(kind, mime.split(";", 1)[0].strip() or "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _cap_error(policy: MediaPolicy) -> Callable[[str], ValueError]:
    def error(shown: str) -> ValueError:
        return ValueError(
            f"media at {shown} is larger than the {policy.max_bytes} byte download cap; upload "
            "it with the Files API and pass file_id instead, or raise MediaPolicy.max_bytes."
        )

    return error


def _total_error(shown: str) -> ValueError:
    return ValueError(
        f"the request's media would add up to more than the API's {MAX_INLINE_BYTES}-byte "
        f"request limit with {shown}; upload some with the Files API "
        "(files.upload_media) and pass file ids, or set MediaPolicy(upload_over=...)."
    )


def _limits(policy: MediaPolicy, room: int | None) -> tuple[int, Callable[[str], ValueError]]:
    if room is not None and room < policy.max_bytes:
        return max(room, 0), _total_error
    return policy.max_bytes, _cap_error(policy)


def download_media(
    url: str, kind: MediaKind, policy: MediaPolicy, *, room: int | None = None
) -> str:
    """Download an http(s) media URL under ``policy`` and return it as a ``data:`` URL (sync).

    Args:
        url: The URL.
        kind: ``"image"`` or ``"video"`` (the content type must fit).
        policy: Addresses, hosts, hook, size and time limits.
        room: Bytes the request can still take (None: only ``policy.max_bytes`` applies).

    Raises:
        ValueError: Refused, failed, timed out, too large, or of an unsupported type.
    """
    limit, too_big = _limits(policy, room)
    fetched = fetch(url, policy, limit, too_big)
    return _finish_download(kind, fetched.content_type, fetched.data)


async def adownload_media(
    url: str, kind: MediaKind, policy: MediaPolicy, *, room: int | None = None
) -> str:
    """Async :func:`download_media`."""
    limit, too_big = _limits(policy, room)
    fetched = await afetch(url, policy, limit, too_big)
    return _finish_download(kind, fetched.content_type, fetched.data)


_KINDS: tuple[tuple[str, MediaKind], ...] = (("image_url", "image"), ("video_url", "video"))


def _media_refs(messages: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], MediaKind]]:
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                for key, kind in _KINDS:
                    ref = part.get(key) if isinstance(part, dict) else None
                    if isinstance(ref, dict) and isinstance(ref.get("url"), str):
                        yield ref, kind


def _pending(messages: list[dict[str, Any]]) -> list[tuple[dict[str, Any], MediaKind]]:
    return [
        (r, k) for r, k in _media_refs(messages) if r["url"].startswith(("http://", "https://"))
    ]


def check_inline_total(messages: list[dict[str, Any]]) -> None:
    """Refuse a body whose inline media add up to more than the API's request-body cap.

    Each part may be under the cap while all of them together are not; the server would only say
    so after the whole body was uploaded.

    Raises:
        ValueError: The total, the limit and the fix.
    """
    inline = [ref["url"] for ref, _ in _media_refs(messages) if ref["url"].startswith("data:")]
    total = sum(len(url) * 3 // 4 for url in inline)
    if total > MAX_INLINE_BYTES:
        raise ValueError(
            f"the request's inline media add up to {total} bytes, over the API's "
            f"{MAX_INLINE_BYTES}-byte request limit; upload some with the Files API "
            "(files.upload_media) and pass file ids, or set MediaPolicy(upload_over=...)."
        )


def large_inline_media(
    messages: list[dict[str, Any]], threshold: int
) -> list[tuple[dict[str, Any], MediaKind, bytes, str]]:
    """Inline (``data:``) media parts larger than ``threshold`` bytes, decoded, with their MIME."""
    out = []
    for ref, kind in _media_refs(messages):
        url = ref["url"]
        # base64 grows data by 4/3: skip the decode for parts that cannot be over the threshold.
        if url.startswith("data:") and len(url) * 3 // 4 > threshold:
            header, _, payload = url.partition(",")
            data = base64.b64decode(payload)
            if len(data) > threshold:
                out.append((ref, kind, data, header[5:].split(";", 1)[0]))
    return out


def has_remote_media(messages: list[dict[str, Any]]) -> bool:
    """Whether wire messages hold http(s) media URLs (the API rejects them)."""
    return bool(_pending(messages))


def needs_client_work(messages: list[dict[str, Any]], policy: MediaPolicy) -> bool:
    """Whether media must be downloaded or uploaded by the client before the request is sent."""
    if _pending(messages):
        return True
    return policy.upload_over is not None and bool(large_inline_media(messages, policy.upload_over))


def _room(messages: list[dict[str, Any]], policy: MediaPolicy) -> int | None:
    # With upload_over, big downloads leave the body for the Files API: only max_bytes applies.
    if policy.upload_over is not None:
        return None
    inline = [ref["url"] for ref, _ in _media_refs(messages) if ref["url"].startswith("data:")]
    return MAX_INLINE_BYTES - sum(len(url) * 3 // 4 for url in inline)


def inline_remote_media(messages: list[dict[str, Any]], policy: MediaPolicy) -> None:
    """Replace every http(s) media URL in wire messages by a downloaded ``data:`` URL, in place.

    Downloads run one after another; each may only fill what the request body has left, so a
    request that cannot be sent is refused at the first download that overflows it.
    """
    check_downloads_allowed(messages, policy)
    for ref, kind in _pending(messages):
        ref["url"] = download_media(ref["url"], kind, policy, room=_room(messages, policy))


async def ainline_remote_media(messages: list[dict[str, Any]], policy: MediaPolicy) -> None:
    """Async :func:`inline_remote_media`."""
    check_downloads_allowed(messages, policy)
    for ref, kind in _pending(messages):
        room = _room(messages, policy)
        ref["url"] = await adownload_media(ref["url"], kind, policy, room=room)


def check_downloads_allowed(messages: list[dict[str, Any]], policy: MediaPolicy) -> None:
    """Refuse http(s) media URLs when the policy switches downloads off.

    Raises:
        ValueError: Naming the first URL (without secrets) and the two ways to send it instead.
    """
    if policy.download:
        return
    for ref, kind in _pending(messages):
        raise ValueError(
            f"the {kind} URL {redact_url(ref['url'])} cannot be sent: the Kimi API rejects public "
            "URLs and media download is disabled (MediaPolicy(download=False)). Send the bytes "
            f"instead (a data:{kind}/...;base64,... URL; LangChain: a {{'type': '{kind}', "
            f"'base64': ..., 'mime_type': ...}} block; LlamaIndex: "
            f"{'ImageBlock(image=...)' if kind == 'image' else 'VideoBlock(video=...)'}), or "
            "upload the file with the Files API (client.files.upload_media) and pass its "
            "file_id, sent as ms://<file_id>."
        )
