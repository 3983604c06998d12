"""``relportal ssh-serve``: the portal over SSH, a portal of their own for each viewer.

Every shell session gets its own ``HostedSession`` (a private home and demo database,
or a named user's view of a service) and its own process, on a real pseudo-terminal
sized to the viewer's window. The server grants nothing else: no commands, no
subsystems (SFTP), no port, agent or X11 forwarding. Limits: sessions at once,
connections per client address, idle and total session time, authentication
attempts per connection, and a growing pause after each failed attempt from an
address. docs/ssh.md describes the security model.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import fcntl
import hashlib
import hmac
import logging
import os
import re
import secrets
import signal
import stat
import struct
import sys
import termios
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from tui import paths
from tui.config import Config, ConfigError
from tui.hosted import HostedOptions, HostedSession, attach_from

log = logging.getLogger("relportal.ssh")

HOST_KEY_NAME = "ssh_host_ed25519_key"
AUTH_ATTEMPTS = 6  # per connection, as OpenSSH's MaxAuthTries
FAILURE_MEMORY = 600.0  # seconds an address's failed attempts keep slowing it down
MAX_AUTH_PAUSE = 10.0
LOGIN_SECONDS = 60  # an unauthenticated connection is dropped after this
READ_CHUNK = 64 * 1024
SEND_HIGH_WATER = 16 * 1024  # about a full frame: stop reading the portal's output above it
INPUT_BACKLOG = 64 * 1024  # stop reading the viewer's keys above this backlog
STOP_GRACE = 3.0  # seconds a portal has to exit on SIGHUP before SIGKILL
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._+-]{1,64}")

# Put the viewer's terminal back after a portal was stopped mid-frame: CAN ends any
# half-sent escape sequence; then leave the alternate screen, stop mouse reports,
# bracketed paste, focus events and the kitty keyboard protocol; show the cursor.
TERMINAL_RESET = (
    b"\x18\x1b[0m\x1b[?1049l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"
    b"\x1b[?2004l\x1b[?1004l\x1b[<u\x1b[?25h\r\n"
)


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 8
    connections_per_address: int = 4
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


class Gatekeeper:
    """What the whole server counts: connections per address, sessions, failed logins."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.connections: Counter[str] = Counter()
        self.sessions = 0
        self._failures: dict[str, tuple[int, float]] = {}

    def admit(self, address: str) -> str | None:
        """Count a new connection from ``address``; the reason to refuse it, if any."""
        if self.connections[address] >= self.limits.connections_per_address:
            return f"too many connections from {address}"
        # Authenticating connections cost memory too: bound them by the session cap.
        if sum(self.connections.values()) >= 4 * self.limits.max_sessions:
            return "the server is busy; try again later"
        self.connections[address] += 1
        return None

    def release(self, address: str) -> None:
        self.connections[address] -= 1
        if self.connections[address] <= 0:
            del self.connections[address]

    def open_session(self) -> bool:
        if self.sessions >= self.limits.max_sessions:
            return False
        self.sessions += 1
        return True

    def close_session(self) -> None:
        self.sessions -= 1

    def failed(self, address: str) -> float:
        """Record a failed attempt; how long to pause before answering it (doubling)."""
        count, last = self._failures.get(address, (0, 0.0))
        now = time.monotonic()
        if now - last > FAILURE_MEMORY:
            count = 0
        count += 1
        self._failures[address] = (count, now)
        return float(min(0.5 * 2 ** (count - 1), MAX_AUTH_PAUSE))

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


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


class PortalServer:
    """The listening server: its settings, credentials and the sessions now running."""

    def __init__(self, settings: SshSettings, credentials: Credentials) -> None:
        self.settings = settings
        self.credentials = credentials
        self.gate = Gatekeeper(settings.limits)
        self.sessions: set[PortalSession] = set()

    async def start(self, host_key: asyncssh.SSHKey) -> asyncssh.SSHAcceptor:
        return await asyncssh.create_server(
            lambda: ViewerConnection(self),
            self.settings.host,
            self.settings.port,
            server_host_keys=[host_key],
            # Only what the portal needs: a pty and a shell request, bytes both ways.
            allow_pty=True,
            line_editor=False,
            encoding=None,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            sftp_factory=None,
            login_timeout=LOGIN_SECONDS,
            keepalive_interval=30,
            keepalive_count_max=4,
        )

    async def shut_down(self) -> None:
        await asyncio.gather(
            *(s.end("the server is shutting down") for s in list(self.sessions)),
            return_exceptions=True,
        )


