"""The relportal command line as a process: a command's answer, or the portal on a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`relportal ARGS` to its end: exit code, standard output and error."""
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def portal_in_a_terminal(*args: str) -> tuple[int, str]:
    """Run the portal (`relportal ARGS`) on a terminal until it ends: its exit code and
    everything it wrote."""
    from tests.support.ssh_terminal import ScreenTerminal

    relportal = str(Path(sys.executable).parent / "relportal")
    terminal = ScreenTerminal([relportal, *args], dict(os.environ))
    try:
        code = terminal.wait_exit()
        time.sleep(0.2)  # the last bytes reach the reader
        return code, terminal.output().decode(errors="replace")
    finally:
        terminal.close()
