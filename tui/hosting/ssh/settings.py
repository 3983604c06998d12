"""What ``relportal ssh-serve`` is set to: the ``[ssh]`` config under the command line's
flags, and the limits the gate and the sessions keep."""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass
from pathlib import Path

from tui import paths
from tui.config import Config, ConfigError
from tui.hosting.hosted import HostedOptions, PortalLimits, attach_from

HOST_KEY_NAME = "ssh_host_ed25519_key"


@dataclass(frozen=True)
class Startups:
    """sshd's MaxStartups for connections not yet signed in: from ``start`` of them on,
    a new one is dropped with probability ``rate`` %, rising linearly to all at ``full``."""

    start: int = 10
    rate: int = 30
    full: int = 30

    @classmethod
    def parse(cls, text: str) -> Startups:
        start, rate, full = (int(part) for part in text.split(":"))
        return cls(start, rate, full)

    def drop_chance(self, unauthenticated: int) -> float:
        """The probability that a new connection is dropped, with this many waiting."""
        if unauthenticated >= self.full:
            return 1.0
        if unauthenticated < self.start:
            return 0.0
        rising = (unauthenticated - self.start) / (self.full - self.start)
        return (self.rate + (100 - self.rate) * rising) / 100


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 8
    sessions_per_address: int = 3
    connections_per_address: int = 4
    startups: Startups = Startups()
    startups_per_address: int = 3
    login_seconds: float = 15
    idle_seconds: float = 900
    session_seconds: float = 3600


@dataclass(frozen=True)
class SshSettings:
    host: str
    port: int
    host_key_path: Path
    authorized_keys: Path | None
    limits: Limits
    hosted: HostedOptions
    downloads_port: int | None = None  # None: no download links
    downloads_url: str = ""  # the links' base as viewers reach it; "" for host:port


def downloads_base(settings: SshSettings) -> str | None:
    """Where viewers reach the download links (None: they are off): ``downloads_url``,
    else this host and the downloads port."""
    if settings.downloads_port is None:
        return None
    if settings.downloads_url:
        return settings.downloads_url
    host = settings.host
    if host in ("0.0.0.0", "::", ""):  # every address: name the machine instead
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.downloads_port}"


def settings_from(args: argparse.Namespace, config: Config) -> SshSettings:
    """The server's settings from the command line over ``[ssh]`` in config."""
    ssh = config.values["ssh"]
    port = args.port if args.port is not None else ssh["port"]
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be from 1 to 65535, not {port}")
    keys_file = args.authorized_keys or (
        Path(ssh["authorized_keys"]).expanduser() if ssh["authorized_keys"] else None
    )
    if args.demo_password and args.authorized_keys:
        raise ConfigError("ssh-serve takes --authorized-keys FILE or --demo-password, not both")
    if args.demo_password:
        keys_file = None
    elif keys_file is None:
        raise ConfigError(
            "ssh-serve needs --authorized-keys FILE (or ssh.authorized_keys) or --demo-password"
        )
    # Only an explicit --service attaches: a service.url in the operator's own config
    # must not expose their data to viewers by accident.
    attach = attach_from(getattr(args, "service", None), config)
    downloads_port: int | None = None
    if ssh["downloads"]:
        flag = getattr(args, "downloads_port", None)
        downloads_port = flag if flag is not None else ssh["downloads_port"] or port + 1
        if not 1 <= downloads_port <= 65535:
            raise ConfigError(f"--downloads-port must be from 1 to 65535, not {downloads_port}")
        if downloads_port == port:
            raise ConfigError(f"--downloads-port must differ from the SSH port ({port})")
    return SshSettings(
        host=args.host or ssh["host"],
        port=port,
        host_key_path=paths.data_dir() / HOST_KEY_NAME,
        authorized_keys=keys_file,
        limits=Limits(
            max_sessions=ssh["max_sessions"],
            sessions_per_address=ssh["sessions_per_address"],
            connections_per_address=ssh["connections_per_address"],
            startups=Startups.parse(ssh["max_startups"]),
            startups_per_address=ssh["startups_per_address"],
            login_seconds=float(ssh["login_seconds"]),
            idle_seconds=float(ssh["idle_seconds"]),
            session_seconds=float(ssh["session_seconds"]),
        ),
        hosted=HostedOptions(
            demo_companies=ssh["demo_companies"],
            attach=attach,
            limits=PortalLimits.from_config(config),
        ),
        downloads_port=downloads_port,
        downloads_url=ssh["downloads_url"],
    )
