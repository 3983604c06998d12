"""Who may sign in and who the server is: the authorized keys or the one demo password,
and the server's own host key, made once and kept."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import asyncssh

from tui.config import ConfigError


class Credentials:
    """Who may log in: keys from an authorized_keys file, or the one demo password."""

    def __init__(
        self,
        authorized_keys: asyncssh.SSHAuthorizedKeys | None = None,
        password_hash: bytes | None = None,
    ) -> None:
        self.authorized_keys = authorized_keys
        self._password_hash = password_hash

    @classmethod
    def demo_password(cls) -> tuple[Credentials, str]:
        """A fresh strong password and the credentials that accept it (only its hash kept)."""
        password = secrets.token_urlsafe(18)
        return cls(password_hash=_digest(password)), password

    def password_matches(self, candidate: str) -> bool:
        if self._password_hash is None:
            return False
        return hmac.compare_digest(_digest(candidate), self._password_hash)

    @property
    def uses_password(self) -> bool:
        return self._password_hash is not None


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest()


def host_key(path: Path) -> asyncssh.SSHKey:
    """The server's ed25519 key: generated on first start (0600), the same ever after,
    so viewers' known_hosts keep matching."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="relportal ssh-serve")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another ssh-serve made it meanwhile: use theirs
            return host_key(path)
        with os.fdopen(fd, "wb") as file:
            file.write(key.export_private_key())
        return key
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: the host key is open to other users; chmod 600 it")
    try:
        return asyncssh.read_private_key(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise ConfigError(f"{path}: is not a usable host key ({exc})") from None


def read_authorized_keys(path: Path) -> asyncssh.SSHAuthorizedKeys:
    try:
        text = path.read_text()
    except OSError as exc:  # missing, a folder, not allowed: strerror says which
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not an OpenSSH authorized_keys file") from None
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        raise ConfigError(f"{path}: has no keys")
    try:
        return asyncssh.import_authorized_keys(text)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise ConfigError(f"{path}: is not an OpenSSH authorized_keys file ({exc})") from None
