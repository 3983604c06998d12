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


# Said to the RM (in the create/resend answer, and by the portal when a request is
# emailed) and by `relportal serve` at start: an emailed link on a loopback address
# opens nothing on the customer's computer.
LOOPBACK_NOTICE = (
    "This link only opens on this computer: set [service] public_url to an address "
    "your customers can reach (see docs/deploy.md)."
)


def serve_notice(public_url: str) -> str | None:
    """What ``relportal serve`` says once at start when its links cannot reach anyone."""
    if not only_this_computer(public_url):
        return None
    return (
        f"relportal: customer links start with {public_url}, which only opens on this "
        "computer: set [service] public_url to an address your customers can reach "
        "(see docs/deploy.md)"
    )


def emailed_link_notice(link: str) -> str | None:
    """The notice for a link about to be emailed, or None when customers can open it."""
    return LOOPBACK_NOTICE if only_this_computer(link) else None
