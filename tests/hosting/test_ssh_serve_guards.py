"""``relportal ssh-serve``'s guards, against a real server process on 127.0.0.1: sessions and
connections capped per address, password guessing slowed, a stalled or idle client holding
up no one, portals confined, root refused, bad flags and settings stopped with one line.

What a viewer sees and does over ``ssh`` is in ``test_ssh_serve.py``.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import stat
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import asyncssh
import pytest

from tests.support.ssh_serve import (
    RecordingViewer,
    SshServe,
    client_key,
    demo_password,
    environment_of,
    eventually,
    portal_pid,
    process_gone,
    screen_shows,
    search_for,
    ssh_command,
    ssh_connect,
    until_seen,
    viewer,
)
from tests.support.ssh_terminal import ScreenTerminal

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("openssh_client")]


def test_sessions_and_connections_per_address_are_capped_and_idle_sessions_end(
    tmp_path: Path,
) -> None:
    key, authorized = client_key(tmp_path / "viewer")
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
        eventually(lambda: "disconnected as 'viewer'" in server.log(), "the refused one to go")

        async def connections() -> None:
            # The first viewer holds one connection from 127.0.0.1; one more is allowed.
            async with ssh_connect(server, key):
                with pytest.raises(asyncssh.DisconnectError, match="too many connections"):
                    async with ssh_connect(server, key):
                        pass
                # Another address is counted on its own.
                async with ssh_connect(server, key, local_addr=("127.0.0.2", 0)):
                    pass

        asyncio.run(connections())

        # No key from the first viewer for idle_seconds: its session ends, and says so.
        first.type("j")
        typed = time.monotonic()
        first.wait_for_text("relportal: closed after 10 seconds without a key pressed.", 30)
        assert time.monotonic() - typed >= 9.5  # counted from the last key
        assert first.wait_exit() == 0
        eventually(lambda: not server.session_homes(), "the idle session's home removed")
        assert all(process_gone(pid) for pid in server.portal_pids())
    finally:
        first.close()
        server.stop()


def test_password_login_is_slowed_after_failures_and_the_host_key_is_kept(
    tmp_path: Path,
) -> None:
    server = SshServe(tmp_path, "--demo-password")
    try:
        password = demo_password(server)
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
            *ssh_command(server, None),
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
        assert demo_password(server) != password
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


async def test_a_stalled_link_holds_up_no_one_and_catches_up(shared) -> None:  # type: ignore[no-untyped-def]
    server, key = shared
    async with ssh_connect(server, key, username="slow") as conn:
        # A small window: the server may send 16 KiB before it must wait for this viewer.
        chan, slow = await conn.create_session(
            RecordingViewer,
            term_type="xterm-256color",
            term_size=(100, 30),
            encoding=None,
            window=16 * 1024,
        )
        await until_seen(lambda: "Ashford Leigh Nursery Hitchin" in slow.text(), "the portal")
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
            await asyncio.to_thread(search_for, other, "Brewing")
        finally:
            other.close()
        assert slow.received == stalled_at

        chan.resume_reading()  # the link recovers: the stalled viewer catches up
        await until_seen(
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


async def _time_to_portal(server: SshServe, key: Path, address: str, limit: float) -> float:
    """Seconds until a viewer from ``address`` has the portal on screen, trying again
    as a person would when the server drops them."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        try:
            async with ssh_connect(server, key, local_addr=(address, 0)) as conn:
                chan, screen = await conn.create_session(
                    RecordingViewer, term_type="xterm-256color", term_size=(100, 30), encoding=None
                )
                await until_seen(partial(screen_shows, screen, "Relationships"), "the portal", 60)
                chan.close()
                return time.monotonic() - started
        except (OSError, asyncssh.Error):
            await asyncio.sleep(0.5)
    raise AssertionError(f"no portal for {address} in {limit} s")


def test_an_idle_flood_before_sign_in_does_not_lock_viewers_out(tmp_path: Path) -> None:
    key, authorized = client_key(tmp_path / "viewer")
    server = SshServe(tmp_path, "--authorized-keys", str(authorized))  # the [ssh] defaults
    flood: list[socket.socket] = []
    try:
        # 32 idle connections from one address: it may hold 3 waiting to sign in; the
        # rest are dropped at once, and another address's viewer gets in straight away.
        flood = _idle_connections(server.port, ["127.0.0.3"] * 32)
        eventually(lambda: sum(map(_closed_by_server, flood)) >= 29, "the early drops", 10)
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
        eventually(lambda: all(map(_closed_by_server, flood)), "the flood to be closed", 30)
        closed = time.monotonic() - flooded
        assert closed < 20, closed
        print(f"flood: in after {promptly:.1f} s, then {waited:.1f} s; closed in {closed:.1f} s")
        assert "dropped (too many connections waiting to sign in; " in server.log()
        assert "(not signed in within the login grace)" in server.log()
    finally:
        for sock in flood:
            sock.close()
        server.stop()


def _limits(pid: int) -> dict[str, tuple[str, str]]:
    """/proc/PID/limits: each limit's (soft, hard)."""
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): tuple(row[26:].split()[:2]) for row in rows}  # type: ignore[misc]


def test_one_session_per_connection_sessions_per_address_and_confined_portals(
    tmp_path: Path,
) -> None:
    key, authorized = client_key(tmp_path / "viewer")
    server = SshServe(
        tmp_path,
        "--authorized-keys",
        str(authorized),
        ssh_config="sessions_per_address = 1\n[hosted]\nmemory_mb = 1024\ncpu_seconds = 300",
    )

    async def sessions() -> None:
        async with ssh_connect(server, key) as first:
            chan, screen = await first.create_session(
                RecordingViewer, term_type="xterm-256color", term_size=(100, 30), encoding=None
            )
            await until_seen(lambda: "Ashford Leigh Nursery Hitchin" in screen.text(), "the portal")
            # A second session on the same connection: refused, no second portal.
            with pytest.raises(asyncssh.ChannelOpenError):
                await first.create_session(
                    RecordingViewer, term_type="xterm", term_size=(80, 24), encoding=None
                )
            assert "refused a second session on one connection" in server.log()

            # Another connection from the same address: its one session is refused.
            async with ssh_connect(server, key) as second:
                chan2, refused = await second.create_session(
                    RecordingViewer, term_type="xterm", term_size=(100, 30), encoding=None
                )
                await chan2.wait_closed()
                assert chan2.get_exit_status() == 1
                assert "127.0.0.1 already has 1 sessions open; end one first." in refused.text()
            # Another address is counted on its own.
            async with ssh_connect(server, key, local_addr=("127.0.0.2", 0)) as third:
                chan3, other = await third.create_session(
                    RecordingViewer, term_type="xterm", term_size=(100, 30), encoding=None
                )
                await until_seen(lambda: "Relationships" in other.text(), "the other's portal")
                chan3.close()

            # The first portal runs confined: its limits, an empty HOME, its home as cwd.
            pid = portal_pid(server, 1)
            limits = _limits(pid)
            assert limits["Max address space"] == (str(1024 * 2**20),) * 2
            assert limits["Max cpu time"] == ("300", "300")
            assert limits["Max open files"] == ("256", "256")
            assert limits["Max file size"] == (str(1024 * 2**20),) * 2
            assert limits["Max core file size"] == ("0", "0")
            home = Path(os.readlink(f"/proc/{pid}/cwd"))
            assert home in server.session_homes()
            environment = environment_of(pid)
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
        eventually(lambda: not server.session_homes(), "the sessions to end")
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
