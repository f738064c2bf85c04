"""The address policy: which URLs and which IP addresses the checker may reach.

One policy, applied after every name resolution (:func:`vetted`), to every
redirect hop and to the peer address of every socket we open, by both HTTP
stacks (:mod:`wikicore.net.aio` and :mod:`wikicore.net.session`).

IPv6 can carry an IPv4 address in several standard forms; an attacker who cites
``http://[2002:a9fe:a9fe::]/`` hopes the policy looks only at the IPv6 address
(a global 6to4 address) and not at the IPv4 address a 6to4 relay delivers the
packets to (169.254.169.254, the cloud metadata service). So every form is
decoded and **both** addresses must pass:

================================  =============================================
IPv4-mapped ``::ffff:a.b.c.d``    RFC 4291 §2.5.5.2
IPv4-compatible ``::a.b.c.d``     RFC 4291 §2.5.5.1 (deprecated, still routed by some stacks)
6to4 ``2002:AABB:CCDD::/16``      RFC 3056: bits 16-48
Teredo ``2001:0::/32``            RFC 4380: the client address, bits 96-128 inverted
NAT64 ``64:ff9b::/96``            RFC 6052 well-known prefix: the last 32 bits
NAT64 ``64:ff9b:1::/48``          RFC 8215 local-use prefix: the last 32 bits
================================  =============================================

Scoped addresses (``fe80::1%eth0``, in a URL ``[fe80::1%25eth0]``) name an
interface of *this* machine; a citation cannot mean one, so such a URL is
invalid, not dead.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from .failures import AddressRefused, Failure

__all__ = [
    "ALLOWED_SCHEMES",
    "Failure",
    "address_allowed",
    "embedded_ipv4",
    "host_key",
    "refusal",
    "refusal_message",
    "url_problem",
    "vetted",
]

#: Schemes we will request. ``javascript:``, ``file:``, ``ftp:`` and the rest are invalid in a citation.
ALLOWED_SCHEMES = frozenset({"http", "https"})

_BAD_CHARS = re.compile(r"[\s\x00-\x1f]")
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries in one of the standard forms, if any (see the module doc)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # (server, client): packets go to the client's address
    if ip in _NAT64_WELL_KNOWN or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # ::a.b.c.d; ``::`` and ``::1`` are the unspecified and loopback addresses, judged as themselves.
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refused(ip: _IPAddress, allow_private: bool) -> str | None:
    # Link-local (169.254.0.0/16 is the metadata service), multicast and unspecified:
    # refused even with allow_private, because no citation lives there.
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified:
        return "unspecified"
    if allow_private:
        return None
    if ip.is_loopback:
        return "loopback"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "not globally routable"
    return None


def refusal(address: str, allow_private: bool = False) -> str | None:
    """Why ``address`` (an IP literal) may not be reached, in plain words; ``None`` if it may.

    Refuses everything that is not globally routable: private (RFC 1918, ULA),
    loopback, link-local, multicast, reserved, unspecified and shared
    (100.64.0.0/10) addresses, and every IPv6 form that embeds such an IPv4
    address. ``allow_private`` opens private and loopback addresses (a wiki on
    an intranet, tests on 127.0.0.1) but never link-local, multicast or
    unspecified ones. Scoped addresses (``%zone``) are refused outright.
    """
    if "%" in address:
        return "a scoped address (names an interface of this machine)"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            inner_why = _refused(inner, allow_private)
            if inner_why is not None:
                return f"{inner_why} (it embeds {inner})"
            if ip.sixtofour is None and ip.teredo is None:
                # A translated address (mapped, compatible, NAT64: what DNS64 hands an
                # IPv6-only host for every IPv4-only site) is the IPv4 address it carries.
                return None
    return _refused(ip, allow_private)


def address_allowed(address: str, allow_private: bool = False) -> bool:
    """Whether we may connect to ``address`` (an IP literal); :func:`refusal` says why not."""
    return refusal(address, allow_private) is None


def refusal_message(host: str, addresses: list[str], allow_private: bool) -> str:
    """Why ``host`` is not fetched, naming the first refused address (and the flag that would allow it)."""
    address = addresses[0] if addresses else "?"
    why = refusal(address, allow_private) or "refused"
    shown = host.strip("[]")
    where = f"{shown} is" if shown == address else f"{shown} resolves to {address},"
    hint = "" if allow_private or refusal(address, True) is not None else "; --allow-private would check it"
    return f"{where} a {why} address, not fetched{hint}"


def vetted(host: str, addresses: list[str], allow_private: bool) -> list[str]:
    """The addresses of ``host`` the policy allows, in order; :class:`AddressRefused` if none.

    Every HTTP stack connects only to addresses that came out of here (and checks
    the peer of the socket again where the library lets it), so DNS rebinding
    cannot slip a private address past the policy.
    """
    allowed = [address for address in addresses if refusal(address, allow_private) is None]
    if not allowed:
        refused = [address for address in addresses if address not in allowed]
        raise AddressRefused(refusal_message(host, refused, allow_private))
    return allowed


def url_problem(url: str) -> tuple[Failure, str] | None:
    """What makes ``url`` unfit to request at all (before any lookup), or ``None``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return Failure.BAD_URL, f"malformed url: {exc}"
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return Failure.SCHEME, f"scheme {scheme or '(none)'!r} is not http or https"
    if not parts.hostname:
        return Failure.BAD_URL, "url has no host"
    if _BAD_CHARS.search(url):
        return Failure.BAD_URL, "url contains whitespace or control characters"
    if "[" in parts.netloc and "%" in parts.hostname:
        return Failure.BAD_URL, "a scoped IPv6 address (with %zone) names an interface of this machine"
    return None


def host_key(url: str) -> str:
    """The politeness key of ``url``: lower-cased host and explicit port (``example.org:443``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    return f"{host}:{port}"
