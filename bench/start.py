"""Cold start to the first useful frame, at 10,000 companies.

From process start to the first frame with a company name on it, in a real pseudo-
terminal whose output a terminal emulator parses. Beside it, in the same run and
taken in turns so drift on a shared machine touches all alike: a bare Textual
hello-world app (the floor every Textual app pays) and harlequin, a popular Textual
app, to its first frame.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from bench.common import Section, Terminal, median, ms, peer_python, percentile, relportal_env

HELLO = """\
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello from the floor")

Hello().run()
"""


def first_company(db: Path, *, everyone: bool = False) -> str:
    """The first company the portal lists (by name) for the demo RM, or for everyone."""
    with sqlite3.connect(db) as conn:
        if everyone:
            row = conn.execute(
                "SELECT name FROM relationships ORDER BY name_key, id LIMIT 1"
            ).fetchone()
            return str(row[0])
        user = conn.execute(
            "SELECT id FROM users WHERE role = 'rm' ORDER BY rowid LIMIT 1"
        ).fetchone()[0]
        row = conn.execute(
            "SELECT r.name FROM relationship_users u JOIN relationships r ON r.id ="
            " u.relationship_id WHERE u.user_id = ? ORDER BY u.name_key, u.relationship_id"
            " LIMIT 1",
            (user,),
        ).fetchone()
    return str(row[0])


def relportal_argv(db: Path) -> list[str]:
    """The installed ``relportal`` command on the embedded service, as a user runs it."""
    return [str(Path(sys.executable).parent / "relportal"), "--db", str(db)]


def time_to(argv: list[str], marker: str, env: dict[str, str] | None = None) -> float:
    with Terminal(argv, env=env) as terminal:
        return terminal.wait_for(marker, timeout=120)


def run(db: Path, home: Path, runs: int) -> Section:
    section = Section(
        "Cold start to the first useful frame (10,000 companies)",
        "python -m bench --only start",
    )
    harlequin = peer_python("harlequin", ["harlequin"])
    harlequin_argv = [str(harlequin.parent / "harlequin")]
    env = relportal_env(home)
    name = first_company(db)
    times: dict[str, list[float]] = {"hello": [], "relportal": [], "harlequin": []}
    for _ in range(runs):
        times["hello"].append(time_to([sys.executable, "-c", HELLO], "Hello from the floor"))
        times["relportal"].append(time_to(relportal_argv(db), name, env))
        # harlequin's first useful frame: its catalog showing the in-memory DuckDB.
        times["harlequin"].append(time_to(harlequin_argv, "memory db", env))
    floor = median(times["hello"])
    ours = median(times["relportal"])
    peer = median(times["harlequin"])
    section.add(
        "bare Textual hello-world, first frame (median / p95)",
        f"{ms(floor)} / {ms(percentile(times['hello'], 0.95))}",
        "the floor",
    )
    section.add(
        "relportal, first company rows (median / p95)",
        f"{ms(ours)} / {ms(percentile(times['relportal'], 0.95))}",
    )
    section.add(
        "harlequin, first frame (median / p95)",
        f"{ms(peer)} / {ms(percentile(times['harlequin'], 0.95))}",
    )
    section.add(
        "relportal ÷ hello-world", f"{ours / floor:.2f}×", "at most 1.5×", ours / floor <= 1.5
    )
    section.add("relportal ÷ harlequin", f"{ours / peer:.2f}×", "under 1×", ours < peer)
    section.notes.append(f"{runs} runs of each, taken in turns; 120×40 terminal.")
    return section
