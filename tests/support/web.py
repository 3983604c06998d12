"""A real `relportal web` process on 127.0.0.1, and what tests read of it: its sessions'
homes, the files in them, and the terminal xterm.js draws in a browser."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# The tests run as root in CI: the server then needs --allow-root (test_ssh_serve_guards.py
# tests the refusal itself).
AS_ROOT = ("--allow-root",) if os.geteuid() == 0 else ()


@dataclass
class WebServer:
    url: str
    password: str | None
    sessions: Path
    process: subprocess.Popen[str]

    def homes(self) -> list[Path]:
        """The portal sessions' private homes that exist right now."""
        return sorted(self.sessions.glob("relportal-session-*"))

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)


def until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    """Wait for ``check()`` to be truthy (and return it), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)
    return result


def start_web(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, config: Path | None = None
) -> WebServer:
    sessions = tmp_path / "sessions"
    sessions.mkdir(exist_ok=True)
    home = tmp_path / "home"
    environment = {
        **{k: v for k, v in os.environ.items() if k != "RELPORTAL_WEB_PASSWORD"},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "TMPDIR": str(sessions),
        "RELPORTAL_TEST_HOST_SECRET": "the host's, not the viewers'",
        **(env or {}),
    }
    with open(tmp_path / "web.log", "w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "tui.cli"),
                *(("--config", str(config)) if config else ()),
                *("web", "--port", "0", *AS_ROOT, *args),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=environment,
        )
    generated = "--password-file" not in args and "RELPORTAL_WEB_PASSWORD" not in environment
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:  # drained to the end so the server never blocks on it
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    url = password = None
    deadline = time.monotonic() + 60
    while url is None or (password is None and generated):
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise AssertionError(
                "relportal web did not start: " + (tmp_path / "web.log").read_text()
            ) from None
        if found := re.search(r"on (http://127\.0\.0\.1:\d+)", line):
            url = found.group(1)
        if found := re.search(r"password for this run.*: (\S+)$", line):
            password = found.group(1)
    return WebServer(url, password, sessions, process)


def stop_web(server: WebServer) -> None:
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise


# xterm.js draws the terminal on a canvas, so the screen's text is read from the
# terminal's own buffer: what it displays, line by line. textual.js keeps its Terminal
# private; a setter for the `_core` property every xterm Terminal assigns in its
# constructor catches each one as it is made.
CATCH_TERMINALS = """
window.__terminals = [];
Object.defineProperty(Object.prototype, "_core", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "_core", {value, writable: true, configurable: true});
    if (typeof this.loadAddon === "function") window.__terminals.push(this);
  },
});
"""


SCREEN = """() => {
  const terminal = window.__terminals[0];
  if (!terminal) return "";
  const lines = [];
  for (let y = 0; y < terminal.rows; y++) {
    lines.push(terminal.buffer.active.getLine(y).translateToString(true));
  }
  return lines.join("\\n");
}"""


def every_file(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}
