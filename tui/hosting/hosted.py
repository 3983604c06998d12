"""Portal sessions for viewers on a shared host: ``relportal ssh-serve`` and ``relportal web``.

Each viewer gets a portal of their own, in a process of its own, with a home of its own:
a temporary folder holding the config, preferences, database, outbox and downloads of
that one session. The portal in it knows it is hosted from its environment
(:data:`HOSTED_ENV` names the mode, ``ssh`` or ``web``; :data:`FILES_ENV` the session's
own files folder) and then touches no file the viewer names: it writes only names
inside that folder and reads only from it and the built-in samples.

By default the database is a fresh copy of the demo organization, so nothing one
viewer does is seen by another and nothing touches the host's real data;
``attach`` points the session at a running ``relportal serve`` as a named user instead.
The folder is removed when the session ends.

The portal process is confined before it runs any of the portal's code
(``python -m tui.hosting.hosted_portal``): resource limits of its own (:class:`PortalLimits`:
address space, CPU time, open files, file size, no core dumps), its session folder
as working directory, and an empty folder as ``HOME``.
"""

from __future__ import annotations

import ipaddress
import os
import resource
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import tomli_w

from tui.config import Config, ConfigError

# Set by the host for the viewer's portal, never by the viewer (the child's environment
# is built here from scratch; an SSH client's own variables other than the terminal's
# are dropped).
HOSTED_ENV = "RELPORTAL_HOSTED"
FILES_ENV = "RELPORTAL_SESSION_FILES"
# Where the viewer fetches the files folder's files (ssh-serve's download links), with
# a trailing slash: a file's link is this plus its quoted name.
DOWNLOAD_URL_ENV = "RELPORTAL_DOWNLOAD_URL"
HOSTED_MODES = ("ssh", "web")
MB = 1024 * 1024


def refuse_root(command: str, allow_root: bool, euid: int | None = None) -> None:
    """Stop ``command`` (ssh-serve, web) run as root without ``--allow-root``: every
    viewer's portal would run as root too."""
    if (os.geteuid() if euid is None else euid) == 0 and not allow_root:
        raise ConfigError(
            f"{command} will not run as root (every viewer's portal would be root too): "
            "run it as a user of its own (see docs/ssh.md), or pass --allow-root"
        )


@dataclass(frozen=True)
class PortalLimits:
    """What one viewer's portal process may use (``[hosted]`` in config)."""

    memory_mb: int = 1536  # address space: the demo portal peaks near 500 MB of it
    cpu_seconds: int = 900  # CPU time, not wall time: an hour's use takes a few minutes
    open_files: int = 256
    file_size_mb: int = 1024  # the largest file it may write (its database among them)

    @classmethod
    def from_config(cls, config: Config) -> PortalLimits:
        hosted = config.values["hosted"]
        return cls(
            memory_mb=hosted["memory_mb"],
            cpu_seconds=hosted["cpu_seconds"],
            open_files=hosted["open_files"],
            file_size_mb=hosted["file_size_mb"],
        )

    def argument(self) -> str:
        """The limits as one command-line word, read back by :meth:`from_argument`."""
        return f"{self.memory_mb},{self.cpu_seconds},{self.open_files},{self.file_size_mb}"

    @classmethod
    def from_argument(cls, text: str) -> PortalLimits:
        memory, cpu, files, size = (int(part) for part in text.split(","))
        return cls(memory, cpu, files, size)

    def apply(self) -> None:
        """Set them on this process, soft and hard alike (so the portal cannot raise
        them again), and no core dumps (a dump would hold the session's data)."""
        limits = {
            resource.RLIMIT_AS: self.memory_mb * MB,
            resource.RLIMIT_CPU: self.cpu_seconds,
            resource.RLIMIT_NOFILE: self.open_files,
            resource.RLIMIT_FSIZE: self.file_size_mb * MB,
            resource.RLIMIT_CORE: 0,
        }
        for which, value in limits.items():
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)  # never above what the host already allows
            resource.setrlimit(which, (value, value))


@dataclass(frozen=True)
class Attach:
    """Sessions use this service as this user (the token is a secret: never logged)."""

    url: str
    token: str


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # 127.0.0.0/8 and ::1
    except ValueError:
        return False


def refuse_cleartext_service(url: str | None, *, insecure: bool) -> None:
    """ConfigError for an ``http://`` service URL off this machine, unless ``insecure``:
    the API token would cross the network in clear. https anywhere, and http to a
    loopback address or localhost, are fine."""
    if not url or insecure:
        return
    parts = urlsplit(url)
    if parts.scheme.lower() != "http":
        return
    if not _loopback(parts.hostname or ""):
        raise ConfigError(
            f"{url} is plain http to another machine: the API token would travel in clear; "
            "use https, or give --insecure if the network is yours"
        )


