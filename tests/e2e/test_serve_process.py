"""`relportal serve` as a real process, and the database it is given (issue 18,
findings 9, 14, 16): a bad database or a busy port is one line before anything
listens, "listening" is said only once it is true, and stopping it while a portal
long-polls ends the poll at once, with no traceback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from journey.seed import DEMO_PORTAL_USER
from tests.support.cli import portal_in_a_terminal, run
from tests.support.serve import Serve, free_port


def one_line(done: subprocess.CompletedProcess[str], expected: str) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("relportal: "), done.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in done.stderr and "listening" not in done.stderr
    return lines[0]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` cannot be written, even by root: immutable (chattr +i) as root, else
    without write permission for its file and folder."""
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a file immutable here: {made.stderr!r}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        path.chmod(0o444)
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(0o755)
            path.chmod(0o644)


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "demo.db"
    assert run("--db", str(db), "seed", "--companies", "5").returncode == 0
    return db


def test_serve_on_a_folder_is_one_line_naming_it_once(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    line = one_line(run("serve", "--db", str(folder), "--port", str(free_port())), "is a folder")
    assert line.count(str(folder)) == 1
    assert "give the path of a file" in line


def test_a_read_only_database_is_one_line_for_serve_token_and_seed(demo_db: Path) -> None:
    with read_only(demo_db):
        for args in (
            ["serve", "--port", str(free_port())],
            ["token", "create", DEMO_PORTAL_USER],
            ["seed", "--companies", "3"],
        ):
            line = one_line(run("--db", str(demo_db), *args), "is read-only")
            assert line.count(str(demo_db)) == 1 and "make the file and its folder writable" in line
        # Reading still works: the tokens can be listed.
        listed = run("--db", str(demo_db), "token", "list")
        assert listed.returncode == 0, listed.stderr


def test_the_portal_on_a_read_only_database_says_so_once_and_closes(demo_db: Path) -> None:
    with read_only(demo_db):
        code, said = portal_in_a_terminal("--db", str(demo_db))
    assert code == 2
    assert f"relportal: {demo_db} is read-only" in said, said
    assert said.count("relportal: ") == 1 and "Traceback" not in said
    assert "retrying" not in said


async def test_the_embedded_portal_refuses_a_read_only_database_instead_of_retrying(
    demo_db: Path,
) -> None:
    """Without the opening's early check (a portal started by a host), the service's
    own start refuses it: the app closes with the one line, no retry banner."""
    from journey.settings import ServiceSettings
    from tui.app import RelportalApp
    from tui.client import embedded_client

    settings = ServiceSettings(db_path=demo_db, outbox_dir=demo_db.parent / "outbox")
    with read_only(demo_db):
        app = RelportalApp(lambda: embedded_client(settings))
        async with app.run_test(size=(100, 30)) as pilot:
            deadline = time.monotonic() + 15
            while app.refusal is None and time.monotonic() < deadline:
                await pilot.pause(0.05)
    assert app.refusal is not None and app.refusal.startswith(f"{demo_db} is read-only")
    assert app.return_code == 2


@pytest.mark.parametrize(
    "command",
    [["serve", "--db", "{tmp}/s.db"], ["ssh-serve", "--demo-password"], ["web"]],
    ids=["serve", "ssh-serve", "web"],
)
def test_a_busy_port_is_one_line_and_nothing_claims_to_listen(
    tmp_path: Path, command: list[str]
) -> None:
    as_root = ["--allow-root"] if command[0] != "serve" and os.geteuid() == 0 else []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [part.format(tmp=tmp_path) for part in command]
        done = run(*args, "--port", str(port), *as_root)
    assert one_line(done, "is in use") == (
        f"relportal: port {port} on 127.0.0.1 is in use: stop what listens there, "
        "or give --port another port"
    )
    assert "password" not in done.stdout


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_serve_during_a_long_poll_ends_it_at_once_without_a_traceback(
    tmp_path: Path, workers: str, signum: int
) -> None:
    server = Serve(tmp_path / "s.db", "--workers", workers)
    try:
        server.wait_listening()
        assert server.answered_when_said is True
        said = [line for line in server.lines if "listening on" in line]
        assert said == [
            f"relportal: journey service listening on {server.url} "
            f"({'2 processes, ' if workers == '2' else ''}database {tmp_path / 's.db'})\n"
        ]
        made = run("--db", str(tmp_path / "s.db"), "token", "create", DEMO_PORTAL_USER)
        assert made.returncode == 0, made.stderr
        head = httpx.get(
            f"{server.url}/v1/events/head",
            headers={"Authorization": f"Bearer {made.stdout.strip()}"},
        ).json()["last_seq"]
        answers: list[httpx.Response | Exception] = []

        def long_poll() -> None:
            try:
                answers.append(
                    httpx.get(
                        f"{server.url}/v1/events",
                        params={"after": head, "wait": 50},
                        headers={"Authorization": f"Bearer {made.stdout.strip()}"},
                        timeout=60,
                    )
                )
            except Exception as exc:  # kept to assert on
                answers.append(exc)

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(1.0)  # the poll is waiting in the service
        assert not answers
        seconds = server.stop(signum)
        poller.join(timeout=10)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    log = server.log()
    assert seconds < 1.9, f"stopping took {seconds:.1f} s (uvicorn's grace is 2 s)"
    assert len(answers) == 1 and isinstance(answers[0], httpx.Response), answers
    assert answers[0].status_code == 200 and answers[0].json()["events"] == []
    assert "Traceback" not in log and "Cancel" not in log and "ERROR" not in log, log


def test_a_database_on_a_read_only_mount_says_read_only(tmp_path: Path) -> None:
    """SQLite cannot even open a WAL database there (its -shm file cannot be made):
    still "read-only", and for a new file, that its folder is."""
    mount = tmp_path / "mount"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a file system here: {made.stderr!r}")
    try:
        assert run("--db", str(mount / "x.db"), "seed", "--companies", "3").returncode == 0
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        line = one_line(run("--db", str(mount / "x.db"), "serve"), "is read-only")
        assert line.startswith(f"relportal: {mount / 'x.db'} is read-only")
        one_line(
            run("--db", str(mount / "new.db"), "serve"),
            f"cannot create the database, its folder {mount} is read-only",
        )
    finally:
        subprocess.run(["umount", str(mount)], check=True)
