"""Tokens: random, at least 128 bits (we use 256), stored only as SHA-256 hashes.

A fast hash is right here: the tokens are long random strings, not passwords, so
there is nothing to brute-force and lookups stay O(1) by hash.
"""

from __future__ import annotations

import binascii
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

API_TOKEN_PREFIX = "rp_"
# An API token lives this many days unless created with another lifetime (--days).
TOKEN_DAYS = 90
TOKEN_DAYS_MAX = 3650
# The token's first characters, kept to tell tokens apart in ``relportal token list``:
# 5 of its 43 random characters, so 226 random bits stay secret.
SHOWN_PREFIX = len(API_TOKEN_PREFIX) + 5


@dataclass(frozen=True)
class ApiToken:
    """What is kept of an API token: never the token, and its hash stays in storage."""

    id: str
    prefix: str  # the token's first characters ("" for tokens made before they were kept)
    user_id: str
    label: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None

    def refusal(self, now: str | None = None) -> tuple[str, str] | None:
        """Why the token may not be used at ``now`` (an ISO time as stored; default the
        present), as (code, reason); None if it may."""
        now = now or utc_iso_now()
        if self.revoked_at is not None:
            return "token_revoked", f"The API token was revoked at {self.revoked_at}."
        if self.expires_at is not None and self.expires_at <= now:
            return (
                "token_expired",
                f"The API token expired at {self.expires_at}; ask for a new one "
                "(relportal token create).",
            )
        return None


def token_expiry(days: int, now: datetime | None = None) -> str:
    """The expiry of a token made now that lives ``days`` days, as stored (ISO, UTC)."""
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise ValueError(f"a token lives from 1 to {TOKEN_DAYS_MAX} days, not {days}")
    return _iso((now or datetime.now(UTC)) + timedelta(days=days))


def utc_iso_now() -> str:
    """The present as the store writes times."""
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    """As the store writes times (journey.storage.sqlite.connection.utc_now): they sort as text."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Base64's digits, re-lettered with URL-safe characters in ASCII order, so that the
# text sorts like the number it encodes.
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_SORTED = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_TO_SORTED = bytes.maketrans(_BASE64, _SORTED)


TIME_BITS = 42  # milliseconds: enough until the year 2109
RANDOM_BITS = 90  # 22 characters carry 132 bits


def id_from(moment: int, randomness: int) -> str:
    """22 URL-safe characters: 7 for ``moment`` then 15 for ``randomness``.

    The text sorts like (moment, randomness). 42 bits of time, not 48, so that the
    first character varies (a leading run of zero bits would print as "-").
    """
    value = (moment % (1 << TIME_BITS)) << RANDOM_BITS | randomness % (1 << RANDOM_BITS)
    # 132 bits shifted to fill 17 bytes: base64's first 22 digits are exactly them.
    encoded = binascii.b2a_base64((value << 4).to_bytes(17, "big"), newline=False)
    return encoded[:22].translate(_TO_SORTED).decode()


def new_id() -> str:
    """An object id: the time in milliseconds, then 90 random bits.

    22 characters rather than a UUID's 36 because ids repeat in every row and index
    (at a million companies that is hundreds of megabytes), and time first so that
    new rows land at the end of every id index instead of at random pages.
    """
    return id_from(time.time_ns() // 1_000_000, secrets.randbits(RANDOM_BITS))


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_link_token() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def link_token_from(text: str) -> str:
    """Accept a full link (``…/j/TOKEN``) or the bare token."""
    text = text.strip()
    if "/j/" in text:
        text = text.rsplit("/j/", 1)[1]
    return text.split("?", 1)[0].split("#", 1)[0].strip("/")
