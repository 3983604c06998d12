"""``relportal ssh-serve``: the portal over SSH, a portal of their own for each viewer.

Every shell session gets its own ``HostedSession`` (a private home and demo database,
or a named user's view of a service) and its own process, on a real pseudo-terminal
sized to the viewer's window. The server grants nothing else: no commands, no
subsystems (SFTP), no port, agent or X11 forwarding, one session per connection.
The gate before sign-in is small (a waiting room with early drops, as sshd's
MaxStartups, and a short login grace); a growing pause after each failed attempt from
an address is waited out before its next attempt is checked, on any connection.
Limits: sessions at once in all and per client address, connections per address,
idle and total session time. What a session saves is offered at a download link of
its own (tui/download_links.py). docs/ssh.md describes the security model.
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
import random
import re
import secrets
import signal
import socket
import stat
import struct
import sys
import termios
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from pathlib import Path

with warnings.catch_warnings():
    # asyncssh names DSA key types as it is imported, and cryptography 51 and newer warn
    # about DSA on each such name: two warnings on stderr at every start, before the
    # server's one line, for a key type ssh-serve never offers.
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    import asyncssh

from tui import paths
from tui.config import Config, ConfigError
from tui.download_links import DownloadLinks
from tui.hosted import HostedOptions, HostedSession, PortalLimits, attach_from, refuse_root

log = logging.getLogger("relportal.ssh")

HOST_KEY_NAME = "ssh_host_ed25519_key"
AUTH_ATTEMPTS = 6  # per connection, as OpenSSH's MaxAuthTries
FAILURE_MEMORY = 600.0  # seconds an address's failed attempts keep slowing it down
MAX_AUTH_PAUSE = 10.0
TRACKED_ADDRESSES = 4096  # the failure table's bound: beyond it the oldest are forgotten
SWEEP_SECONDS = 30.0
DROP_LOG_SECONDS = 10.0
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


@dataclass
class _Failures:
    """One address's failed logins: how many lately, and when it may be answered next."""

    count: int = 0
    last: float = 0.0
    not_before: float = 0.0
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


def _pause(failures: int) -> float:
    """Seconds an address waits before its next attempt is checked (doubling)."""
    return float(min(0.5 * 2 ** (failures - 1), MAX_AUTH_PAUSE)) if failures else 0.0


