"""Real `relportal serve` processes on 127.0.0.1, and a free port to put them on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.support.cli import run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_user_token(config: Path, db: Path, email: str) -> subprocess.CompletedProcess[str]:
    """`relportal token create EMAIL --new-user`: a token for a user made for the test."""
    return run("--config", str(config), "token", "create", email, "--new-user", "--db", str(db))


class Server:
    def __init__(self, config: Path, db: Path, log: Path, *options: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log, self.config, self.db, self.options = log, config, db, options
        self.start()

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until it answers."""
        config, db, log = self.config, self.db, self.log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui.cli",
                "--config",
                str(config),
                "serve",
                "--port",
                str(self.port),
                "--db",
                str(db),
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(log, "ab"),  # noqa: SIM115 - closed with the process
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"relportal serve did not start:\n{log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Serve:
    """`relportal serve` in the background, its standard error read line by line."""

    def __init__(self, db: Path, *options: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "tui.cli", "serve", "--port", str(self.port)),
                *("--db", str(db), "--demo-companies", "5", *options),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.listening = threading.Event()
        self.answered_when_said: bool | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if "listening on" in line and not self.listening.is_set():
                # Said only once true: it answers the moment the line is read.
                try:
                    self.answered_when_said = (
                        httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
                    )
                except httpx.TransportError:
                    self.answered_when_said = False
                self.listening.set()

    def wait_listening(self) -> None:
        assert self.listening.wait(60), "".join(self.lines)

    def stop(self, signum: int = signal.SIGTERM) -> float:
        """Send ``signum``; the seconds until it ended."""
        began = time.monotonic()
        self.process.send_signal(signum)
        self.process.wait(timeout=30)
        return time.monotonic() - began

    def log(self) -> str:
        time.sleep(0.2)  # the last lines reach the reader
        return "".join(self.lines)
