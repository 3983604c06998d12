"""The asyncssh server: the listening ``PortalServer``, a ``ViewerConnection`` for each
client (admission through the gate, sign-in, refusal of all but one shell session) and
the ``PortalSession`` that relays a viewer's bytes to and from their portal's pty.
The three name one another, as asyncssh's factories make them: they live together."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import termios
import time
from collections.abc import Coroutine

import asyncssh

from tui.hosting.download_links import DownloadLinks
from tui.hosting.hosted import HostedSession
from tui.hosting.ssh.credentials import Credentials
from tui.hosting.ssh.gate import Gatekeeper
from tui.hosting.ssh.settings import SshSettings, downloads_base
from tui.hosting.ssh.terminal import (
    STOP_GRACE,
    TERMINAL_RESET,
    stop_portal,
    take_terminal,
    terminal_settings,
    window_size,
)

log = logging.getLogger("relportal.ssh")

AUTH_ATTEMPTS = 6  # per connection, as OpenSSH's MaxAuthTries
DROP_LOG_SECONDS = 10.0
READ_CHUNK = 64 * 1024
SEND_HIGH_WATER = 16 * 1024  # about a full frame: stop reading the portal's output above it
INPUT_BACKLOG = 64 * 1024  # stop reading the viewer's keys above this backlog


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
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, window_size(*self.size))

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
            fcntl.ioctl(slave, termios.TIOCSWINSZ, window_size(*self.size))
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
                preexec_fn=take_terminal,
            )
        except OSError as exc:
            log.error("%s: could not start a portal: %s", self.connection.address, exc)
            os.close(slave)
            await self.end("the portal could not start")
            return
        os.close(slave)  # the child holds it now: the master reads EIO when the child is gone
        if self.ending:  # the viewer left while it started
            await stop_portal(self.process)
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
            await stop_portal(self.process)
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


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"