class Gatekeeper:
    """What the whole server counts, by client address: connections, connections not
    yet signed in, sessions, and failed logins."""

    def __init__(self, limits: Limits, chance: random.Random | None = None) -> None:
        self.limits = limits
        self.connections: Counter[str] = Counter()
        self.unauthenticated: Counter[str] = Counter()
        self.sessions: Counter[str] = Counter()
        self._failures: dict[str, _Failures] = {}
        self._swept = time.monotonic()
        self._chance = chance or random.SystemRandom()

    def admit(self, address: str) -> tuple[bool, str | None]:
        """Count a new connection from ``address``: (counted, refusal). Not counted: drop
        it now, without a word (too many connections wait to sign in, as sshd's
        MaxStartups). A refusal: tell the viewer why once they ask to sign in."""
        waiting = sum(self.unauthenticated.values())
        if self._chance.random() < self.limits.startups.drop_chance(waiting):
            return False, None
        if self.unauthenticated[address] >= self.limits.startups_per_address:
            return False, None
        # Counted as waiting to sign in from here, refused or not, so that refusals
        # that linger until the login grace ends are bounded too.
        self.unauthenticated[address] += 1
        if self.connections[address] >= self.limits.connections_per_address:
            return True, f"too many connections from {address}"
        self.connections[address] += 1
        return True, None

    def signed_in(self, address: str) -> None:
        self._forget(self.unauthenticated, address)

    def release(self, address: str, *, signed_in: bool, refused: bool) -> None:
        """A connection from ``address`` is gone."""
        if not signed_in:
            self._forget(self.unauthenticated, address)
        if not refused:
            self._forget(self.connections, address)

    @staticmethod
    def _forget(counter: Counter[str], address: str) -> None:
        counter[address] -= 1
        if counter[address] <= 0:
            del counter[address]

    def open_session(self, address: str) -> str | None:
        """Count a session for ``address``; the viewer's message if it is refused."""
        limits = self.limits
        if sum(self.sessions.values()) >= limits.max_sessions:
            return f"all {limits.max_sessions} sessions are in use; try again later."
        if self.sessions[address] >= limits.sessions_per_address:
            return (
                f"{address} already has {limits.sessions_per_address} sessions open; end one first."
            )
        self.sessions[address] += 1
        return None

    def close_session(self, address: str) -> None:
        self._forget(self.sessions, address)

    @contextlib.asynccontextmanager
    async def login_turn(self, address: str) -> AsyncIterator[None]:
        """Hold ``address``'s turn to have a login checked. The pause its earlier
        failures earned is waited out first, before any password is looked at, so a
        new connection does not skip it; attempts from one address go one at a time."""
        self._sweep()
        failures = self._failures.setdefault(address, _Failures())
        async with failures.turn:
            wait = failures.not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            yield

    def failed(self, address: str) -> None:
        """Record a failed attempt: the address's next one waits longer."""
        now = time.monotonic()
        failures = self._failures.setdefault(address, _Failures())
        if now - failures.last > FAILURE_MEMORY:
            failures.count = 0
        failures.count += 1
        failures.last = now
        failures.not_before = now + _pause(failures.count)

    def succeeded(self, address: str) -> None:
        failures = self._failures.get(address)
        if failures is not None and not failures.turn.locked():
            del self._failures[address]

    def pause_owed(self, address: str) -> float:
        """Seconds before ``address``'s next attempt would be checked."""
        failures = self._failures.get(address)
        return max(0.0, failures.not_before - time.monotonic()) if failures else 0.0

    @property
    def tracked(self) -> int:
        """Addresses in the failure table."""
        return len(self._failures)

    def _sweep(self) -> None:
        # Forget addresses quiet for FAILURE_MEMORY, now and then; beyond the table's
        # bound, the longest quiet go first. Entries in use (a turn held) stay.
        now = time.monotonic()
        if now - self._swept < SWEEP_SECONDS and len(self._failures) < TRACKED_ADDRESSES:
            return
        self._swept = now
        idle = [(f.last, a) for a, f in self._failures.items() if not f.turn.locked()]
        idle.sort()
        excess = len(self._failures) - TRACKED_ADDRESSES + 1
        for index, (last, address) in enumerate(idle):
            if index < excess or now - last > FAILURE_MEMORY:
                del self._failures[address]


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
        self.downloads = DownloadLinks(downloads_base(settings))
        self._drops = 0
        self._drops_logged = -DROP_LOG_SECONDS

    def note_drop(self, address: str) -> None:
        """Log early drops, at most one line per DROP_LOG_SECONDS: a flood must not
        flood the log too."""
        self._drops += 1
        now = time.monotonic()
        if now - self._drops_logged >= DROP_LOG_SECONDS:
            log.warning(
                "%s: dropped (too many connections waiting to sign in; %d dropped since "
                "the last such line)",
                address,
                self._drops,
            )
            self._drops = 0
            self._drops_logged = now

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
            login_timeout=self.settings.limits.login_seconds,
            keepalive_interval=30,
            keepalive_count_max=4,
        )

    async def shut_down(self) -> None:
        await asyncio.gather(
            *(s.end("the server is shutting down") for s in list(self.sessions)),
            return_exceptions=True,
        )


