"""``relportal ssh-serve`` end to end: a real server process on 127.0.0.1, real clients.

The viewer's side is the ``ssh`` command (OpenSSH) on a pty whose output is drawn on
a pyte screen; protocol requests OpenSSH makes awkward to observe (port forwarding,
SFTP, many connections) go through asyncssh's client. Every wait polls for what a
user would see, with a deadline. The server's guards (caps, the gate, confinement, root)
are in ``test_ssh_serve_guards.py``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import socket
import subprocess
from functools import partial
from pathlib import Path

import asyncssh
import pytest

from tests.support.ssh_serve import (
    SSH_AGENT,
    RecordingViewer,
    SshServe,
    client_key,
    environment_of,
    eventually,
    free_port,
    process_gone,
    raw_get,
    screen_shows,
    search_for,
    ssh_command,
    ssh_connect,
    until_seen,
    viewer,
)
from tests.support.ssh_terminal import ScreenTerminal

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("openssh_client")]


def _ssh(server: SshServe, key: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ssh_command(server, key), *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


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

        search_for(terminal, "Bakery")
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
    eventually(lambda: process_gone(pid), "the portal process to end")
    eventually(lambda: not server.session_homes(), "the session's home to be removed")
    eventually(lambda: "session for 'viewer' ended" in server.log(), "the session's log line")
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

        search_for(first, "Beacon Hollow")
        first.wait_for(lambda text: "All 1 " in text, "one company found")
        _open_first_row(first)
        first.type("d")
        first.wait_for_text("Delete Beacon Hollow Deli Harrogate?")
        first.type("y")
        first.wait_for_text("Deleted Beacon Hollow Deli Harrogate")
        first.wait_for(lambda text: not _rows(text, "Beacon Hollow"), "the row to go")

        search_for(second, "Beacon Hollow")
        screen = second.wait_for(lambda text: _rows(text, "Beacon Hollow"), "the other's row")
        # One row, its long name perhaps cut to the column ("Beacon Hollow Deli Harroga…").
        (row,) = _rows(screen, "Beacon Hollow")
        assert row.startswith("Beacon Hollow Deli Harroga"), row
        assert "Deleted" not in screen

        # The first viewer leaves with ctrl+q: ssh ends normally, the portal with it.
        first.type("\x11")
        assert first.wait_exit() == 0
        eventually(lambda: len(server.session_homes()) == 1, "the first home removed")
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
        f"{free_port()}:127.0.0.1:{server.port}",
        "viewer@127.0.0.1",
    )
    assert "remote port forwarding failed" in done.stderr

    async def by_asyncssh() -> None:
        async with ssh_connect(server, key) as conn:
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


async def _open_portal(server: SshServe, key: Path, address: str = "127.0.0.1") -> tuple:  # type: ignore[type-arg]
    conn = await ssh_connect(server, key, local_addr=(address, 0))
    chan, screen = await conn.create_session(
        RecordingViewer, term_type="xterm-256color", term_size=(100, 30), encoding=None
    )
    await until_seen(partial(screen_shows, screen, "Relationships"), "the portal")
    return conn, chan


def test_a_sessions_files_are_offered_at_its_own_link_until_it_ends(shared) -> None:  # type: ignore[no-untyped-def]
    server, key = shared

    async def downloads() -> None:
        first, chan = await _open_portal(server, key)
        second, chan2 = await _open_portal(server, key, "127.0.0.2")
        pids = server.portal_pids()[-2:]
        link, other_link = (environment_of(pid)["RELPORTAL_DOWNLOAD_URL"] for pid in pids)
        base = f"http://127.0.0.1:{server.downloads_port}/d/"
        assert link.startswith(base) and link.endswith("/") and link != other_link
        token = link[len(base) : -1]
        assert len(token) >= 43  # 32 random bytes
        assert token not in server.log()
        files = Path(environment_of(pids[0])["RELPORTAL_SESSION_FILES"])
        (files / "Beacon report.xlsx").write_bytes(b"PK\x03\x04 a report")
        (files / "passwd").symlink_to("/etc/passwd")
        (files / ".hidden").write_text("not offered")
        path = link[len(f"http://127.0.0.1:{server.downloads_port}") :]

        status, headers, body = await asyncio.to_thread(raw_get, server.downloads_port, path)
        assert status == 200
        assert "Beacon report.xlsx" in body.decode()
        assert "passwd" not in body.decode() and ".hidden" not in body.decode()
        assert headers["Cache-Control"] == "no-store"

        status, headers, body = await asyncio.to_thread(
            raw_get, server.downloads_port, path + "Beacon%20report.xlsx"
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
            status, _, body = await asyncio.to_thread(raw_get, server.downloads_port, refused)
            assert status == 404, refused
            assert b"root:" not in body and b"a report" not in body

        # The session ends: its links with it.
        chan.close()
        first.close()
        await until_seen(lambda: process_gone(pids[0]), "the first portal to end")
        for gone in (path, path + "Beacon%20report.xlsx"):
            status, _, _ = await asyncio.to_thread(raw_get, server.downloads_port, gone)
            assert status == 404
        status, _, _ = await asyncio.to_thread(raw_get, server.downloads_port, other_path)
        assert status == 200  # the other session's link still works
        chan2.close()
        second.close()

    asyncio.run(downloads())


def test_download_links_can_be_turned_off(tmp_path: Path) -> None:
    key, authorized = client_key(tmp_path / "viewer")
    server = SshServe(
        tmp_path, "--authorized-keys", str(authorized), ssh_config="downloads = false"
    )

    async def portal() -> None:
        conn, chan = await _open_portal(server, key)
        assert "RELPORTAL_DOWNLOAD_URL" not in environment_of(server.portal_pids()[-1])
        chan.close()
        conn.close()

    try:
        assert "download links" not in server.log()
        asyncio.run(portal())
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.downloads_port), timeout=2).close()
    finally:
        server.stop()


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
