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


def id_from(value: int) -> str:
    """A 128-bit number as 22 URL-safe characters that sort like the number."""
    encoded = binascii.b2a_base64(value.to_bytes(16, "big"), newline=False)
    return encoded.translate(_TO_SORTED)[:22].decode()


def new_id() -> str:
    """An object id: a 48-bit millisecond time, then 80 random bits.

    22 characters rather than a UUID's 36 because ids repeat in every row and index
    (at a million companies that is hundreds of megabytes), and time first so that
    new rows land at the end of every id index instead of at random pages.
    """
    return id_from((time.time_ns() // 1_000_000) << 80 | secrets.randbits(80))


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