class ViewerConnection(asyncssh.SSHServer):
    """One SSH connection: admission, authentication, and refusals of all but a session."""

    def __init__(self, server: PortalServer) -> None:
        self.server = server
        self.address = "?"
        self.username = ""
        self.admitted = False
        self.started = time.monotonic()
        self.failures = 0
        self.refusal: str | None = None
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        # A refusal waits for begin_auth: a disconnect sent before the key exchange is
        # lost in the TCP reset, and the viewer would not see why.
        self.refusal = self.server.gate.admit(self.address)
        if self.refusal:
            log.warning("%s: refused (%s)", self.address, self.refusal)
            return
        self.admitted = True
        log.info("%s: connected", self.address)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.admitted:
            return
        self.server.gate.release(self.address)
        who = f" as {self.username!r}" if self.username else ""
        log.info(
            "%s: disconnected%s after %.1f s", self.address, who, time.monotonic() - self.started
        )

    def begin_auth(self, username: str) -> bool:
        if self.refusal and self.conn is not None:
            self.conn.disconnect(asyncssh.DISC_TOO_MANY_CONNECTIONS, self.refusal)
            return True
        self.username = username
        keys = self.server.credentials.authorized_keys
        if keys is not None and self.conn is not None:
            self.conn.set_authorized_keys(keys)
        return True

    def auth_completed(self) -> None:
        self.server.gate.succeeded(self.address)
        log.info("%s: signed in as %r", self.address, self.username)

    def password_auth_supported(self) -> bool:
        return self.server.credentials.uses_password

    async def validate_password(self, username: str, password: str) -> bool:
        if self.server.credentials.password_matches(password):
            return True
        await self._refuse_attempt("wrong password")
        return False

    def public_key_auth_supported(self) -> bool:
        return self.server.credentials.authorized_keys is not None

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # asyncssh asks this only for keys that are not in the authorized_keys file.
        await self._refuse_attempt("key not authorized")
        return False

    async def _refuse_attempt(self, why: str) -> None:
        self.failures += 1
        pause = self.server.gate.failed(self.address)
        log.warning("%s: authentication failed for %r (%s)", self.address, self.username, why)
        await asyncio.sleep(pause)
        if self.failures >= AUTH_ATTEMPTS and self.conn is not None:
            self.conn.disconnect(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many authentication failures"
            )

    def session_requested(self) -> PortalSession:
        return PortalSession(self)

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> bool:
        log.warning("%s: refused port forwarding to %s:%s", self.address, dest_host, dest_port)
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        log.warning("%s: refused remote forwarding of %s", self.address, listen_port)
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        log.warning("%s: refused socket forwarding", self.address)
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        log.warning("%s: refused remote socket forwarding", self.address)
        return False

    def tun_requested(self, unit: int | None) -> bool:
        log.warning("%s: refused tunnel", self.address)
        return False

    def tap_requested(self, unit: int | None) -> bool:
        log.warning("%s: refused tunnel", self.address)
        return False


def terminal_settings(term_type: str | None, environment: dict[str, str]) -> dict[str, str]:
    """The viewer's terminal type and colour depth, from an allow-list of plain values
    (the client's other variables never reach the portal)."""
    settings: dict[str, str] = {}
    if term_type and _SAFE_VALUE.fullmatch(term_type):
        settings["TERM"] = term_type
    colorterm = environment.get("COLORTERM", "")
    if _SAFE_VALUE.fullmatch(colorterm):
        settings["COLORTERM"] = colorterm
    if environment.get("NO_COLOR"):
        settings["NO_COLOR"] = "1"
    return settings


def _window(width: int, height: int, pixwidth: int, pixheight: int) -> bytes:
    # Clamp what the client says: a 0-column or absurd window must not break the portal.
    columns = min(max(width, 10), 1000)
    rows = min(max(height, 4), 1000)
    return struct.pack("HHHH", rows, columns, pixwidth & 0xFFFF, pixheight & 0xFFFF)


