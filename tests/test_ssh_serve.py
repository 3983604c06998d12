"""``relportal ssh-serve`` end to end: a real server process on 127.0.0.1, real clients.

The viewer's side is the ``ssh`` command (OpenSSH) on a pty whose output is drawn on
a pyte screen; protocol requests OpenSSH makes awkward to observe (port forwarding,
SFTP, many connections) go through asyncssh's client. Every wait polls for what a
user would see, with a deadline.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import asyncssh
import pyte
import pytest
from ssh_terminal import ScreenTerminal

pytestmark = pytest.mark.e2e

SSH = shutil.which("ssh")
SSH_AGENT = shutil.which("ssh-agent")


@pytest.fixture(scope="module", autouse=True)
def openssh_client() -> None:
    if SSH is None or SSH_AGENT is None:
        reason = "ssh and ssh-agent (Debian package openssh-client) are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


# The tests run as root in CI: the server then needs --allow-root (tested on its own below).
AS_ROOT = ["--allow-root"] if os.geteuid() == 0 else []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _eventually(check, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class SshServe:
    """A ``relportal ssh-serve`` process with a home, data and temp folder of its own."""

    def __init__(
        self, root: Path, *args: str, ssh_config: str = "", cwd: Path | None = None
    ) -> None:
        self.root = root
        self.cwd = cwd  # the server's working folder (None: the test's)
        self.port = _free_port()
        self.downloads_port = _free_port()
        self.tmp = root / "tmp"
        self.data = root / "data"
        self.tmp.mkdir(parents=True, exist_ok=True)
        config = root / "config.toml"
        config.write_text(f"[ssh]\n{ssh_config}\n")
        self.environment = {
            **os.environ,
            "HOME": str(root / "home"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(self.data),
            "XDG_CACHE_HOME": str(root / "cache"),
            "XDG_STATE_HOME": str(root / "state"),
            "TMPDIR": str(self.tmp),  # session homes are made here, where tests can see them
            "PYTHONUNBUFFERED": "1",
        }
        self.environment.pop("RELPORTAL_TOKEN", None)
        self.argv = [
            sys.executable,
            "-m",
            "tui.cli",
            "--config",
            str(config),
            "ssh-serve",
            "--port",
            str(self.port),
            "--downloads-port",
            str(self.downloads_port),
            *AS_ROOT,
            *args,
        ]
        self.starts = 0
        self.start()

    def start(self) -> None:
        self.starts += 1
        self.out = self.root / f"stdout-{self.starts}.log"
        self.err = self.root / f"stderr-{self.starts}.log"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=err, env=self.environment, cwd=self.cwd
            )
        _eventually(
            lambda: "listening on" in self.log() or self.process.poll() is not None,
            "ssh-serve to listen",
            30,
        )
        assert self.process.poll() is None, self.log()

    def log(self) -> str:
        return self.err.read_text()

    def stdout(self) -> str:
        return self.out.read_text()

    def session_homes(self) -> list[Path]:
        return sorted(self.tmp.glob("relportal-session-*"))

    def portal_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"started \(process (\d+)", self.log())]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _client_key(folder: Path) -> tuple[Path, Path]:
    """A viewer's key pair, and an authorized_keys file that lets it in."""
    folder.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    private = folder / "viewer_key"
    private.write_bytes(key.export_private_key())
    private.chmod(0o600)
    authorized = folder / "authorized_keys"
    authorized.write_bytes(key.export_public_key())
    return private, authorized


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SshServe, Path]]:
    """One server for the tests that do not need limits of their own."""
    root = tmp_path_factory.mktemp("ssh-serve")
    key, authorized = _client_key(root / "viewer")
    server = SshServe(root, "--authorized-keys", str(authorized))
    yield server, key
    server.stop()


@pytest.fixture
def shared(shared_server: tuple[SshServe, Path]) -> tuple[SshServe, Path]:
    """The shared server once the sessions of earlier tests are gone, in any test order."""
    server, _ = shared_server
    _eventually(lambda: not server.session_homes(), "earlier sessions to end")
    return shared_server


