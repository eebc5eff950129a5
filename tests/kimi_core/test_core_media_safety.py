"""Media URL safety in kimi-core: which addresses are fetched, redirects, pinning, limits, secrets.

Everything that connects talks to loopback servers started here; URLs naming other addresses are
refused before any connection (``guard_connections`` fails a test that tries one). The adapter
tests (``test_lc_media_policy.py``, ``test_li_media_policy.py``) run every refused address class
through ``ChatKimi`` and ``Kimi``.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from kimi_core import ChatSettings, ImagePart, MediaPolicy, Message, build_chat_request
from kimi_core.netguard import address_refusal, literal_address
from kimi_core.urls import redact_url
from media_servers import PNG, MediaServer, Route, guard_connections, running_media_server

PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
TRUST_LOOPBACK = MediaPolicy(allowed_hosts={"127.0.0.1"})


@pytest.fixture
def server() -> Iterator[MediaServer]:
    with running_media_server() as state:
        state.routes["/cat.png"] = Route()
        yield state


def _request(url: str, policy: MediaPolicy) -> Any:
    return build_chat_request([Message.user([ImagePart(url=url)])], ChatSettings(media=policy))


async def _complete(client: Any, request: Any, use_async: bool) -> Any:
    return await client.acomplete(request) if use_async else client.complete(request)


def _sent_image(kimi_emulator: Any) -> str:
    return str(kimi_emulator.chat_requests[-1]["messages"][0]["content"][0]["image_url"]["url"])


# -- address classes (the adapter tests send each through a real call) ---------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),  # decimal
        ("0x7f.0.0.1", "loopback"),  # hex
        ("0177.0.0.1", "loopback"),  # octal
        ("127.1", "loopback"),  # short form
        ("::1", "loopback"),
        ("10.1.2.3", "private address (RFC 1918)"),
        ("172.16.0.1", "private address (RFC 1918)"),
        ("192.168.1.1", "private address (RFC 1918)"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("fd00::1", "unique-local"),
        ("fec0::1", "site-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "special-purpose"),
        ("::ffff:169.254.169.254", "IPv4-mapped form of 169.254.169.254, which is a link-local"),
        ("::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1, which is a loopback"),
        ("::127.0.0.1", "IPv4-compatible form of 127.0.0.1"),
        ("::8.8.8.8", "IPv4-compatible address (deprecated"),
        ("64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:a00:1::", "6to4 form of 10.0.0.1"),
    ],
)
def test_refused_address_classes(host, reason):
    ip = literal_address(host)
    assert ip is not None
    refusal = address_refusal(ip)
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize(
    "host", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"]
)
def test_public_addresses_and_their_ipv6_forms_are_fetched(host):
    ip = literal_address(host)
    assert ip is not None
    assert address_refusal(ip) is None


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("[::1]", "::1"),
        ("169.254.169.254.", "169.254.169.254"),
    ],
)
def test_numeric_spellings_parse_as_the_socket_layer_reads_them(spelling, address):
    assert literal_address(spelling) == ipaddress.ip_address(address)


@pytest.mark.parametrize("name", ["example.com", "1.2.3.4.5", "127.0.0.1.nip.io", "08.1", "1..2"])
def test_names_are_not_addresses(name):
    assert literal_address(name) is None


# -- through the client, over HTTP --------------------------------------------------------


def test_loopback_is_refused_before_any_connection(client, kimi_emulator, server):
    with guard_connections() as seen, pytest.raises(ValueError) as error:
        client.complete(_request(server.url("/cat.png"), MediaPolicy()))
    message = str(error.value)
    assert "127.0.0.1 is a loopback address" in message
    assert "MediaPolicy(allowed_hosts={'127.0.0.1'})" in message
    assert "Files API" in message
    assert "data: URL" in message
    assert seen.to(server.port) == []
    assert server.requests == []
    assert kimi_emulator.chat_requests == []


def test_allowed_host_is_fetched_and_inlined(client, kimi_emulator, server):
    client.complete(_request(server.url("/cat.png"), TRUST_LOOPBACK))
    assert _sent_image(kimi_emulator) == PNG_URL
    path, headers = server.requests[0]
    assert path == "/cat.png"
    assert headers["Accept-Encoding"] == "identity"


async def test_allowed_host_is_fetched_and_inlined_async(client, kimi_emulator, server):
    await client.acomplete(_request(server.url("/cat.png"), TRUST_LOOPBACK))
    assert _sent_image(kimi_emulator) == PNG_URL


def test_a_resolver_answer_with_one_internal_address_is_refused(client, kimi_emulator):
    # Every address must be public: one private answer among public ones is enough to refuse.
    policy = MediaPolicy(resolver=lambda host, port: ["93.184.215.14", "10.0.0.7"])
    with guard_connections() as seen, pytest.raises(ValueError, match=r"resolves to 10\.0\.0\.7"):
        client.complete(_request("https://images.example.com/cat.png", policy))
    assert seen.other_than(kimi_emulator.port) == []
    assert kimi_emulator.chat_requests == []


def test_the_connection_goes_to_the_checked_address(client, kimi_emulator, server):
    # DNS rebinding: the first answer passes the check, any later one would point elsewhere
    # (127.0.0.2 is loopback but not allowed, and nothing listens there). The download must
    # use the first answer, so the resolver is asked once and the request arrives at the checked
    # address under the name it was given (Host header).
    answers = iter([["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers, ["127.0.0.2"])

    policy = MediaPolicy(allowed_hosts={"127.0.0.1"}, resolver=rebinding)
    client.complete(_request(server.url("/cat.png", host="img.example.test"), policy))
    assert calls == ["img.example.test"]
    assert server.requests[0][1]["Host"] == f"img.example.test:{server.port}"
    assert _sent_image(kimi_emulator) == PNG_URL


async def test_the_connection_goes_to_the_checked_address_async(client, kimi_emulator, server):
    answers = iter([["127.0.0.1"]])
    policy = MediaPolicy(
        allowed_hosts={"127.0.0.1"}, resolver=lambda h, p: next(answers, ["127.0.0.2"])
    )
    await client.acomplete(_request(server.url("/cat.png", host="img.example.test"), policy))
    assert server.requests[0][1]["Host"] == f"img.example.test:{server.port}"
    assert _sent_image(kimi_emulator) == PNG_URL


# -- redirects -----------------------------------------------------------------------------


def test_redirect_within_the_allowed_host_is_followed(client, kimi_emulator, server):
    server.routes["/old.png"] = Route(status=302, location="/cat.png", body=b"")
    client.complete(_request(server.url("/old.png"), TRUST_LOOPBACK))
    assert [path for path, _ in server.requests] == ["/old.png", "/cat.png"]
    assert _sent_image(kimi_emulator) == PNG_URL


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_trusted_host_redirecting_inward_is_refused(client, kimi_emulator, use_async):
    # cdn.example.test is trusted by name (stub-resolved to loopback server A); it redirects to
    # server B by address, which nobody allowed: refused before connecting to B.
    with running_media_server() as a, running_media_server() as b:
        a.routes["/cat.png"] = Route(status=301, location=b.url("/secret.png"), body=b"")
        b.routes["/secret.png"] = Route()
        policy = MediaPolicy(
            allowed_hosts={"cdn.example.test"}, resolver=lambda host, port: ["127.0.0.1"]
        )
        request = _request(a.url("/cat.png", host="cdn.example.test"), policy)
        with guard_connections() as seen, pytest.raises(ValueError) as error:
            await _complete(client, request, use_async)
        assert "refused to follow a redirect from http://cdn.example.test" in str(error.value)
        assert "127.0.0.1 is a loopback address" in str(error.value)
        assert len(a.requests) == 1
        assert b.requests == []
        assert seen.to(b.port) == []
    assert kimi_emulator.chat_requests == []


def test_redirect_to_cloud_metadata_is_refused_before_connecting(client, kimi_emulator, server):
    server.routes["/cat.png"] = Route(
        status=307, location="http://169.254.169.254/latest/meta-data/", body=b""
    )
    with guard_connections() as seen, pytest.raises(ValueError, match="link-local"):
        client.complete(_request(server.url("/cat.png"), TRUST_LOOPBACK))
    assert [host for host, _ in seen.other_than(kimi_emulator.port)] == ["127.0.0.1"]
    assert kimi_emulator.chat_requests == []


def test_redirects_are_bounded(client, kimi_emulator, server):
    server.routes["/loop.png"] = Route(status=302, location="/loop.png", body=b"")
    policy = MediaPolicy(allowed_hosts={"127.0.0.1"}, max_redirects=3)
    with pytest.raises(ValueError, match=r"more than 3 redirects"):
        client.complete(_request(server.url("/loop.png"), policy))
    assert len(server.requests) == 4
    assert kimi_emulator.chat_requests == []


# -- limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_timeout_bounds_the_whole_download(client, kimi_emulator, server, use_async):
    # One byte every 0.25 s: each read is quick, the whole body would take 10 s. The deadline
    # (0.75 s) ends it after a few bytes; a per-read timeout never would.
    server.routes["/slow.png"] = Route(body=PNG[:40], trickle=0.25)
    request = _request(
        server.url("/slow.png"), MediaPolicy(allowed_hosts={"127.0.0.1"}, timeout=0.75)
    )
    with pytest.raises(ValueError, match=r"took longer than 0\.75 s"):
        await _complete(client, request, use_async)
    assert server.bytes_sent < 40
    assert kimi_emulator.chat_requests == []


def test_content_length_over_the_cap_is_refused_before_the_body(client, kimi_emulator, server):
    # The body trickles (it would hit the 30 s deadline): the cap error can only come from the
    # Content-Length header.
    server.routes["/big.png"] = Route(body=PNG * 100, trickle=0.5)
    policy = MediaPolicy(allowed_hosts={"127.0.0.1"}, max_bytes=len(PNG) * 10)
    with pytest.raises(ValueError, match=rf"larger than the {len(PNG) * 10} byte download cap"):
        client.complete(_request(server.url("/big.png"), policy))
    assert kimi_emulator.chat_requests == []


def test_a_body_without_length_is_counted_as_it_arrives(client, kimi_emulator, server):
    server.routes["/big.png"] = Route(body=b"\x89PNG" + b"\x00" * 300_000, chunked=True)
    policy = MediaPolicy(allowed_hosts={"127.0.0.1"}, max_bytes=100_000)
    with pytest.raises(ValueError, match=r"larger than the 100000 byte download cap"):
        client.complete(_request(server.url("/big.png"), policy))
    assert kimi_emulator.chat_requests == []


def test_the_request_total_is_enforced_while_downloading(client, kimi_emulator, monkeypatch):
    # Eight parts of 300 bytes, sent chunked (no Content-Length), against a 1,000-byte body
    # limit: the fourth download overflows it and nothing after it is fetched.
    import kimi_core.media

    monkeypatch.setattr(kimi_core.media, "MAX_INLINE_BYTES", 1000)
    with running_media_server() as server:
        for i in range(8):
            server.routes[f"/part{i}.png"] = Route(body=b"\x89PNG" + b"\x00" * 296, chunked=True)
        urls = [server.url(f"/part{i}.png") for i in range(8)]
        message = Message.user([ImagePart(url=url) for url in urls])
        settings = ChatSettings(media=TRUST_LOOPBACK)
        with pytest.raises(
            ValueError,
            match=r"add up to more than the API's 1000-byte request limit with http://127",
        ):
            client.complete(build_chat_request([message], settings))
        assert [path for path, _ in server.requests] == [f"/part{i}.png" for i in range(4)]
    assert kimi_emulator.chat_requests == []


# -- policy --------------------------------------------------------------------------------


def test_denied_hosts_win_over_allowed_hosts(client, server):
    policy = MediaPolicy(allowed_hosts={"127.0.0.0/8"}, denied_hosts={"127.0.0.1"})
    with pytest.raises(ValueError, match="denied_hosts"):
        client.complete(_request(server.url("/cat.png"), policy))
    assert server.requests == []


def test_denied_hosts_apply_to_public_hosts_too(client):
    policy = MediaPolicy(denied_hosts={".example.com"}, resolver=lambda h, p: ["93.184.215.14"])
    with guard_connections(), pytest.raises(ValueError, match="denied_hosts"):
        client.complete(_request("https://cdn.example.com/cat.png", policy))


def test_the_hook_sees_every_hop_and_decides(client, kimi_emulator, server):
    server.routes["/old.png"] = Route(status=302, location="/cat.png", body=b"")
    seen: list[str] = []

    def hook(url: str) -> bool | None:
        seen.append(url)
        return True if url.startswith(server.base_url) else None

    client.complete(_request(server.url("/old.png"), MediaPolicy(url_hook=hook)))
    assert seen == [server.url("/old.png"), server.url("/cat.png")]
    assert _sent_image(kimi_emulator) == PNG_URL
    with pytest.raises(ValueError, match="url_hook said no"):
        client.complete(_request(server.url("/cat.png"), MediaPolicy(url_hook=lambda url: False)))


def test_metadata_names_are_refused_without_resolving(client):
    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError("resolved a name that is refused by name")

    policy = MediaPolicy(resolver=resolver)
    for url in ("http://metadata.google.internal/computeMetadata/v1/", "http://LOCALHOST./x"):
        with guard_connections() as seen, pytest.raises(ValueError, match="refused to fetch"):
            client.complete(_request(url, policy))
        assert seen.attempts == []


@pytest.mark.parametrize(
    ("hosts", "match"),
    [
        ("127.0.0.1", "collection of hosts"),
        (["http://a/b"], "neither a host"),
        ([""], "not a host"),
    ],
)
def test_bad_host_lists_fail_at_construction(hosts, match):
    with pytest.raises((TypeError, ValueError), match=match):
        MediaPolicy(allowed_hosts=hosts)


def test_download_off_names_both_fixes_and_hides_secrets():
    url = "https://user:hunter2@cdn.example.com/cat.png?X-Amz-Signature=abc123&w=1"
    with pytest.raises(ValueError) as error:
        _request(url, MediaPolicy(download=False))
    message = str(error.value)
    assert "download is disabled" in message
    assert "base64" in message
    assert "ms://" in message
    assert "hunter2" not in message
    assert "abc123" not in message
    assert "https://REDACTED@cdn.example.com/cat.png?X-Amz-Signature=REDACTED&w=1" in message


# -- secrets in URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h.example/a.png", "https://REDACTED@h.example/a.png"),
        (
            "https://b.s3.amazonaws.com/k.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1"
            "&X-Amz-Signature=ff00&X-Amz-Security-Token=tok",
            "https://b.s3.amazonaws.com/k.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED"
            "&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED",
        ),
        (
            "https://storage.googleapis.com/b/o?X-Goog-Signature=9a&X-Goog-Date=1",
            "https://storage.googleapis.com/b/o?X-Goog-Signature=REDACTED&X-Goog-Date=1",
        ),
        (
            "https://a.blob.core.windows.net/c/i.png?sv=2024&sig=s3cr3t%3D",
            "https://a.blob.core.windows.net/c/i.png?sv=2024&sig=REDACTED",
        ),
        (
            "https://h/i?token=t&access_token=a&key=k&api_key=x&apikey=y&size=2#frag-token",
            "https://h/i?token=REDACTED&access_token=REDACTED&key=REDACTED&api_key=REDACTED"
            "&apikey=REDACTED&size=2",
        ),
        ("https://h/i.png?w=1", "https://h/i.png?w=1"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_no_secret_reaches_errors_or_logs(client, kimi_emulator, server, caplog):
    secret_url = server.url("/cat.png").replace("http://", "http://alice:hunter2@")
    secret_url += "?X-Amz-Signature=abc123&token=tok456"
    server.routes["/missing.png"] = Route(status=404, body=b"")
    missing = secret_url.replace("/cat.png", "/missing.png")
    with caplog.at_level(logging.DEBUG):
        client.complete(_request(secret_url, TRUST_LOOPBACK))  # the download works
        for url, policy in ((secret_url, MediaPolicy()), (missing, TRUST_LOOPBACK)):
            with pytest.raises(ValueError) as error:
                client.complete(_request(url, policy))
            text = f"{error.value!s} {error.value!r}"
            assert "REDACTED" in text
            assert not any(s in text for s in ("hunter2", "abc123", "tok456"))
    logged = " ".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "downloading media from" in logged
    assert not any(s in logged for s in ("hunter2", "abc123", "tok456"))
    # The userinfo still authenticates the download itself (as httpx would send it).
    assert (
        server.requests[0][1]["Authorization"]
        == "Basic " + base64.b64encode(b"alice:hunter2").decode()
    )


# -- TLS to a pinned address -----------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path) -> Iterator[tuple[int, list[str], ssl.SSLContext]]:
    """An HTTPS loopback server with a certificate for img.example.test only."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=img.example.test",
         "-addext", "subjectAltName=DNS:img.example.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str] = []
    server_context.sni_callback = lambda sock, name, context: names.append(name)  # type: ignore[assignment,func-returns-value]
    with running_media_server() as server:
        server.routes["/cat.png"] = Route()
        server.wrap_socket(server_context)
        yield server.port, names, ssl.create_default_context(cafile=str(cert))


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_tls_to_the_pinned_address_checks_the_name(
    client, kimi_emulator, tls_server, monkeypatch, use_async
):
    import kimi_core.fetch

    port, names, trust = tls_server
    monkeypatch.setattr(kimi_core.fetch, "_ssl_context", lambda: trust)
    policy = MediaPolicy(allowed_hosts={"127.0.0.1"}, resolver=lambda host, p: ["127.0.0.1"])
    good = _request(f"https://img.example.test:{port}/cat.png", policy)
    await _complete(client, good, use_async)
    assert _sent_image(kimi_emulator) == PNG_URL
    assert names == ["img.example.test"]  # SNI is the URL's name, not the pinned address
    wrong = _request(f"https://other.example.test:{port}/cat.png", policy)
    with pytest.raises(ValueError, match="CERTIFICATE_VERIFY_FAILED"):
        await _complete(client, wrong, use_async)


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_hanging_resolver_counts_against_the_deadline(client, kimi_emulator, use_async):
    released = threading.Event()

    def hanging(host: str, port: int) -> list[str]:
        released.wait(30)
        return ["93.184.215.14"]

    request = _request(
        "https://img.example.com/cat.png", MediaPolicy(resolver=hanging, timeout=0.3)
    )
    try:
        with guard_connections() as seen, pytest.raises(ValueError, match=r"longer than 0\.3 s"):
            await _complete(client, request, use_async)
    finally:
        released.set()
    assert seen.other_than(kimi_emulator.port) == []
    assert kimi_emulator.chat_requests == []
