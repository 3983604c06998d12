"""Real `relportal ssh-serve` processes, and what tests read of the sessions they start:
the demo password, a portal's process and environment, a raw GET of a download link,
a screen drawn from an asyncssh session."""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncssh
import pyte

from tests.support.serve import free_port
from tests.support.ssh_terminal import ScreenTerminal

# The tests run as root in CI: the server then needs --allow-root (test_ssh_serve_guards.py tests
# the refusal itself).
AS_ROOT = ["--allow-root"] if os.geteuid() == 0 else []


def eventually(check, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
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
        self.port = free_port()
        self.downloads_port = free_port()
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
        eventually(
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


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def demo_password(server: SshServe) -> str:
    pattern = r"demo password \(any user name\): (\S+)"
    eventually(lambda: re.search(pattern, server.stdout()) is not None, "the password")
    return re.findall(pattern, server.stdout())[0]


class RecordingViewer(asyncssh.SSHClientSession[bytes]):
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


def portal_pid(server: SshServe, count: int) -> int:
    eventually(lambda: len(server.portal_pids()) >= count, f"portal number {count}")
    return server.portal_pids()[count - 1]


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def raw_get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """A GET with the path sent as given (no client tidies up ``..`` or ``%2f``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


async def until_seen(check, what: str, timeout: float = 30.0, screen=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            shown = f"; the screen:\n{screen.text()}" if screen else ""
            raise AssertionError(f"timed out waiting for {what}{shown}")
        await asyncio.sleep(0.05)


def screen_shows(screen: RecordingViewer, text: str) -> bool:
    return text in screen.text()


SSH = shutil.which("ssh")


SSH_AGENT = shutil.which("ssh-agent")


def client_key(folder: Path) -> tuple[Path, Path]:
    """A viewer's key pair, and an authorized_keys file that lets it in."""
    folder.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    private = folder / "viewer_key"
    private.write_bytes(key.export_private_key())
    private.chmod(0o600)
    authorized = folder / "authorized_keys"
    authorized.write_bytes(key.export_public_key())
    return private, authorized


def ssh_command(server: SshServe, key: Path | None) -> list[str]:
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
    argv = [*ssh_command(server, key), "-tt", *extra, "viewer@127.0.0.1"]
    env = {"PATH": os.environ.get("PATH", ""), "TERM": term, "HOME": str(key.parent)}
    env.update(extra_env or {})
    return ScreenTerminal(argv, env, columns=columns, rows=rows)


def ssh_connect(server: SshServe, key: Path, **options: Any) -> asyncssh.SSHClientConnection:
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


def search_for(terminal: ScreenTerminal, words: str) -> None:
    terminal.type("/")
    terminal.wait_for(lambda text: "▔▔▔" in text, "the search box")
    terminal.type(words)
    terminal.wait_for_text(f"“{words}”")
