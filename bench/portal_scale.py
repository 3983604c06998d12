"""The portal at scale: time to first rows in a real terminal, filter keystrokes, memory.

    python bench/portal_scale.py --db /tmp/m1.db [--runs 5]

1. Cold start to first company rows: relportal runs in a pseudo-terminal (pty) and
   the clock stops when the first company's name is on the wire; beside it, in the
   same run, a bare Textual hello-world app (the floor).
2. Search keystrokes to updated rows and peak memory: the portal in-process (Pilot),
   typing a search one key at a time on the same database.
Seeds the database with a million companies first if it does not exist.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HELLO = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Hello(App):\n"
    "    def compose(self):\n"
    "        yield Static('Hello from the floor')\n"
    "Hello().run()\n"
)


def _time_to_text(argv: list[str], marker: bytes, timeout: float = 60) -> float:
    """Seconds from starting ``argv`` in a 120x40 pty until ``marker`` is written."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the program, in its terminal
        os.environ["COLUMNS"], os.environ["LINES"] = "120", "40"
        os.execvp(argv[0], argv)
    seen = b""
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                seen += chunk
                if marker in seen:
                    return time.perf_counter() - started
        raise RuntimeError(f"{marker!r} never appeared")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


def _first_name(db: Path) -> str:
    """The first of the demo RM's companies, by name: what the portal shows first."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        user = conn.execute(
            "SELECT id FROM users WHERE role = 'rm' ORDER BY rowid LIMIT 1"
        ).fetchone()[0]
        row = conn.execute(
            "SELECT r.name FROM relationship_users u JOIN relationships r ON r.id ="
            " u.relationship_id WHERE u.user_id = ? ORDER BY u.name_key, u.relationship_id LIMIT 1",
            (user,),
        ).fetchone()
    return str(row[0])


async def _keystrokes(db: Path) -> tuple[list[float], float]:
    from journey.settings import ServiceSettings
    from screens.portal import PortalScreen
    from tui.app import RelportalApp
    from tui.client import embedded_client
    from widgets.relationship_table import RelationshipTable

    # The clock stops when the table draws a line of the new query's rows: the moment
    # they are on screen. (Pilot's press() returns only once the app is idle, ~100 ms
    # later, so its return is not the moment.)
    painted: dict[int, float] = {}
    draw = RelationshipTable.render_line

    def render_line(self: RelationshipTable, y: int) -> Any:
        if self.total and self.generation not in painted:
            painted[self.generation] = time.perf_counter()
        return draw(self, y)

    RelationshipTable.render_line = render_line  # type: ignore[method-assign]
    settings = ServiceSettings(db_path=db, outbox_dir=db.parent / "outbox")
    app = RelportalApp(lambda: embedded_client(settings))
    timings: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, PortalScreen):
            await pilot.pause(0.05)
        table = app.screen.query_one(RelationshipTable)
        while table.total == 0:
            await pilot.pause(0.05)
        for word in ("harbour", "oak lane", "bakery", "maple", "otter"):
            await pilot.press("slash")
            for key in word:
                generation = table.generation
                started = time.perf_counter()
                await pilot.press("space" if key == " " else key)
                while table.generation == generation or table.generation not in painted:
                    if time.perf_counter() - started > 5:
                        break  # the key did not change the query (a trailing space)
                    await asyncio.sleep(0.001)
                else:
                    timings.append((painted[table.generation] - started) * 1000)
                    if os.environ.get("RELPORTAL_BENCH_KEYS"):
                        print(f"  {word[: word.index(key) + 1]!r:12} {timings[-1]:6.1f} ms")
            await pilot.press("escape", "escape")
            await pilot.pause(0.3)
    RelationshipTable.render_line = draw  # type: ignore[method-assign]
    rss = 0.0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) / 1024
    return timings, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not args.db.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tui.cli",
                "seed",
                "--companies",
                "1000000",
                "--db",
                str(args.db),
            ],
            check=True,
        )
    name = _first_name(args.db).encode()
    hello, portal = [], []
    for _ in range(args.runs):
        hello.append(_time_to_text([sys.executable, "-c", HELLO], b"Hello from the floor"))
        portal.append(_time_to_text([sys.executable, "-m", "tui.cli", "--db", str(args.db)], name))
    h, p = statistics.median(hello), statistics.median(portal)
    print(f"hello-world first frame  median {h * 1000:7.0f} ms  ({args.runs} runs)")
    print(f"portal first rows        median {p * 1000:7.0f} ms  ratio {p / h:.2f}x the floor")
    timings, rss = asyncio.run(_keystrokes(args.db))
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"search keystroke to rows p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms"
        f"  ({len(timings)} keys)"
    )
    print(f"peak memory (portal + embedded service, in-process) {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
