"""Where a customer's link leads: ``{public_url}/j/{token}``, and whether it can
reach anyone but this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1: an address only this machine reaches."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def only_this_computer(url: str) -> bool:
    """Whether a link (or ``public_url``) opens only on the machine that made it."""
    return loopback_host(urlsplit(url).hostname or "")