def _ssh_command(server: SshServe, key: Path | None) -> list[str]:
    """The ssh command up to its destination: this server, and the viewer's key if given
    (then never a prompt)."""
    assert SSH is not None
    command = [SSH, "-F", "/dev/null", "-p", str(server.port)]  # none of this machine's config
    for option in ("StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "LogLevel=ERROR"):
        command += ["-o", option]
    if key is not None:
        command += ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", str(key)]
    return command


def viewer(
    server: SshServe,
    key: Path,
    *extra: str,
    term: str = "xterm-256color",
    columns: int = 100,
    rows: int = 30,
    extra_env: dict[str, str] | None = None,
) -> ScreenTerminal:
    """``ssh -tt`` to the server as a viewer would, in a terminal of the given size."""
    argv = [*_ssh_command(server, key), "-tt", *extra, "viewer@127.0.0.1"]
    env = {"PATH": os.environ.get("PATH", ""), "TERM": term, "HOME": str(key.parent)}
    env.update(extra_env or {})
    return ScreenTerminal(argv, env, columns=columns, rows=rows)


def _ssh(server: SshServe, key: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_ssh_command(server, key), *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def _connect(server: SshServe, key: Path, **options: Any) -> asyncssh.SSHClientConnection:
    """asyncssh's client, logging in with the viewer's key and nothing else."""
    return asyncssh.connect(  # type: ignore[return-value]  # awaitable or context manager
        "127.0.0.1",
        server.port,
        **{
            "username": "viewer",
            "client_keys": [str(key)],
            "known_hosts": None,
            "agent_path": None,
            **options,
        },
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _search(terminal: ScreenTerminal, words: str) -> None:
    terminal.type("/")
    terminal.wait_for(lambda text: "▔▔▔" in text, "the search box")
    terminal.type(words)
    terminal.wait_for_text(f"“{words}”")


def _rows(screen: str, start: str) -> list[str]:
    """The companies listed whose names begin with ``start`` (not notifications)."""
    return [
        re.split(r"\s{2,}", line.strip())[0]
        for line in screen.splitlines()
        if line.startswith(f" {start}")
    ]


def _open_first_row(terminal: ScreenTerminal) -> None:
    terminal.type("\r")  # from the search box to the rows
    terminal.wait_for_text("⏎ Open")
    terminal.type("\r")
    terminal.wait_for_text("Legal entities")


def test_a_viewer_sees_the_portal_types_copies_resizes_and_leaves(shared) -> None:  # type: ignore[no-untyped-def]
    server, key = shared
    terminal = viewer(server, key, "-o", "SetEnv=COLORTERM=truecolor")
    try:
        screen = terminal.wait_for_text("Relationships")
        terminal.wait_for_text("Ashford Leigh Nursery Hitchin")  # the demo's first company
        assert "Platform(s)" not in screen  # no room for it at 100 columns
        assert b"\x1b[38;2;" in terminal.output()  # truecolor, as the viewer's COLORTERM says

        _search(terminal, "Bakery")
        screen = terminal.wait_for(
            lambda text: "Ashford Leigh" not in text and "All 2 " in text, "the search's rows"
        )
        assert "Knead to Know Bakery" in screen
        assert "Otter Brae Bakery Tring" in screen

        _open_first_row(terminal)
        terminal.type("c")
        email = "alex.adeyemi@kneadtoknowbakery.example"
        terminal.wait_for_text("Copied")
        # The copy reached the viewer's terminal as OSC 52, for their clipboard.
        osc52 = b"\x1b]52;c;" + base64.b64encode(email.encode())
        assert osc52 in terminal.output()

        terminal.resize(130, 36)
        terminal.type("\x1b")  # back to the list, drawn at the new size
        screen = terminal.wait_for(
            lambda text: "Platform(s)" in text and len(text.splitlines()) == 36,
            "the list redrawn 130 columns wide",
        )
        assert "Sandbox" in screen  # Knead to Know's platform, in the new column

        pid = server.portal_pids()[-1]
        assert len(server.session_homes()) == 1
    finally:
        terminal.close()  # the viewer's ssh dies: the connection just drops
    _eventually(lambda: _gone(pid), "the portal process to end")
    _eventually(lambda: not server.session_homes(), "the session's home to be removed")
    _eventually(lambda: "session for 'viewer' ended" in server.log(), "the session's log line")
    assert "disconnected as 'viewer' after" in server.log()


def test_two_viewers_at_once_do_not_see_each_others_changes(shared) -> None:  # type: ignore[no-untyped-def]
    server, key = shared
    first = viewer(server, key)  # TERM=xterm-256color, no COLORTERM
    second = viewer(server, key, term="xterm")
    try:
        for terminal in (first, second):
            terminal.wait_for_text("Beacon Hollow Deli Harrogate")
        assert len(server.session_homes()) == 2
        # Colours follow each viewer's terminal: 256 colours, and the 16 of plain xterm.
        assert b"\x1b[38;5;" in first.output() and b"\x1b[38;2;" not in first.output()
        assert b"\x1b[38;5;" not in second.output() and b"\x1b[38;2;" not in second.output()

        _search(first, "Beacon Hollow")
        first.wait_for(lambda text: "All 1 " in text, "one company found")
        _open_first_row(first)
        first.type("d")
        first.wait_for_text("Delete Beacon Hollow Deli Harrogate?")
        first.type("y")
        first.wait_for_text("Deleted Beacon Hollow Deli Harrogate")
        first.wait_for(lambda text: not _rows(text, "Beacon Hollow"), "the row to go")

        _search(second, "Beacon Hollow")
        screen = second.wait_for(lambda text: _rows(text, "Beacon Hollow"), "the other's row")
        # One row, its long name perhaps cut to the column ("Beacon Hollow Deli Harroga…").
        (row,) = _rows(screen, "Beacon Hollow")
        assert row.startswith("Beacon Hollow Deli Harroga"), row
        assert "Deleted" not in screen

        # The first viewer leaves with ctrl+q: ssh ends normally, the portal with it.
        first.type("\x11")
        assert first.wait_exit() == 0
        _eventually(lambda: len(server.session_homes()) == 1, "the first home removed")
        second.type("\x1b")
        second.wait_for_text("Beacon Hollow Deli Harroga")  # still there (perhaps cut)
    finally:
        first.close()
        second.close()
    # Nothing touched a real database: the server's data folder holds only its host key.
    assert [p.name for p in (server.data / "relportal").iterdir()] == ["ssh_host_ed25519_key"]


def test_commands_subsystems_and_forwarding_are_refused(shared) -> None:  # type: ignore[no-untyped-def]
    server, key = shared
    done = _ssh(server, key, "viewer@127.0.0.1", "cat", "/etc/passwd")
    assert done.returncode != 0
    assert "exec request failed" in done.stderr
    assert "root:" not in done.stdout

    done = _ssh(server, key, "-s", "viewer@127.0.0.1", "sftp")
    assert done.returncode != 0
    assert "subsystem request failed" in done.stderr

    done = _ssh(server, key, "-T", "viewer@127.0.0.1")
    assert done.returncode == 1
    assert "the portal needs a terminal; connect with ssh -t" in done.stdout

    done = _ssh(
        server,
        key,
        "-N",
        "-o",
        "ExitOnForwardFailure=yes",
        "-R",
        f"{_free_port()}:127.0.0.1:{server.port}",
        "viewer@127.0.0.1",
    )
    assert "remote port forwarding failed" in done.stderr

    async def by_asyncssh() -> None:
        async with _connect(server, key) as conn:
            with pytest.raises(asyncssh.ChannelOpenError):  # ssh -L's request
                await conn.open_connection("127.0.0.1", server.port)
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", server.port)
            with pytest.raises((asyncssh.SFTPError, asyncssh.ChannelOpenError)):
                await conn.start_sftp_client()
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_process("id")

    asyncio.run(by_asyncssh())
    assert "refused port forwarding to 127.0.0.1" in server.log()

    # X11 and agent forwarding asked for by a viewer with a display and a running agent:
    # OpenSSH reports the X11 refusal; no agent socket appears on the server; the
    # portal still opens.
    assert SSH_AGENT is not None
    agent_socket = key.parent / "agent.sock"
    agent = subprocess.run(
        [SSH_AGENT, "-a", str(agent_socket)], capture_output=True, text=True, timeout=30
    )
    agent_pid = int(re.findall(r"SSH_AGENT_PID=(\d+)", agent.stdout)[0])
    terminal = viewer(
        server,
        key,
        "-X",
        "-A",
        extra_env={"DISPLAY": "127.0.0.1:9", "SSH_AUTH_SOCK": str(agent_socket)},
    )
    try:
        terminal.wait_for_text("Relationships")
        assert b"X11 forwarding request failed" in terminal.output()
        assert not list(server.tmp.glob("asyncssh-*"))  # where an agent socket would be
    finally:
        terminal.close()
        os.kill(agent_pid, signal.SIGTERM)


def test_sessions_and_connections_per_address_are_capped_and_idle_sessions_end(
    tmp_path: Path,
) -> None:
    key, authorized = _client_key(tmp_path / "viewer")
    server = SshServe(
        tmp_path,
        "--authorized-keys",
        str(authorized),
        ssh_config="max_sessions = 1\nconnections_per_address = 2\nidle_seconds = 10",
    )
    first = viewer(server, key)
    try:
        first.wait_for_text("Relationships")
        first.type("j")  # a key: the idle clock starts again, the checks below have 10 s
        second = viewer(server, key)
        try:
            assert second.wait_exit() == 1
            second.wait_for_text("relportal: all 1 sessions are in use; try again later.")
        finally:
            second.close()
        _eventually(lambda: "disconnected as 'viewer'" in server.log(), "the refused one to go")

        async def connections() -> None:
            # The first viewer holds one connection from 127.0.0.1; one more is allowed.
            async with _connect(server, key):
                with pytest.raises(asyncssh.DisconnectError, match="too many connections"):
                    async with _connect(server, key):
                        pass
                # Another address is counted on its own.
                async with _connect(server, key, local_addr=("127.0.0.2", 0)):
                    pass

        asyncio.run(connections())

        # No key from the first viewer for idle_seconds: its session ends, and says so.
        first.type("j")
        typed = time.monotonic()
        first.wait_for_text("relportal: closed after 10 seconds without a key pressed.", 30)
        assert time.monotonic() - typed >= 9.5  # counted from the last key
        assert first.wait_exit() == 0
        _eventually(lambda: not server.session_homes(), "the idle session's home removed")
        assert all(_gone(pid) for pid in server.portal_pids())
    finally:
        first.close()
        server.stop()


def _demo_password(server: SshServe) -> str:
    pattern = r"demo password \(any user name\): (\S+)"
    _eventually(lambda: re.search(pattern, server.stdout()) is not None, "the password")
    return re.findall(pattern, server.stdout())[0]


def test_password_login_is_slowed_after_failures_and_the_host_key_is_kept(
    tmp_path: Path,
) -> None:
    server = SshServe(tmp_path, "--demo-password")
    try:
        password = _demo_password(server)
        assert len(password) >= 20
        assert password not in server.log()

        async def attempt(guess: str, address: str = "127.0.0.1") -> tuple[float, bool]:
            """A fresh connection, one password: how long until the answer, and was it yes."""
            started = time.monotonic()
            try:
                async with asyncssh.connect(
                    "127.0.0.1",
                    server.port,
                    username="guest",
                    password=guess,
                    known_hosts=None,
                    client_keys=None,
                    agent_path=None,
                    preferred_auth="password",
                    local_addr=(address, 0),
                ):
                    return time.monotonic() - started, True
            except asyncssh.PermissionDenied:
                return time.monotonic() - started, False

        async def guesses() -> list[tuple[float, bool]]:
            answers = [await attempt(f"guess-{n}") for n in range(3)]
            answers.append(await attempt(password))  # the right one, straight after
            answers.append(await attempt("guess-3", "127.0.0.2"))  # another address
            return answers

        answers = asyncio.run(guesses())
        durations = [seconds for seconds, _ in answers]
        assert [yes for _, yes in answers] == [False, False, False, True, False]
        # Each new connection waits out the pause the address's failures earned before
        # its password is even looked at: 0, then 0.5, 1 and 2 s; the right password
        # too, so an attacker cannot tell a hit by a quick answer or dodge the pause by
        # reconnecting. Another address owes nothing.
        assert durations[0] < 0.5, durations
        assert durations[1] >= 0.45 and durations[2] >= 0.95 and durations[3] >= 1.95, durations
        assert durations[4] < 0.5, durations
        assert "authentication failed for 'guest' (wrong password)" in server.log()

        # The right password, typed at OpenSSH's prompt, opens the portal.
        argv = [
            *_ssh_command(server, None),
            "-tt",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=keyboard-interactive,password",
            "guest@127.0.0.1",
        ]
        env = {"PATH": os.environ.get("PATH", ""), "TERM": "xterm-256color"}
        terminal = ScreenTerminal(argv, env)
        try:
            terminal.wait_for(lambda text: "password:" in text.lower(), "the password prompt")
            terminal.type(password + "\r")
            terminal.wait_for_text("Relationships")
            # The operator stops the server: the viewer is told, nothing is left behind.
            server.stop()
            terminal.wait_for_text("relportal: the server is shutting down.")
            assert not server.session_homes()
        finally:
            terminal.close()
        for line in server.log().splitlines():
            assert password not in line

        key_file = server.data / "relportal" / "ssh_host_ed25519_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        fingerprint = re.search(r"host key (SHA256:\S+)", server.log())
        assert fingerprint is not None
        server.start()  # the same data folder: the same host key, a new password
        assert f"host key {fingerprint[1]}" in server.log()
        assert _demo_password(server) != password
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "ssh-serve needs --authorized-keys FILE"),
        (["--demo-password", "--authorized-keys", "k"], "not both"),
        (["--authorized-keys", "missing"], "missing: cannot be read (No such file or directory)"),
        (["--authorized-keys", "garbage"], "is not an OpenSSH authorized_keys file"),
        (["--authorized-keys", "empty"], "empty: has no keys"),
        (["--demo-password", "--port", "70000"], "--port: must be a port number from 1 to 65535"),
        (["--demo-password", "--service", "ftp://x"], "--service must be an http"),
        (["--demo-password", "--service", "http://127.0.0.1:9"], "needs the token"),
    ],
)
def test_bad_flags_stop_with_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "garbage").write_text("this is not a key\n")
    (tmp_path / "empty").write_text("# nobody yet\n")
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", "ssh-serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "RELPORTAL_TOKEN"},
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("relportal: "), done.stderr
    assert expected in lines[0]


