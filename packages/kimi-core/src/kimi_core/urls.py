"""Show a URL without its secrets: for error messages and logs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["redact_url"]

REDACTED = "REDACTED"

# Query parameters that carry credentials in signed or tokenised URLs (S3/GCS/Azure presigned
# URLs, OAuth tokens, API keys). Names are compared lower-cased.
_SECRET_PARAMS = frozenset(
    {
        "sig",
        "signature",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "key",
        "api_key",
        "apikey",
        "api-key",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "auth",
        "authorization",
        "code",
        "session",
        "sessionid",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "x-goog-security-token",
    }
)
# Vendor-prefixed spellings (``X-Amz-Signature``, ``GoogleAccessId``'s ``Signature``, ...).
_SECRET_SUFFIXES = ("signature", "token", "secret", "credential", "password", "apikey", "api_key")
_DATA_URL_SHOWN = 48


def _is_secret(name: str) -> bool:
    name = name.lower()
    return name in _SECRET_PARAMS or name.endswith(_SECRET_SUFFIXES)


def redact_url(url: str) -> str:
    """Return ``url`` fit to show: userinfo and credential-bearing query values replaced.

    ``https://user:pw@host/a.png?X-Amz-Signature=abc&w=1`` becomes
    ``https://REDACTED@host/a.png?X-Amz-Signature=REDACTED&w=1``. ``data:`` URLs are cut short
    (their payload is content, not an address). Unparseable input is not echoed at all.

    Args:
        url: Any URL string.

    Returns:
        The URL with secrets replaced by ``REDACTED``.
    """
    if url[:5].lower() == "data:":
        return url if len(url) <= _DATA_URL_SHOWN else f"{url[:_DATA_URL_SHOWN]}...({len(url)})"
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            if any(_is_secret(name) for name, _ in pairs):
                query = urlencode(
                    [(n, REDACTED if _is_secret(n) else v) for n, v in pairs], safe="/:,"
                )
        # A fragment can hold tokens too (OAuth implicit flow); it is never sent, so drop it.
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "<unparseable URL>"
