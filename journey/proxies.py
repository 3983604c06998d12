"""Who a request came from, behind reverse proxies the operator trusts.

A login throttle or a link guard counts by client address. Behind a TLS proxy every
request's peer is the proxy, so every client would share one count; the proxy says
who it forwarded for in ``X-Forwarded-For`` (or ``Forwarded``). Anyone can send those
headers, though, so they count only when the peer is a proxy the operator named
(``trusted_proxies``), and then only the hops those proxies added: the list is read
from the right, skipping trusted proxies, and the first address that is not one is the
client. Whatever a client wrote to the left of that is ignored.

Standard library only: both ``journey.api`` and ``tui.hosting.web`` use it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ProxyListError(ValueError):
    """A trusted_proxies entry that is not an address or a network."""


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["127.0.0.1", "10.0.0.0/8", "::1"]`` as networks; ProxyListError names a bad one."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ProxyListError(entry) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    """An address from a forwarded hop: ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``, ``::1``,
    quoted or not. None for anything else (``unknown``, an obfuscated ``_name``)."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped:
        return found.ipv4_mapped
    return found


def _forwarded_for(value: str) -> list[str]:
    """The ``for=`` of each element of an RFC 7239 ``Forwarded`` header, in order."""
    hops = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, found = pair.partition("=")
            if name.strip().lower() == "for":
                hops.append(found)
    return hops


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies whose forwarding headers are believed (none by default)."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        return cls(parse_networks(entries))

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(
        self,
        peer: str | None,
        forwarded_for: Sequence[str] = (),
        forwarded: Sequence[str] = (),
    ) -> str:
        """The client's address for a request from ``peer`` carrying these headers (each
        a list of the header's values, in order). Headers from an untrusted peer are
        ignored. ``X-Forwarded-For`` is read when present, else ``Forwarded``: a proxy
        that sets only ``Forwarded`` must drop a client's ``X-Forwarded-For``."""
        if not peer:
            return "unknown"
        peer_address = _address(peer)
        if not self.networks or not self.trusts(peer_address):
            return peer
        if forwarded_for:
            hops = [hop for value in forwarded_for for hop in value.split(",")]
        else:
            hops = [hop for value in forwarded for hop in _forwarded_for(value)]
        client: str = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # A hop our proxies did not write as an address: stop at the last
                # trusted one rather than believe it.
                break
            client = str(address)
            if not self.trusts(address):
                break
        return client


NO_PROXIES = TrustedProxies()  # the default: every peer is the client
