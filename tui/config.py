"""The user's ``config.toml``: read with tomllib, validated in full, never rewritten.

A bad file stops the program with one line naming the file, the key and what was
expected; nothing starts half-configured. Every key is documented in
``config.example.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journey.proxies import ProxyListError, parse_networks
from tui import paths

if TYPE_CHECKING:
    from journey.settings import ServiceSettings


class ConfigError(Exception):
    """One readable line: file, key, expected value."""


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any
    expected: str
    check: Any = None  # callable(value) -> bool


def _port(value: int) -> bool:
    return 1 <= value <= 65535


def _non_negative(value: float) -> bool:
    return 0 <= value <= 3600


def _url(value: str) -> bool:
    return value == "" or value.startswith(("http://", "https://"))


def _public_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _web_public_url(value: str) -> bool:
    return value == "" or _public_url(value)


def _networks(value: list[Any]) -> bool:
    try:
        parse_networks(value)
    except (ProxyListError, AttributeError):  # AttributeError: an entry that is not text
        return False
    return True


def _workers(value: int) -> bool:
    return 1 <= value <= 64


def _companies(value: int) -> bool:
    return 0 <= value <= 10_000_000


def _limit(value: int) -> bool:
    return 1 <= value <= 1000


def _session_seconds(value: float) -> bool:
    return 1 <= value <= 7 * 24 * 3600


def _login_seconds(value: float) -> bool:
    return 1 <= value <= 600


def _any_port(value: int) -> bool:
    return 0 <= value <= 65535


def _startups(value: str) -> bool:
    """``start:rate:full`` as sshd's MaxStartups: 1 <= start <= full <= 1000, rate 1-100."""
    parts = value.split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return False
    start, rate, full = (int(part) for part in parts)
    return 1 <= start <= full <= 1000 and 1 <= rate <= 100


def _megabytes(value: int) -> bool:
    return 64 <= value <= 1024 * 1024


def _cpu_seconds(value: int) -> bool:
    return 10 <= value <= 7 * 24 * 3600


def _open_files(value: int) -> bool:
    return 32 <= value <= 65536


