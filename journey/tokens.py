"""Tokens: random, at least 128 bits (we use 256), stored only as SHA-256 hashes.

A fast hash is right here: the tokens are long random strings, not passwords, so
there is nothing to brute-force and lookups stay O(1) by hash.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

API_TOKEN_PREFIX = "rp_"


def new_id() -> str:
    return str(uuid.uuid4())


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