class _RecordingViewer(asyncssh.SSHClientSession[bytes]):
    """An asyncssh client session that draws what it receives on a pyte screen."""

    def __init__(self, columns: int = 100, rows: int = 30) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.received = 0

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        self.received += len(data)
        self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)


async def _until(check, what: str, timeout: float = 30.0, screen=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            shown = f"; the screen:\n{screen.text()}" if screen else ""
            raise AssertionError(f"timed out waiting for {what}{shown}")
        await asyncio.sleep(0.05)


async def test_a_stalled_link_holds_up_no_one_and_catches_up(shared) -> None:  # type: ignore[no-untyped-def]
    server, key = shared
    async with _connect(server, key, username="slow") as conn:
        # A small window: the server may send 16 KiB before it must wait for this viewer.
        chan, slow = await conn.create_session(
            _RecordingViewer,
            term_type="xterm-256color",
            term_size=(100, 30),
            encoding=None,
            window=16 * 1024,
        )
        await _until(lambda: "Ashford Leigh Nursery Hitchin" in slow.text(), "the portal")
        chan.pause_reading()  # the link stalls: nothing more is taken from the server
        stalled_at = slow.received
        # Each new sort redraws the whole list: far more than the window lets through.
        # Three sorts in turn: 31 presses end on the second, Created.
        for _ in range(31):
            chan.write(b"o")
            await asyncio.sleep(0.03)

        # Another viewer meanwhile: the server and its other sessions carry on.
        other = viewer(server, key)
        try:
            await asyncio.to_thread(other.wait_for_text, "Ashford Leigh Nursery Hitchin")
            await asyncio.to_thread(_search, other, "Brewing")
        finally:
            other.close()
        assert slow.received == stalled_at

        chan.resume_reading()  # the link recovers: the stalled viewer catches up
        await _until(
            lambda: "sorted by Created ↑" in slow.text(),
            "the stalled viewer's last sort",
            screen=slow,
        )
        assert slow.received > stalled_at
        chan.close()


def _idle_connections(port: int, addresses: list[str]) -> list[socket.socket]:
    """TCP connections that never speak SSH, one per address given (a flood)."""
    flood = []
    for address in addresses:
        sock = socket.socket()
        sock.bind((address, 0))
        sock.connect(("127.0.0.1", port))
        flood.append(sock)
    return flood


def _closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        while data := sock.recv(4096):  # the server's version line, then EOF
            del data
    except BlockingIOError:
        return False
    except OSError:
        return True  # reset
    return True


def _shows(screen: _RecordingViewer, text: str) -> bool:
    return text in screen.text()


async def _time_to_portal(server: SshServe, key: Path, address: str, limit: float) -> float:
    """Seconds until a viewer from ``address`` has the portal on screen, trying again
    as a person would when the server drops them."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            async with _connect(server, key, local_addr=(address, 0)) as conn:
                chan, screen = await conn.create_session(
                    _RecordingViewer, term_type="xterm-256color", term_size=(100, 30), encoding=None
                )
                await _until(partial(_shows, screen, "Relationships"), "the portal", 60)
                chan.close()
                return time.monotonic() - started
        except (OSError, asyncssh.Error):
            await asyncio.sleep(0.5)
    raise AssertionError(f"no portal for {address} in {limit} s")


def test_an_idle_flood_before_sign_in_does_not_lock_viewers_out(tmp_path: Path) -> None:
    key, authorized = _client_key(tmp_path / "viewer")
    server = SshServe(tmp_path, "--authorized-keys", str(authorized))  # the [ssh] defaults
    flood: list[socket.socket] = []
    try:
        # 32 idle connections from one address: it may hold 3 waiting to sign in; the
        # rest are dropped at once, and another address's viewer gets in straight away.
        flood = _idle_connections(server.port, ["127.0.0.3"] * 32)
        _eventually(lambda: sum(map(_closed_by_server, flood)) >= 29, "the early drops", 10)
        assert sum(map(_closed_by_server, flood)) == 29
        promptly = asyncio.run(_time_to_portal(server, key, "127.0.0.2", 60))
        assert promptly < 10, promptly

        # 40 from 40 addresses: the waiting room fills (max_startups 10:30:30), more are
        # dropped; each one waiting is closed when its 15 s login grace ends, so a viewer
        # trying meanwhile is in within the grace, not after 60 s as before.
        flooded = time.monotonic()
        flood += _idle_connections(server.port, [f"127.0.1.{n}" for n in range(1, 41)])
        waited = asyncio.run(_time_to_portal(server, key, "127.0.0.4", 60))
        assert waited < 25, waited
        _eventually(lambda: all(map(_closed_by_server, flood)), "the flood to be closed", 30)
        closed = time.monotonic() - flooded
        assert closed < 20, closed
        print(f"flood: in after {promptly:.1f} s, then {waited:.1f} s; closed in {closed:.1f} s")
        assert "dropped (too many connections waiting to sign in; " in server.log()
        assert "(not signed in within the login grace)" in server.log()
    finally:
        for sock in flood:
            sock.close()
        server.stop()


def _portal_pid(server: SshServe, count: int) -> int:
    _eventually(lambda: len(server.portal_pids()) >= count, f"portal number {count}")
    return server.portal_pids()[count - 1]


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def _limits(pid: int) -> dict[str, tuple[str, str]]:
    """/proc/PID/limits: each limit's (soft, hard)."""
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): tuple(row[26:].split()[:2]) for row in rows}  # type: ignore[misc]


