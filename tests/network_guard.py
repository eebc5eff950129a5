"""Keeps the test suite on this machine: no real key, no name lookups off loopback.

A developer with a real ``MOONSHOT_API_KEY`` in their shell must never bill it from the suite.
:func:`install` moves the ``MOONSHOT_*`` / ``KIMI_*`` variables out of the environment (the live
tests alone get them back) and :func:`guard_lookups` refuses name lookups of anything but
localhost, since a DNS query already leaves the machine. Connections are guarded by pytest-socket
(``--allow-hosts`` in the root ``pyproject.toml``), which restores ``socket.socket.connect`` after
every test; this module leaves ``connect`` alone for that reason.

A refusal raises :class:`NetworkGuardError` *and* is recorded, so code that swallows ``OSError``
(as name-resolution callers do) still fails its test: see :func:`take_violations`.

Standard library only: every isolated ``tests-<package>`` session loads it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

__all__ = [
    "CREDENTIAL_PREFIXES",
    "NetworkGuardError",
    "guard_lookups",
    "install",
    "stashed_credentials",
    "take_violations",
    "unguarded_lookups",
]

CREDENTIAL_PREFIXES = ("MOONSHOT_", "KIMI_")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_REAL_GETADDRINFO = socket.getaddrinfo

_violations: list[str] = []
_stash: dict[str, str] = {}


class NetworkGuardError(OSError):
    """A test tried to look up a name that is not localhost."""


def _is_local_or_numeric(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, ...): the local wildcard or loopback
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower().rstrip(".") in _LOCAL_NAMES:
        return True
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        pass
    else:
        return True
    # Any other spelling the C library reads as an address (2130706433, 127.1) needs no DNS.
    try:
        _REAL_GETADDRINFO(host, None, 0, 0, 0, socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return False
    return True


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_local_or_numeric(host):
        _violations.append(f"name lookup of {host!r}")
        raise NetworkGuardError(
            f"network guard: looking up {host!r} would leave this machine; tests use 127.0.0.1"
        )
    return _REAL_GETADDRINFO(host, *args, **kwargs)


def install() -> None:
    """Move the Kimi credentials out of the environment and guard name lookups (idempotent)."""
    for name in list(os.environ):
        if name.startswith(CREDENTIAL_PREFIXES):
            _stash[name] = os.environ.pop(name)
    guard_lookups()


def guard_lookups() -> None:
    """(Re-)install the lookup guard; pytest-socket may have put the real function back."""
    if socket.getaddrinfo is _REAL_GETADDRINFO:
        socket.getaddrinfo = _guarded_getaddrinfo


def unguarded_lookups() -> None:
    """Give the real ``getaddrinfo`` back (the live tests talk to the real API by design)."""
    socket.getaddrinfo = _REAL_GETADDRINFO


def take_violations() -> list[str]:
    """The refusals recorded since the last call, cleared."""
    taken = list(_violations)
    _violations.clear()
    return taken


def stashed_credentials() -> dict[str, str]:
    """The ``MOONSHOT_*`` / ``KIMI_*`` variables the developer's shell had (for live tests only)."""
    return dict(_stash)