SCHEMA: dict[str, dict[str, Key]] = {
    "service": {
        "url": Key(str, "", 'an http:// or https:// URL, or "" for the embedded service', _url),
        "token": Key(str, "", "an API token (relportal token create)"),
        "db": Key(str, "", 'a file path, or "" for the default in the data directory'),
        "host": Key(str, "127.0.0.1", 'an address to listen on, such as "127.0.0.1"'),
        "port": Key(int, 8765, "a port number from 1 to 65535", _port),
        "workers": Key(int, 1, "a number of processes from 1 to 64", _workers),
        "public_url": Key(
            str,
            "",
            'the http(s) URL customers\' links start with, or "" for the address serve listens on',
            _web_public_url,
        ),
        "trusted_proxies": Key(
            list,
            [],
            'a list of proxy addresses or networks, such as ["127.0.0.1", "10.0.0.0/8"]',
            _networks,
        ),
    },
    "demo": {
        "companies": Key(int, 300, "a whole number of companies from 0 to 10,000,000", _companies),
        "seed": Key(int, 7, "a whole number"),
    },
    "mail": {
        "outbox": Key(str, "", 'a folder path, or "" for the default in the data directory'),
        "smtp_host": Key(str, "", 'an SMTP server name, or "" to write emails to the outbox'),
        "smtp_port": Key(int, 587, "a port number from 1 to 65535", _port),
        "smtp_username": Key(str, "", "text"),
        "smtp_password": Key(str, "", "text"),
        "smtp_starttls": Key(bool, True, "true or false"),
        "sender": Key(str, "relportal@localhost", "an email address"),
    },
    "portal": {
        "user": Key(
            str,
            "",
            'the email of the user the embedded portal signs in as, or "" for the demo\'s RM',
        ),
        "downloads": Key(
            str, "", 'a folder path, or "" for your downloads folder (templates, reports)'
        ),
    },
    "ssh": {
        "host": Key(str, "127.0.0.1", 'an address to listen on, such as "127.0.0.1"'),
        "port": Key(int, 2222, "a port number from 1 to 65535", _port),
        "authorized_keys": Key(
            str, "", 'an OpenSSH authorized_keys file, or "" (then --demo-password is needed)'
        ),
        "max_sessions": Key(int, 8, "a whole number from 1 to 1000", _limit),
        "sessions_per_address": Key(int, 3, "a whole number from 1 to 1000", _limit),
        "connections_per_address": Key(int, 4, "a whole number from 1 to 1000", _limit),
        "max_startups": Key(
            str,
            "10:30:30",
            '"start:rate:full" as sshd\'s MaxStartups, such as "10:30:30" (start <= full)',
            _startups,
        ),
        "startups_per_address": Key(int, 3, "a whole number from 1 to 1000", _limit),
        "login_seconds": Key((int, float), 15, "seconds from 1 to 600", _login_seconds),
        "idle_seconds": Key((int, float), 900, "seconds from 1 to 604800", _session_seconds),
        "session_seconds": Key((int, float), 3600, "seconds from 1 to 604800", _session_seconds),
        "demo_companies": Key(
            int, 300, "a whole number of companies from 0 to 10,000,000", _companies
        ),
        "downloads": Key(bool, True, "true or false"),
        "downloads_port": Key(
            int, 0, "a port number from 1 to 65535, or 0 for the SSH port + 1", _any_port
        ),
        "downloads_url": Key(
            str, "", 'the http(s) URL viewers reach the downloads on, or "" for host:port', _url
        ),
    },
    "hosted": {
        "memory_mb": Key(int, 1536, "megabytes from 64 to 1048576", _megabytes),
        "cpu_seconds": Key(int, 900, "seconds from 10 to 604800", _cpu_seconds),
        "open_files": Key(int, 256, "a whole number from 32 to 65536", _open_files),
        "file_size_mb": Key(int, 1024, "megabytes from 64 to 1048576", _megabytes),
    },
    "web": {
        "host": Key(str, "127.0.0.1", 'an address to listen on, such as "127.0.0.1"'),
        "port": Key(int, 8000, "a port number from 1 to 65535", _port),
        "password_file": Key(str, "", 'a file whose first line is the password, or ""'),
        "max_sessions": Key(int, 8, "a whole number from 1 to 1000", _limit),
        "idle_seconds": Key((int, float), 900, "seconds from 1 to 604800", _session_seconds),
        "login_seconds": Key((int, float), 28800, "seconds from 1 to 604800", _session_seconds),
        "public_url": Key(
            str,
            "",
            'the http:// or https:// URL browsers reach the portal at, or ""',
            _web_public_url,
        ),
        "trusted_proxies": Key(
            list,
            [],
            'a list of proxy addresses or networks, such as ["127.0.0.1", "10.0.0.0/8"]',
            _networks,
        ),
        "demo_companies": Key(
            int, 300, "a whole number of companies from 0 to 10,000,000", _companies
        ),
    },
    "simulation": {
        "pull_queue_seconds": Key((int, float), 0.5, "seconds from 0 to 3600", _non_negative),
        "pull_fetch_seconds": Key((int, float), 1.5, "seconds from 0 to 3600", _non_negative),
        "upload_processing_seconds": Key(
            (int, float), 1.0, "seconds from 0 to 3600", _non_negative
        ),
    },
}


@dataclass(frozen=True)
class Config:
    path: Path | None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "text"}.get(
        type(value), type(value).__name__
    )