def test_one_session_per_connection_sessions_per_address_and_confined_portals(
    tmp_path: Path,
) -> None:
    key, authorized = _client_key(tmp_path / "viewer")
    server = SshServe(
        tmp_path,
        "--authorized-keys",
        str(authorized),
        ssh_config="sessions_per_address = 1\n[hosted]\nmemory_mb = 1024\ncpu_seconds = 300",
    )

    async def sessions() -> None:
        async with _connect(server, key) as first:
            chan, screen = await first.create_session(
                _RecordingViewer, term_type="xterm-256color", term_size=(100, 30), encoding=None
            )
            await _until(lambda: "Ashford Leigh Nursery Hitchin" in screen.text(), "the portal")
            # A second session on the same connection: refused, no second portal.
            with pytest.raises(asyncssh.ChannelOpenError):
                await first.create_session(
                    _RecordingViewer, term_type="xterm", term_size=(80, 24), encoding=None
                )
            assert "refused a second session on one connection" in server.log()

            # Another connection from the same address: its one session is refused.
            async with _connect(server, key) as second:
                chan2, refused = await second.create_session(
                    _RecordingViewer, term_type="xterm", term_size=(100, 30), encoding=None
                )
                await chan2.wait_closed()
                assert chan2.get_exit_status() == 1
                assert "127.0.0.1 already has 1 sessions open; end one first." in refused.text()
            # Another address is counted on its own.
            async with _connect(server, key, local_addr=("127.0.0.2", 0)) as third:
                chan3, other = await third.create_session(
                    _RecordingViewer, term_type="xterm", term_size=(100, 30), encoding=None
                )
                await _until(lambda: "Relationships" in other.text(), "the other's portal")
                chan3.close()

            # The first portal runs confined: its limits, an empty HOME, its home as cwd.
            pid = _portal_pid(server, 1)
            limits = _limits(pid)
            assert limits["Max address space"] == (str(1024 * 2**20),) * 2
            assert limits["Max cpu time"] == ("300", "300")
            assert limits["Max open files"] == ("256", "256")
            assert limits["Max file size"] == (str(1024 * 2**20),) * 2
            assert limits["Max core file size"] == ("0", "0")
            home = Path(os.readlink(f"/proc/{pid}/cwd"))
            assert home in server.session_homes()
            environment = _environ(pid)
            assert environment["HOME"] == str(home / "home")
            assert list((home / "home").iterdir()) == []
            status = Path(f"/proc/{pid}/status").read_text()
            peak_kb = int(re.findall(r"VmPeak:\s+(\d+) kB", status)[0])
            assert peak_kb * 1024 < 1024 * 2**20  # the demo portal fits in 1 GiB
            files = len(os.listdir(f"/proc/{pid}/fd"))
            print(f"portal VmPeak {peak_kb / 1024:.0f} MB, open files {files}")
            chan.close()

    try:
        asyncio.run(sessions())
        _eventually(lambda: not server.session_homes(), "the sessions to end")
    finally:
        server.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (CI runs as root)")
