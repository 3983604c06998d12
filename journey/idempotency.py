"""``Idempotency-Key`` on creating requests: a retry gets the first answer.

The first answer can hold a customer link, and links must never be stored in
clear. So the stored answer is sealed with a key derived from the client's
Idempotency-Key itself (HMAC-SHA256 in counter mode plus a MAC): only a client
presenting the same key can open it; the database alone reveals nothing. Records
are looked up by a hash of (user, key).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from journey.core.errors import Invalid

KEY_MAX = 200


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= KEY_MAX or not key.isprintable():
        raise Invalid(
            f"Idempotency-Key must be 1–{KEY_MAX} printable characters.", "invalid_idempotency_key"
        )
    return key


def lookup_key(user_id: str, key: str) -> str:
    return hashlib.sha256(f"lookup\0{user_id}\0{key}".encode()).hexdigest()


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method}\0{path}\0{canonical}".encode()).hexdigest()


def _stream(secret: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(secret, counter.to_bytes(8, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def _secrets(user_id: str, key: str) -> tuple[bytes, bytes]:
    base = hashlib.sha256(f"seal\0{user_id}\0{key}".encode()).digest()
    enc = hmac.new(base, b"encrypt", hashlib.sha256).digest()
    mac = hmac.new(base, b"authenticate", hashlib.sha256).digest()
    return enc, mac


def seal(user_id: str, key: str, body: dict[str, Any]) -> str:
    enc, mac = _secrets(user_id, key)
    plain = json.dumps(body, separators=(",", ":")).encode()
    cipher = bytes(a ^ b for a, b in zip(plain, _stream(enc, len(plain)), strict=True))
    tag = hmac.new(mac, cipher, hashlib.sha256).hexdigest()
    return tag + ":" + cipher.hex()


def unseal(user_id: str, key: str, sealed: str) -> dict[str, Any]:
    enc, mac = _secrets(user_id, key)
    tag, _, hex_cipher = sealed.partition(":")
    cipher = bytes.fromhex(hex_cipher)
    if not hmac.compare_digest(tag, hmac.new(mac, cipher, hashlib.sha256).hexdigest()):
        raise ValueError("sealed answer does not match its key")
    plain = bytes(a ^ b for a, b in zip(cipher, _stream(enc, len(cipher)), strict=True))
    result: dict[str, Any] = json.loads(plain)
    return result