def attach_from(url: str | None, config: Config) -> Attach | None:
    """The ``--service URL`` of ssh-serve or web: sessions act as the user whose token is
    in RELPORTAL_TOKEN or service.token. None (private demo data) without a URL."""
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--service must be an http:// or https:// URL, not {url!r}")
    token = os.environ.get("RELPORTAL_TOKEN") or config.get("service", "token")
    if not token:
        raise ConfigError(
            "--service needs the token of the user sessions act as: set RELPORTAL_TOKEN "
            "or service.token (relportal token create EMAIL on the service's machine)"
        )
    return Attach(url, token)


@dataclass(frozen=True)
class HostedOptions:
    demo_companies: int = 300
    attach: Attach | None = None
    limits: PortalLimits = PortalLimits()


class HostedSession:
    """One viewer's private home and the command that runs their portal in it."""

    def __init__(
        self,
        options: HostedOptions,
        *,
        mode: str,
        terminal: dict[str, str] | None = None,
        download_url: str | None = None,
    ) -> None:
        if mode not in HOSTED_MODES:
            raise ValueError(f"hosted mode must be one of {HOSTED_MODES}, not {mode!r}")
        self.options = options
        self.mode = mode
        self.home = Path(tempfile.mkdtemp(prefix="relportal-session-"))
        os.chmod(self.home, 0o700)
        self.config_file = self.home / "config.toml"
        # The only folder the viewer's files are written to and read from, by name.
        self.files = self.home / "files"
        self.files.mkdir(mode=0o700)
        self.downloads = self.files
        # HOME is an empty folder: nothing of the host's user, nothing of the session's.
        self.empty_home = self.home / "home"
        self.empty_home.mkdir(mode=0o700)
        self.download_url = download_url
        self._write_config()
        self.environment = self._environment(terminal or {})

    def _write_config(self) -> None:
        service: dict[str, object] = {"db": str(self.home / "relportal.db")}
        if self.options.attach:
            service["url"] = self.options.attach.url
        config = {
            "service": service,
            "demo": {"companies": self.options.demo_companies},
            "mail": {"outbox": str(self.home / "outbox")},
            "portal": {"downloads": str(self.downloads)},
        }
        with open(self.config_file, "wb") as file:
            tomli_w.dump(config, file)

    def _environment(self, terminal: dict[str, str]) -> dict[str, str]:
        """The child's environment: the host's PATH and locale, none of its secrets;
        the viewer's terminal type and colour depth; homes inside the session folder."""
        keep = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH")
        env = {key: os.environ[key] for key in keep if key in os.environ}
        env.update(
            HOME=str(self.empty_home),
            XDG_CONFIG_HOME=str(self.home / "config"),
            XDG_DATA_HOME=str(self.home / "data"),
            XDG_CACHE_HOME=str(self.home / "cache"),
            XDG_STATE_HOME=str(self.home / "state"),
            TEXTUAL_ANIMATIONS="none",  # animations cost bandwidth and read badly on slow links
            # Fewer malloc arenas: each reserves 64 MB of address space, which counts
            # against the portal's memory limit while it holds nothing.
            MALLOC_ARENA_MAX="2",
        )
        env[HOSTED_ENV] = self.mode
        env[FILES_ENV] = str(self.files)
        if self.download_url:
            env[DOWNLOAD_URL_ENV] = self.download_url
        env.setdefault("LANG", "C.UTF-8")
        for key in ("TERM", "COLORTERM", "NO_COLOR"):
            if terminal.get(key):
                env[key] = terminal[key]
        env.setdefault("TERM", "xterm-256color")
        if self.options.attach:
            env["RELPORTAL_TOKEN"] = self.options.attach.token
        return env

    def command(self) -> list[str]:
        """The portal's command line: tui.hosting.hosted_portal confines it, then runs it on the
        session's config (the working directory does not matter: it moves into the home)."""
        return [
            sys.executable,
            "-m",
            "tui.hosting.hosted_portal",
            self.options.limits.argument(),
            "--config",
            str(self.config_file),
        ]

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


@dataclass(frozen=True)
class Hosting:
    """How the running portal is hosted: ``mode`` is None for a local user (their own
    paths), ``"ssh"`` or ``"web"`` for a viewer's session, whose files live in ``files``."""

    mode: str | None = None
    files: Path | None = None
    download_url: str | None = None  # ssh-serve's link to ``files``, ending in "/"

    @property
    def hosted(self) -> bool:
        return self.mode is not None


def hosting_from_environment(environ: dict[str, str] | None = None) -> Hosting:
    """What the host said of this portal process (see :data:`HOSTED_ENV`)."""
    environ = dict(os.environ) if environ is None else environ
    mode = environ.get(HOSTED_ENV) or None
    if mode is None:
        return Hosting()
    files = environ.get(FILES_ENV)
    if mode not in HOSTED_MODES or not files:
        # A half-set hosting is a broken host: confine rather than trust paths.
        raise ConfigError(f"{HOSTED_ENV}={mode!r} needs {FILES_ENV} and a mode of ssh or web")
    return Hosting(mode, Path(files), environ.get(DOWNLOAD_URL_ENV) or None)
