"""Which network addresses a media URL may be fetched from.

Apps pass end users' content to the model, so a media URL is untrusted input: fetched blindly it
could reach the app's own network (loopback services, RFC 1918 hosts, the cloud metadata endpoint
at 169.254.169.254). By default only globally routable addresses are fetched. Every address a
host resolves to is checked, and the caller connects to the address that was checked, never to a
second DNS answer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

__all__ = [
    "HostRules",
    "IPAddress",
    "Resolver",
    "address_refusal",
    "literal_address",
    "name_refusal",
    "normalize_host",
    "parse_host_rules",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> IP address strings``; the default is the system's ``getaddrinfo``."""

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
_CGNAT = _V4("100.64.0.0/10")
_RFC1918 = (_V4("10.0.0.0/8"), _V4("172.16.0.0/12"), _V4("192.168.0.0/16"))
_UNIQUE_LOCAL = _V6("fc00::/7")
_NAT64 = _V6("64:ff9b::/96")
_NAT64_LOCAL = _V6("64:ff9b:1::/48")
_IPV4_COMPATIBLE = _V6("::/96")

# Names that always mean the local machine (RFC 6761) or a cloud metadata service, whatever a
# resolver answers for them.
_LOCAL_NAMES = ("localhost",)
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver, as a socket connect would.

    Returns:
        The distinct addresses, in the resolver's order.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def normalize_host(host: str) -> str:
    """Lower-case a host name and drop one trailing dot (``Example.COM.`` is ``example.com``)."""
    host = host.lower()
    return host[:-1] if host.endswith(".") and not host.endswith("..") else host


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    # The C library's inet_aton, which getaddrinfo applies before any DNS lookup: 1 to 4 parts,
    # each decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes. So
    # 2130706433, 0x7f.1 and 0177.0.0.1 all name 127.0.0.1.
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        try:
            if part[:2].lower() == "0x":
                values.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10) if part.isdigit() else -1)
        except ValueError:
            return None
    if any(v < 0 for v in values):
        return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for index, value in enumerate(head):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def literal_address(host: str) -> IPAddress | None:
    """The IP address a host string spells, in any numeric form a connect would accept.

    Handles IPv6 (brackets and zone ids allowed) and every IPv4 spelling ``inet_aton`` takes
    (dotted, decimal ``2130706433``, octal, hex, short ``127.1``).

    Returns:
        The address, or None when ``host`` is a name.
    """
    host = normalize_host(host.strip("[]"))
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.replace("%25", "%"))
        except ValueError:
            return None
    return _inet_aton(host)


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        return "IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


# In order: the first match names the reason. Comparing an address with a network of the other
# IP version is simply False, so one table serves both versions.
_RULES: tuple[tuple[Callable[[IPAddress], bool], str], ...] = (
    (lambda ip: ip.is_unspecified, "an unspecified address"),
    (lambda ip: ip.is_loopback, "a loopback address"),
    (lambda ip: ip.is_link_local, "a link-local address (where cloud metadata services live)"),
    (lambda ip: ip in _CGNAT, "a carrier-grade NAT address (100.64.0.0/10)"),
    (lambda ip: any(ip in net for net in _RFC1918), "a private address (RFC 1918)"),
    (lambda ip: getattr(ip, "is_site_local", False), "a site-local IPv6 address (fec0::/10)"),
    (lambda ip: ip in _UNIQUE_LOCAL, "a unique-local IPv6 address (fc00::/7)"),
    (lambda ip: ip in _NAT64_LOCAL, "a local-use NAT64 address (64:ff9b:1::/48)"),
    (lambda ip: ip.is_multicast, "a multicast address"),
    (lambda ip: ip.is_reserved, "a reserved address"),
    # Python's is_global alone is not enough: it calls multicast and site-local ranges global.
    (lambda ip: not ip.is_global, "a special-purpose address, not globally routable"),
)


def _rule_refusal(ip: IPAddress) -> str | None:
    return next((reason for matches, reason in _RULES if matches(ip)), None)


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be fetched by default, or None when it is a public internet address.

    Refused: loopback, private (RFC 1918), link-local (incl. cloud metadata), carrier-grade NAT,
    unique-local and site-local IPv6, multicast, unspecified, reserved and other special-purpose
    ranges, and IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms of any of those.

    Returns:
        A short reason (``"a loopback address"``, ...), or None.
    """
    embedded = _embedded_v4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if embedded is None:
        return _rule_refusal(ip)
    form, v4 = embedded
    inner = _rule_refusal(v4)
    if inner is not None:
        return f"{'an' if form.startswith('IPv4') else 'a'} {form} form of {v4}, which is {inner}"
    if form == "IPv4-compatible":
        return "an IPv4-compatible address (deprecated, reserved)"
    return None  # a public IPv4 address reached through NAT64, 6to4 or a mapped socket


@dataclass(frozen=True, slots=True)
class HostRules:
    """Host names and networks parsed from a policy's ``allowed_hosts`` / ``denied_hosts``.

    Attributes:
        names: Exact host names; ``.example.com`` (leading dot) matches every subdomain.
        networks: IP networks (a bare address is a /32 or /128).
    """

    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def matches_name(self, host: str) -> bool:
        """Whether the host name is listed (exactly, or under a listed ``.domain``)."""
        host = normalize_host(host)
        if host in self.names:
            return True
        return any(name.startswith(".") and host.endswith(name) for name in self.names)

    def matches_address(self, ip: IPAddress) -> bool:
        """Whether ``ip`` lies in a listed network (IPv4-mapped forms count as their IPv4)."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self.networks)


def parse_host_rules(entries: Collection[str], field: str) -> HostRules:
    """Parse host entries: names, ``.domain`` suffixes, IP addresses or CIDR networks.

    Raises:
        ValueError: An entry that is empty or not a string, naming the field.
    """
    if isinstance(entries, str):
        raise TypeError(f"MediaPolicy.{field} takes a collection of hosts, not one string.")
    names: set[str] = set()
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise ValueError(f"MediaPolicy.{field}: {entry!r} is not a host, address or network.")
        text = entry.strip()
        try:
            networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        literal = literal_address(text)
        if literal is not None:
            networks.append(ipaddress.ip_network(literal))
        elif "/" in text or "://" in text:
            raise ValueError(
                f"MediaPolicy.{field}: {entry!r} is neither a host name nor an IP network; give "
                "a name ('images.internal', '.internal' for subdomains), an address or a CIDR."
            )
        else:
            names.add(normalize_host(text))
    return HostRules(frozenset(names), tuple(networks))


def name_refusal(host: str) -> str | None:
    """Why a host *name* may not be fetched whatever it resolves to, or None."""
    host = normalize_host(host)
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return "a name for this machine (localhost)"
    if host in _METADATA_NAMES:
        return "a cloud metadata service"
    return None
