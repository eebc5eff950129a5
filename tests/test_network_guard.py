"""The suite cannot leave loopback or read the developer's real key (tests/network_guard.py)."""

from __future__ import annotations

import os
import socket

import network_guard
import pytest
from pytest_socket import SocketConnectBlockedError


def test_credentials_are_cleared_for_the_session() -> None:
    assert not [name for name in os.environ if name.startswith(network_guard.CREDENTIAL_PREFIXES)]


def test_connections_off_loopback_are_refused_before_any_packet() -> None:
    # The guard must be in place before anything is attempted: without it this test stops here
    # rather than sending a packet.
    assert socket.socket.connect.__name__ == "guarded_connect"
    for address in (("192.0.2.1", 443), ("169.254.169.254", 80)):
        with (
            socket.socket() as sock,
            pytest.raises(SocketConnectBlockedError),
            pytest.warns(UserWarning, match=f'with host "{address[0]}"'),
        ):
            sock.connect(address)


def test_name_lookups_are_refused_and_recorded() -> None:
    with pytest.raises(network_guard.NetworkGuardError):
        socket.getaddrinfo("api.moonshot.ai", 443)
    # Recorded too, so a caller that swallows OSError still fails its test; taken here on purpose.
    assert network_guard.take_violations() == ["name lookup of 'api.moonshot.ai'"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "2130706433", "203.0.113.7"])
def test_local_and_numeric_names_resolve_without_dns(host: str) -> None:
    assert socket.getaddrinfo(host, 80)
    assert network_guard.take_violations() == []


def test_loopback_connections_work() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