def _take_terminal() -> None:
    """In the child, after setsid: make the pty (fd 0) its controlling terminal, so
    resizes deliver SIGWINCH and a hang-up reaches it."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PortalSession(asyncssh.SSHServerSession[bytes]):
    """One viewer's shell session: a portal process on a pty, its bytes relayed both ways."""

    def __init__(self, connection: ViewerConnection) -> None:
        self.connection = connection
        self.server = connection.server
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term_type: str | None = None
        self.size = (80, 24, 0, 0)
        self.hosted: HostedSession | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.master = -1
        self.counted = False
        self.ending = False
        self.reading = False
        self.paused = False
        self.pending_input = bytearray()
        self.started = time.monotonic()
        self.last_input = self.started
        self.timers: list[asyncio.TimerHandle] = []
        self.tasks: set[asyncio.Task[None]] = set()

    # asyncssh callbacks

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan
        chan.set_write_buffer_limits(high=SEND_HIGH_WATER)

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object
    ) -> bool:
        self.term_type = term_type
        self.size = term_size
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log.warning("%s: refused a command", self.connection.address)
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log.warning("%s: refused the %r subsystem", self.connection.address, subsystem[:32])
        return False

    def session_started(self) -> None:
        assert self.chan is not None
        if self.term_type is None:
            self._refuse(
                "relportal: the portal needs a terminal; connect with ssh -t "
                "(and without a command)."
            )
            return
        if not self.server.gate.open_session():
            limit = self.server.settings.limits.max_sessions
            log.warning("%s: refused a session (%d running)", self.connection.address, limit)
            self._refuse(f"relportal: all {limit} sessions are in use; try again later.")
            return
        self.counted = True
        self.server.sessions.add(self)
        try:
            self._spawn()
        except OSError as exc:
            log.error("%s: could not start a portal: %s", self.connection.address, exc)
            self._task(self.end("the portal could not start"))

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.last_input = time.monotonic()
        if self.master < 0 or self.ending:
            return
        self.pending_input += data
        self._flush_input()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height, pixwidth, pixheight)
        if self.master >= 0:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, _window(*self.size))

    def break_received(self, msec: int) -> bool:
        return False

    def eof_received(self) -> bool:
        self._task(self.end(None))
        return True

    def pause_writing(self) -> None:
        # A slow link: stop reading the pty, so the portal blocks writing its next frame
        # instead of frames piling up here.
        self.paused = True
        self._watch_output(False)

    def resume_writing(self) -> None:
        self.paused = False
        self._watch_output(True)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ending:
            self._task(self.end(None))

    def _task(self, work: Coroutine[object, object, None]) -> None:
        # Keep a reference: the event loop holds tasks only weakly.
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # the portal process

    def _spawn(self) -> None:
        assert self.chan is not None
        environment = terminal_settings(self.term_type, dict(self.chan.get_environment()))
        self.hosted = HostedSession(self.server.settings.hosted, mode="ssh", terminal=environment)
        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, _window(*self.size))
            os.set_blocking(master, False)
            self.master = master
            self._task(self._run(slave))
        except BaseException:
            os.close(slave)
            raise

    async def _run(self, slave: int) -> None:
        assert self.hosted is not None and self.chan is not None
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.hosted.command(),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=self.hosted.environment,
                cwd=self.hosted.home,
                start_new_session=True,
                preexec_fn=_take_terminal,
            )
        except OSError as exc:
            log.error("%s: could not start a portal: %s", self.connection.address, exc)
            os.close(slave)
            await self.end("the portal could not start")
            return
        os.close(slave)  # the child holds it now: the master reads EIO when the child is gone
        if self.ending:  # the viewer left while it started
            await _stop(self.process)
            return
        log.info(
            "%s: session for %r started (process %d, %sx%s, TERM=%s)",
            self.connection.address,
            self.connection.username,
            self.process.pid,
            self.size[0],
            self.size[1],
            self.hosted.environment.get("TERM"),
        )
        self._watch_output(True)
        loop = asyncio.get_running_loop()
        limits = self.server.settings.limits
        self.timers.append(
            loop.call_later(limits.session_seconds, self._time_up, "session_seconds")
        )
        self.timers.append(loop.call_later(limits.idle_seconds, self._check_idle))

    def _watch_output(self, on: bool) -> None:
        if self.master < 0 or on == self.reading:
            return
        loop = asyncio.get_running_loop()
        if on and not self.paused and not self.ending:
            loop.add_reader(self.master, self._portal_output)
            self.reading = True
        elif not on:
            loop.remove_reader(self.master)
            self.reading = False

    def _portal_output(self) -> None:
        # Read all that is waiting (up to a chunk) and send it as one write: fewer,
        # fuller packets on a slow link.
        chunks: list[bytes] = []
        size = 0
        ended = False
        while size < READ_CHUNK:
            try:
                data = os.read(self.master, READ_CHUNK - size)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.EIO:  # EIO: every copy of the slave is closed
                    log.warning("%s: pty read failed: %s", self.connection.address, exc)
                ended = True
                break
            if not data:
                ended = True
                break
            chunks.append(data)
            size += len(data)
        if chunks and self.chan is not None and not self.ending:
            with contextlib.suppress(BrokenPipeError):  # the viewer just left: end() follows
                self.chan.write(b"".join(chunks))
        if ended:
            self._watch_output(False)
            self._task(self._portal_exited())

    async def _portal_exited(self) -> None:
        if self.ending or self.process is None:
            return
        code = await self.process.wait()
        await self.end(None, exit_status=code if code >= 0 else 1)

    def _flush_input(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            written = os.write(self.master, self.pending_input) if self.pending_input else 0
        except BlockingIOError:
            written = 0
        except OSError:
            self.pending_input.clear()
            return
        del self.pending_input[:written]
        if self.pending_input:
            loop.add_writer(self.master, self._input_drained)
            if len(self.pending_input) > INPUT_BACKLOG and self.chan is not None:
                self.chan.pause_reading()  # the portal is not reading: stop taking keys

    def _input_drained(self) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_writer(self.master)
        self._flush_input()
        if len(self.pending_input) <= INPUT_BACKLOG and self.chan is not None:
            self.chan.resume_reading()

    def _check_idle(self) -> None:
        idle = self.server.settings.limits.idle_seconds
        quiet = time.monotonic() - self.last_input
        if quiet >= idle:
            self._time_up("idle_seconds")
        else:
            loop = asyncio.get_running_loop()
            self.timers.append(loop.call_later(idle - quiet, self._check_idle))

    def _time_up(self, which: str) -> None:
        limits = self.server.settings.limits
        if which == "idle_seconds":
            message = f"closed after {_duration(limits.idle_seconds)} without a key pressed"
        else:
            message = f"sessions last at most {_duration(limits.session_seconds)}"
        self._task(self.end(message))

    def _refuse(self, message: str) -> None:
        assert self.chan is not None
        self.chan.write(message.encode() + b"\r\n")
        self.chan.exit(1)

    async def end(self, message: str | None, exit_status: int = 0) -> None:
        """Stop the portal (if still running), tell the viewer why, close the channel,
        and remove the session's home. Safe to call more than once."""
        if self.ending:
            return
        self.ending = True
        for timer in self.timers:
            timer.cancel()
        self._watch_output(False)
        if self.master >= 0:
            asyncio.get_running_loop().remove_writer(self.master)
        if self.process is not None and self.process.returncode is None:
            await _stop(self.process)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        if self.hosted is not None:
            self.hosted.close()
        if self.counted:
            self.server.gate.close_session()
            self.server.sessions.discard(self)
            log.info(
                "%s: session for %r ended after %.1f s%s",
                self.connection.address,
                self.connection.username,
                time.monotonic() - self.started,
                f" ({message})" if message else "",
            )
        if self.chan is not None:
            with contextlib.suppress(Exception):  # the viewer may be gone already
                if message:
                    self.chan.write(TERMINAL_RESET + f"relportal: {message}.\r\n".encode())
                self.chan.exit(exit_status)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Hang up on the portal's process group; kill it if it does not go in time."""
    for sig in (signal.SIGHUP, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
            return
        except TimeoutError:
            continue


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"


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
    return SshSettings(
        host=args.host or ssh["host"],
        port=port,
        host_key_path=paths.data_dir() / HOST_KEY_NAME,
        authorized_keys=keys_file,
        limits=Limits(
            max_sessions=ssh["max_sessions"],
            connections_per_address=ssh["connections_per_address"],
            idle_seconds=float(ssh["idle_seconds"]),
            session_seconds=float(ssh["session_seconds"]),
        ),
        hosted=HostedOptions(demo_companies=ssh["demo_companies"], attach=attach),
    )


async def serve(
    settings: SshSettings,
    credentials: Credentials,
    key: asyncssh.SSHKey,
    password: str | None = None,
) -> int:
    """Listen until SIGINT or SIGTERM; then end every session. ``password``, if any, is
    shown once it is listening (never when it could not start)."""
    server = PortalServer(settings, credentials)
    try:
        acceptor = await server.start(key)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror or exc})"
        ) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    data = (
        f"{settings.hosted.attach.url} as the token's user"
        if settings.hosted.attach
        else f"a private demo organization ({settings.hosted.demo_companies} companies)"
    )
    print(
        f"relportal: ssh-serve listening on {settings.host}:{settings.port}; "
        f"each session gets {data}; host key {key.get_fingerprint()}",
        file=sys.stderr,
        flush=True,
    )
    if password is not None:
        # Shown once, to the operator only; it is never logged.
        print(f"relportal: demo password (any user name): {password}", flush=True)
    try:
        await stop.wait()
    finally:
        acceptor.close()
        await server.shut_down()
        await acceptor.wait_closed()
    return 0


def cmd_ssh_serve(args: argparse.Namespace, config: Config) -> int:
    """``relportal ssh-serve``: run until interrupted; bad settings raise ConfigError."""
    settings = settings_from(args, config)
    if settings.authorized_keys is not None:
        credentials = Credentials(authorized_keys=read_authorized_keys(settings.authorized_keys))
        password = None
    else:
        credentials, password = Credentials.demo_password()
    key = host_key(settings.host_key_path)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("asyncssh").setLevel(logging.WARNING)  # it logs every channel request
    try:
        return asyncio.run(serve(settings, credentials, key, password))
    except KeyboardInterrupt:
        return 130