class ViewerConnection(asyncssh.SSHServer):
    """One SSH connection: admission, authentication, one session, and refusals of all
    else."""

    def __init__(self, server: PortalServer) -> None:
        self.server = server
        self.address = "?"
        self.username = ""
        self.counted = False  # in the gate's counts (not dropped on arrival)
        self.signed_in = False
        self.started = time.monotonic()
        self.failures = 0
        self.refusal: str | None = None
        self.session: PortalSession | None = None
        self.conn: asyncssh.SSHServerConnection | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        self.counted, self.refusal = self.server.gate.admit(self.address)
        if not self.counted:
            # Early drop: no key exchange, no message, nothing held (asyncssh is still
            # setting the connection up: abort once it has).
            self.server.note_drop(self.address)
            asyncio.get_running_loop().call_soon(conn.abort)
            return
        # A refusal waits for begin_auth: a disconnect sent before the key exchange is
        # lost in the TCP reset, and the viewer would not see why.
        if self.refusal:
            log.warning("%s: refused (%s)", self.address, self.refusal)
            return
        log.info("%s: connected", self.address)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if not self.counted:
            return
        self.server.gate.release(
            self.address, signed_in=self.signed_in, refused=self.refusal is not None
        )
        if self.refusal:
            return
        who = f" as {self.username!r}" if self.username else ""
        why = ""
        if not self.signed_in and exc is not None and "Login timeout" in str(exc):
            why = " (not signed in within the login grace)"
        log.info(
            "%s: disconnected%s after %.1f s%s",
            self.address,
            who,
            time.monotonic() - self.started,
            why,
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
        self.signed_in = True
        self.server.gate.signed_in(self.address)
        self.server.gate.succeeded(self.address)
        log.info("%s: signed in as %r", self.address, self.username)
        # Signed in, the connection is for one session: one that opens none in the
        # login grace is closed, so it cannot hold a connection slot for nothing.
        self.timer = asyncio.get_running_loop().call_later(
            self.server.settings.limits.login_seconds, self._no_session
        )

    def _no_session(self) -> None:
        if self.session is None and self.conn is not None:
            log.warning("%s: closed (no session opened)", self.address)
            self.conn.disconnect(asyncssh.DISC_BY_APPLICATION, "no session opened")

    def password_auth_supported(self) -> bool:
        return self.server.credentials.uses_password

    async def validate_password(self, username: str, password: str) -> bool:
        # The pause earned by earlier failures comes before the check, on every
        # connection from the address: reconnecting does not skip it.
        async with self.server.gate.login_turn(self.address):
            if self.server.credentials.password_matches(password):
                return True
            self._refuse_attempt("wrong password")
        return False

    def public_key_auth_supported(self) -> bool:
        return self.server.credentials.authorized_keys is not None

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # asyncssh asks this only for keys that are not in the authorized_keys file.
        async with self.server.gate.login_turn(self.address):
            self._refuse_attempt("key not authorized")
        return False

    def _refuse_attempt(self, why: str) -> None:
        self.failures += 1
        self.server.gate.failed(self.address)
        log.warning("%s: authentication failed for %r (%s)", self.address, self.username, why)
        if self.failures >= AUTH_ATTEMPTS and self.conn is not None:
            self.conn.disconnect(
                asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many authentication failures"
            )

    def session_requested(self) -> PortalSession | bool:
        # One session per connection: a second channel would be a second portal (and
        # would slip past the per-address count of connections).
        if self.session is not None:
            log.warning("%s: refused a second session on one connection", self.address)
            return False
        if self.timer is not None:
            self.timer.cancel()
        self.session = PortalSession(self)
        return self.session

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
        self.download_token: str | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.master = -1
        self.counted = False
        self.ending = False
        self.ended = asyncio.Event()  # set once end() has removed everything
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
        refusal = self.server.gate.open_session(self.connection.address)
        if refusal:
            log.warning("%s: refused a session (%s)", self.connection.address, refusal)
            self._refuse(f"relportal: {refusal}")
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
        link: str | None = None
        if self.server.downloads.enabled:
            self.download_token, link = self.server.downloads.reserve()
        self.hosted = HostedSession(
            self.server.settings.hosted, mode="ssh", terminal=environment, download_url=link
        )
        if self.download_token is not None:
            self.server.downloads.open(self.download_token, self.hosted.files)
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
        self._close_connection_soon()

    def _close_connection_soon(self) -> None:
        # The connection was for this one session: close it, after a moment for the
        # exit status to reach the viewer, if their client does not.
        conn = self.connection.conn
        if conn is not None:
            asyncio.get_running_loop().call_later(STOP_GRACE, conn.close)

    async def end(self, message: str | None, exit_status: int = 0) -> None:
        """Stop the portal (if still running), tell the viewer why, close the channel,
        and remove the session's home. Safe to call more than once: a later call waits
        for the first to finish (the server stopping while a viewer's leave is under
        way must not exit before that portal is gone and its home removed)."""
        if self.ending:
            await self.ended.wait()
            return
        self.ending = True
        try:
            await self._end(message, exit_status)
        finally:
            self.ended.set()

    async def _end(self, message: str | None, exit_status: int) -> None:
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
        if self.download_token is not None:
            self.server.downloads.close(self.download_token)  # its links die with it
        if self.counted:
            self.server.gate.close_session(self.connection.address)
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
        self._close_connection_soon()


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
        from tui.serving import cannot_listen

        raise ConfigError(cannot_listen(settings.host, settings.port, exc)) from None
    if settings.downloads_port is not None:
        try:
            await server.downloads.start(settings.host, settings.downloads_port)
        except OSError as exc:
            acceptor.close()
            from tui.serving import cannot_listen

            why = cannot_listen(settings.host, settings.downloads_port, exc, "--downloads-port")
            raise ConfigError(f"download links: {why} (or set [ssh] downloads = false)") from None
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
        f"each session gets {data}; host key {key.get_fingerprint()}"
        + (f"; download links on {server.downloads.base_url}" if server.downloads.enabled else ""),
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
        await server.downloads.stop()
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
    # After the flags' own checks (their messages say more), before anything is written.
    refuse_root("ssh-serve", getattr(args, "allow_root", False))
    key = host_key(settings.host_key_path)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("asyncssh").setLevel(logging.WARNING)  # it logs every channel request
    try:
        return asyncio.run(serve(settings, credentials, key, password))
    except KeyboardInterrupt:
        return 130
