"""What every benchmark shares: a terminal to watch programs in, statistics, the
machine's description, peers in virtual environments of their own, and the shape of
a result.
"""

from __future__ import annotations

import fcntl
import os
import platform
import pty
import queue
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import venv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "out"  # databases, peer environments, logs (git-ignored)

# Keys as a terminal sends them (xterm).
END = "\x1b[F"
CTRL_END = "\x1b[1;5F"
PAGE_DOWN = "\x1b[6~"


class NeverShown(RuntimeError):
    """The program never showed what we waited for."""


class Terminal:
    """A program on a real pseudo-terminal, its output parsed by a terminal emulator
    (pyte), so a benchmark stops its clock on what a person would see, not on bytes
    that merely passed by.

    A thread drains the terminal as fast as the program writes, as a real terminal
    does, and notes when each piece arrived; pyte parses behind it. A clock stops at
    the arrival of the bytes that completed what was awaited, not when pyte got to
    them: pyte parses a megabyte a second or so, where a terminal on a desk parses a
    hundred, and a program that draws a full screen would otherwise be charged for
    the emulator's slowness (and, with the terminal's small buffer full, blocked in
    its own writes meanwhile).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        size: tuple[int, int] = (120, 40),
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.columns, self.lines = size
        self.screen = pyte.Screen(self.columns, self.lines)
        self.stream = pyte.ByteStream(self.screen)
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the program, in its terminal
            os.environ.update(env or {})
            os.environ.update(COLUMNS=str(self.columns), LINES=str(self.lines))
            os.environ.setdefault("TERM", "xterm-256color")
            if cwd:
                os.chdir(cwd)
            os.execvp(argv[0], list(argv))
        fcntl.ioctl(
            self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", self.lines, self.columns, 0, 0)
        )
        self.exited = False
        # When the bytes pyte parsed last arrived from the program.
        self.arrived = self.started
        self._arrivals: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._drain, name="terminal", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                chunk = b""
            self._arrivals.put((time.perf_counter(), chunk))
            if not chunk:
                return

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def _pump(self, timeout: float) -> bool:
        """Parse the next piece the program wrote, waiting up to ``timeout`` for one;
        False once it has exited."""
        if self.exited:
            return False
        try:
            arrived, chunk = self._arrivals.get(timeout=timeout)
        except queue.Empty:
            return True
        if not chunk:
            self.exited = True
            return False
        self.stream.feed(chunk)
        self.arrived = arrived
        return True

    def _pending(self) -> bool:
        return not self._arrivals.empty()

    def wait_for(
        self, seen: Callable[[str], bool] | str, timeout: float = 60, since: float | None = None
    ) -> float:
        """Seconds from ``since`` (default: the program's start) until the screen
        satisfies ``seen`` (a predicate, or text that must be on it): until the bytes
        that made it so arrived."""
        check = (lambda text: seen in text) if isinstance(seen, str) else seen
        since = self.started if since is None else since
        deadline = time.perf_counter() + timeout
        while not check(self.text()):
            if time.perf_counter() > deadline or not self._pump(0.02):
                raise NeverShown(f"not on screen after {timeout:.0f} s:\n{self.text()}")
        return max(0.0, self.arrived - since)

    def settle(self, quiet: float = 0.3, timeout: float = 10) -> None:
        """Parse until the program has written nothing for ``quiet`` seconds."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self._pending():
                self._pump(0)
            elif time.perf_counter() - self.arrived >= quiet or not self._pump(0.01):
                return

    def press(self, keys: str, *, until: Callable[[str], bool] | str, timeout: float = 30) -> float:
        """Seconds from sending ``keys`` until the screen shows ``until``."""
        self.settle(0.2)
        sent = time.perf_counter()
        os.write(self.fd, keys.encode())
        return self.wait_for(until, timeout, since=sent)

    def press_and_settle(self, keys: str, quiet: float = 0.3, timeout: float = 30) -> float:
        """Seconds from sending ``keys`` until the last thing the program drew in answer
        (nothing more for ``quiet`` seconds after it): the moment the screen is
        complete, however many frames it took (placeholder rows first, real ones after)."""
        self.settle(0.2)
        sent = time.perf_counter()
        os.write(self.fd, keys.encode())
        deadline = sent + timeout
        while time.perf_counter() < deadline:
            drawn = self.arrived > sent and not self._pending()
            if drawn and time.perf_counter() - self.arrived >= quiet:
                return self.arrived - sent
            if not self._pump(0.01):
                break
        raise NeverShown(f"nothing drawn within {timeout:.0f} s of {keys!r}")

    def peak_memory_mb(self) -> float:
        """The program's peak resident memory so far (VmHWM)."""
        return peak_memory_mb(self.pid)

    def close(self) -> None:
        if not self.exited:
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def peak_memory_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95 for p95)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def machine() -> str:
    cpu = "unknown processor"
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, load {load:.2f} at start"
    )


def peer_python(name: str, requirements: Sequence[str]) -> Path:
    """A Python with ``requirements`` installed, in a virtual environment of the peer's
    own (so a peer's pins never touch relportal's environment); made on first use."""
    home = WORK / "peers" / name
    python = home / "bin" / "python"
    marker = home / "requirements.txt"
    wanted = "\n".join(requirements)
    if not (python.exists() and marker.exists() and marker.read_text() == wanted):
        print(f"  installing {name}: {' '.join(requirements)}", file=sys.stderr)
        venv.create(home, with_pip=True, clear=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *requirements,
            ],
            check=True,
        )
        marker.write_text(wanted)
    return python


def relportal_env(home: Path) -> dict[str, str]:
    """An environment whose config, preferences and data live in ``home``: a benchmark
    never reads the user's own settings, nor saves into them."""
    home = home.resolve()  # the XDG specification ignores relative paths
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "TZ": "UTC",
    }


@dataclass
class Row:
    """One line of a results table."""

    measure: str
    figure: str
    target: str = ""
    met: bool | None = None  # None: no target for this line


@dataclass
class Section:
    """One benchmark's results: what was measured, how, and whether targets were met."""

    title: str
    command: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measure: str, figure: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(measure, figure, target, met))
        verdict = "" if met is None else ("  [met]" if met else "  [MISSED]")
        print(f"  {measure:<58} {figure:>24}{verdict}", file=sys.stderr)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def relportal_command(checkout: Path | None = None) -> Path:
    """The ``relportal`` command of this checkout, or of another one with a ``.venv`` of
    its own (an older commit's worktree, to measure before and after a change)."""
    if checkout is None:
        return Path(sys.executable).parent / "relportal"
    return checkout / ".venv" / "bin" / "relportal"
