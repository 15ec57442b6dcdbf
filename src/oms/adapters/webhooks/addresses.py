"""Webhook URLs may only reach the public internet (SSRF guard).

A merchant names the URL, and the worker POSTs to it from inside the operator's network:
without a guard, ``http://169.254.169.254/`` (cloud metadata), ``http://localhost:5432``
or ``http://10.0.0.7/admin`` would be reachable through us. So a URL's host must resolve,
and every address it resolves to must be public (``ipaddress``' ``is_global``: not
loopback, private, link-local, unique-local, shared (CGNAT), reserved, multicast or
unspecified). The check runs when an endpoint is created and again before every send, and
the send then connects to the very address checked (the host name still goes in the
``Host`` header and TLS's SNI), so a name that resolves elsewhere a moment later (DNS
rebinding) reaches nothing new. ``OMS_WEBHOOK_ALLOW_PRIVATE=1`` turns the guard off (tests,
the demo, a receiver on the same host).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["AddressGuard", "Resolved"]

Resolver = Callable[[str, int], list[str]]


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_global and not address.is_multicast:
        return None
    if address.is_loopback:
        kind = "a loopback address"
    elif address.is_link_local:
        kind = "a link-local address (cloud metadata lives there)"
    elif address.is_private:
        kind = "a private address"
    else:
        kind = "not a public address"
    return f"resolves to {address}, {kind}: webhooks reach only public addresses"


@dataclass(frozen=True)
class Resolved:
    """Where a URL's host was found: the address to connect to, or why not."""

    address: str | None
    refusal: str | None


class AddressGuard:
    """Checks webhook URLs; ``allow_private`` lets every address through unchecked."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = _system_resolver) -> None:
        self.allow_private = allow_private
        self._resolve = resolver

    def resolve(self, url: str) -> Resolved:
        """The address to send ``url``'s request to (None: use the URL as it is, the guard
        is off), or the refusal."""
        if self.allow_private:
            return Resolved(None, None)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            refusal = _refusal(literal)
            return Resolved(None if refusal else str(literal), refusal)
        try:
            found = self._resolve(host, port)
        except (OSError, UnicodeError):
            return Resolved(None, f"the host {host!r} does not resolve")
        if not found:
            return Resolved(None, f"the host {host!r} does not resolve")
        for text in found:
            refusal = _refusal(ipaddress.ip_address(text.split("%", 1)[0]))
            if refusal is not None:
                return Resolved(None, refusal)
        return Resolved(found[0], None)

    def __call__(self, url: str) -> str | None:
        """Why ``url`` may not be called, or None (the ``AddressCheck`` port)."""
        return self.resolve(url).refusal