def load(path: Path | None = None, *, explicit: bool = False) -> Config:
    """Read and validate ``path`` (default: the user's config file, if it exists)."""
    target = path or paths.default_config_file()
    raw: dict[str, Any] = {}
    if target.exists() or explicit:
        try:
            with open(target, "rb") as handle:
                raw = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"{target}: no such file") from None
        except PermissionError:
            raise ConfigError(f"{target}: cannot be read (permission denied)") from None
        except IsADirectoryError:
            raise ConfigError(f"{target}: is a folder, not a TOML file") from None
        except OSError as exc:
            raise ConfigError(f"{target}: cannot be read ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{target}: is not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{target}: is not valid TOML ({exc})") from None
    values: dict[str, dict[str, Any]] = {}
    keys = raw.pop("keys", {})
    if not isinstance(keys, dict):
        raise ConfigError(f'{target}: keys must be a [keys] table of binding id = "key"')
    for binding_id, key in keys.items():
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(
                f'{target}: keys.{binding_id} must be a key such as "ctrl+f" or "f2,ctrl+f"'
            )
    values["keys"] = dict(keys)
    for section_name, section in raw.items():
        if section_name not in SCHEMA:
            known = ", ".join(f"[{s}]" for s in [*SCHEMA, "keys"])
            raise ConfigError(f"{target}: unknown section [{section_name}]; sections are {known}")
        if not isinstance(section, dict):
            raise ConfigError(f"{target}: {section_name} must be a [{section_name}] table")
    for section_name, keys in SCHEMA.items():
        section = raw.get(section_name, {})
        out: dict[str, Any] = {}
        for key_name in section:
            if key_name not in keys:
                known = ", ".join(keys)
                raise ConfigError(
                    f"{target}: unknown key {section_name}.{key_name}; keys are {known}"
                )
        for key_name, spec in keys.items():
            if key_name not in section:
                out[key_name] = spec.default
                continue
            value = section[key_name]
            wrong_type = not isinstance(value, spec.type) or (
                isinstance(value, bool) and spec.type is not bool
            )
            if wrong_type or (spec.check is not None and not spec.check(value)):
                got = repr(value) if not wrong_type else f"{_type_name(value)} {value!r}"
                raise ConfigError(
                    f"{target}: {section_name}.{key_name} must be {spec.expected}, not {got}"
                )
            out[key_name] = value
        values[section_name] = out
    return Config(path=target if target.exists() else None, values=values)


def listening_url(host: str, port: int) -> str:
    """The http:// address a service listening on ``host``:``port`` is reached at from
    this machine (a wildcard address is reached on the loopback)."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def service_settings(
    config: Config,
    db: Path | None = None,
    demo: int | None = None,
    *,
    listen: tuple[str, int] | None = None,
) -> ServiceSettings:
    """The journey service's settings from config. Customer links start with
    ``service.public_url``, or when it is not set with the address the service
    listens on: ``listen`` (``relportal serve --host/--port``), else the config's."""
    from journey.settings import ServiceSettings, SmtpSettings

    mail = config.values["mail"]
    smtp = None
    if mail["smtp_host"]:
        smtp = SmtpSettings(
            host=mail["smtp_host"],
            port=mail["smtp_port"],
            username=mail["smtp_username"],
            password=mail["smtp_password"],
            starttls=mail["smtp_starttls"],
            sender=mail["sender"],
        )
    simulation = config.values["simulation"]
    host, port = listen or (config.get("service", "host"), config.get("service", "port"))
    return ServiceSettings(
        db_path=db or Path(config.get("service", "db") or paths.default_database()),
        outbox_dir=Path(mail["outbox"] or paths.default_outbox()),
        public_url=config.get("service", "public_url") or listening_url(host, port),
        smtp=smtp,
        pull_queue_seconds=float(simulation["pull_queue_seconds"]),
        pull_fetch_seconds=float(simulation["pull_fetch_seconds"]),
        upload_processing_seconds=float(simulation["upload_processing_seconds"]),
        demo_companies=config.get("demo", "companies") if demo is None else demo,
        demo_seed=config.get("demo", "seed"),
        trusted_proxies=tuple(config.get("service", "trusted_proxies")),
    )
