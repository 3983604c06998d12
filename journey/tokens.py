"""Tokens: random, at least 128 bits (we use 256), stored only as SHA-256 hashes.

A fast hash is right here: the tokens are long random strings, not passwords, so
there is nothing to brute-force and lookups stay O(1) by hash.
"""

from __future__ import annotations

import binascii
import hashlib
import secrets
import time

API_TOKEN_PREFIX = "rp_"


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