@pytest.mark.parametrize("command", [["ssh-serve", "--demo-password"], ["web", "--port", "0"]])
def test_the_servers_refuse_to_run_as_root(tmp_path: Path, command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={
            **os.environ,
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path),
        },
    )
    assert done.returncode == 2
    name = command[0]
    assert done.stderr == (
        f"relportal: {name} will not run as root (every viewer's portal would be root too): "
        "run it as a user of its own (see docs/ssh.md), or pass --allow-root\n"
    )
    assert "password" not in done.stdout
    assert not (tmp_path / "data").exists()  # not even a host key was made


def test_refuse_root_reads_the_effective_user() -> None:
    from tui.config import ConfigError
    from tui.hosting.hosted import refuse_root

    with pytest.raises(ConfigError, match="will not run as root"):
        refuse_root("web", allow_root=False, euid=0)
    refuse_root("web", allow_root=True, euid=0)
    refuse_root("web", allow_root=False, euid=1000)


def _get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """A GET with the path sent as given (no client tidies up ``..`` or ``%2f``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


async def _open_portal(server: SshServe, key: Path, address: str = "127.0.0.1") -> tuple:  # type: ignore[type-arg]
    conn = await _connect(server, key, local_addr=(address, 0))
    chan, screen = await conn.create_session(
        _RecordingViewer, term_type="xterm-256color", term_size=(100, 30), encoding=None
    )
    await _until(partial(_shows, screen, "Relationships"), "the portal")
    return conn, chan


def test_a_sessions_files_are_offered_at_its_own_link_until_it_ends(shared) -> None:  # type: ignore[no-untyped-def]
    server, key = shared

    async def downloads() -> None:
        first, chan = await _open_portal(server, key)
        second, chan2 = await _open_portal(server, key, "127.0.0.2")
        pids = server.portal_pids()[-2:]
        link, other_link = (_environ(pid)["RELPORTAL_DOWNLOAD_URL"] for pid in pids)
        base = f"http://127.0.0.1:{server.downloads_port}/d/"
        assert link.startswith(base) and link.endswith("/") and link != other_link
        token = link[len(base) : -1]
        assert len(token) >= 43  # 32 random bytes
        assert token not in server.log()
        files = Path(_environ(pids[0])["RELPORTAL_SESSION_FILES"])
        (files / "Beacon report.xlsx").write_bytes(b"PK\x03\x04 a report")
        (files / "passwd").symlink_to("/etc/passwd")
        (files / ".hidden").write_text("not offered")
        path = link[len(f"http://127.0.0.1:{server.downloads_port}") :]

        status, headers, body = await asyncio.to_thread(_get, server.downloads_port, path)
        assert status == 200
        assert "Beacon report.xlsx" in body.decode()
        assert "passwd" not in body.decode() and ".hidden" not in body.decode()
        assert headers["Cache-Control"] == "no-store"

        status, headers, body = await asyncio.to_thread(
            _get, server.downloads_port, path + "Beacon%20report.xlsx"
        )
        assert (status, body) == (200, b"PK\x03\x04 a report")
        assert headers["Content-Disposition"] == "attachment; filename*=UTF-8''Beacon%20report.xlsx"
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"

        other_path = other_link[len(f"http://127.0.0.1:{server.downloads_port}") :]
        wrong = "/d/" + "A" * len(token) + "/"
        for refused in (
            path + "passwd",  # a symlink to /etc/passwd
            path + "..%2f..%2f..%2fetc%2fpasswd",
            path + "../../../etc/passwd",
            path + "%2e%2e",
            path + ".hidden",
            path + "missing.xlsx",
            path.replace(token, token[:-1]) + "Beacon%20report.xlsx",
            wrong,
            wrong + "Beacon%20report.xlsx",
            other_path + "Beacon%20report.xlsx",  # another session's link
            other_path + f"..%2f..%2f{files.parent.name}%2ffiles%2fBeacon%20report.xlsx",
        ):
            status, _, body = await asyncio.to_thread(_get, server.downloads_port, refused)
            assert status == 404, refused
            assert b"root:" not in body and b"a report" not in body

        # The session ends: its links with it.
        chan.close()
        first.close()
        await _until(lambda: _gone(pids[0]), "the first portal to end")
        for gone in (path, path + "Beacon%20report.xlsx"):
            status, _, _ = await asyncio.to_thread(_get, server.downloads_port, gone)
            assert status == 404
        status, _, _ = await asyncio.to_thread(_get, server.downloads_port, other_path)
        assert status == 200  # the other session's link still works
        chan2.close()
        second.close()

    asyncio.run(downloads())


def test_download_links_can_be_turned_off(tmp_path: Path) -> None:
    key, authorized = _client_key(tmp_path / "viewer")
    server = SshServe(
        tmp_path, "--authorized-keys", str(authorized), ssh_config="downloads = false"
    )

    async def portal() -> None:
        conn, chan = await _open_portal(server, key)
        assert "RELPORTAL_DOWNLOAD_URL" not in _environ(server.portal_pids()[-1])
        chan.close()
        conn.close()

    try:
        assert "download links" not in server.log()
        asyncio.run(portal())
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.downloads_port), timeout=2).close()
    finally:
        server.stop()


def test_the_waiting_room_drops_as_sshd_max_startups() -> None:
    from tui.hosting.ssh.settings import Startups

    startups = Startups.parse("10:30:30")
    assert [startups.drop_chance(n) for n in (0, 9, 10, 20, 29, 30, 99)] == [
        0.0,
        0.0,
        0.3,
        0.65,
        pytest.approx(0.965),
        1.0,
        1.0,
    ]
    assert Startups.parse("5:100:5").drop_chance(5) == 1.0


def test_the_failure_table_is_swept_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.hosting.ssh import gate as gate_module
    from tui.hosting.ssh.settings import Limits

    gate = gate_module.Gatekeeper(Limits())
    now = [1000.0]
    monkeypatch.setattr(gate_module.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(gate_module, "TRACKED_ADDRESSES", 100)

    async def fail(address: str) -> None:
        async with gate.login_turn(address):
            gate.failed(address)

    async def flood() -> None:
        for n in range(250):  # more addresses than the table holds
            await fail(f"10.0.{n // 256}.{n % 256}")
            now[0] += 0.01

    asyncio.run(flood())
    assert gate.tracked <= 100
    assert gate.pause_owed("10.0.0.249") > 0  # the latest are kept
    assert gate.pause_owed("10.0.0.0") == 0  # the oldest forgotten

    now[0] += gate_module.FAILURE_MEMORY + 1  # ten quiet minutes: all forgotten
    asyncio.run(fail("192.0.2.1"))
    assert gate.tracked == 1


def test_bad_gate_settings_stop_with_one_line(tmp_path: Path) -> None:
    from tui.config import ConfigError, load

    for text, expected in (
        ('max_startups = "30:30:10"', "ssh.max_startups must be"),
        ('max_startups = "ten"', "ssh.max_startups must be"),
        ("login_seconds = 0", "ssh.login_seconds must be seconds from 1 to 600"),
        ("sessions_per_address = 0", "ssh.sessions_per_address must be"),
        ('downloads = "yes"', "ssh.downloads must be true or false"),
    ):
        config = tmp_path / "config.toml"
        config.write_text(f"[ssh]\n{text}\n")
        with pytest.raises(ConfigError, match=re.escape(expected)) as caught:
            load(config, explicit=True)
        assert str(caught.value).startswith(f"{config}: ") and "\n" not in str(caught.value)
    config.write_text("[hosted]\nmemory_mb = 10\n")
    with pytest.raises(ConfigError, match=re.escape("hosted.memory_mb must be megabytes from 64")):
        load(config, explicit=True)


def test_the_portal_reads_its_download_link_from_its_environment(tmp_path: Path) -> None:
    from tui.hosting.hosted import HostedOptions, HostedSession, hosting_from_environment

    link = "http://127.0.0.1:2223/d/" + "t" * 43 + "/"
    session = HostedSession(HostedOptions(), mode="ssh", download_url=link)
    try:
        hosting = hosting_from_environment(session.environment)
        assert (hosting.mode, hosting.files, hosting.download_url) == ("ssh", session.files, link)
        assert session.environment["HOME"] == str(session.home / "home")
    finally:
        session.close()
    web = HostedSession(HostedOptions(), mode="web")  # no links in a browser: it downloads
    try:
        assert hosting_from_environment(web.environment).download_url is None
    finally:
        web.close()
