"""The portal at a million companies, beside table widgets loaded with the same rows.

In a real pseudo-terminal, for relportal (embedded service, everyone's companies by
name) and its peers — Textual's stock ``DataTable`` and textual-fastdatatable, each
given every company in the same order: cold start to the first rows, jump to the
last row (the end key), scroll a page, peak memory. A bare hello-world app is the
floor for the start. Filter keystrokes are measured in-process with Pilot (the peers
have no filter): the clock stops when the table draws a line of the new query's rows.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CTRL_END,
    END,
    PAGE_DOWN,
    ROOT,
    Section,
    Terminal,
    median,
    ms,
    peer_python,
    percentile,
    relportal_env,
)
from bench.start import HELLO, first_company, relportal_argv

SEARCHES = ("harbour", "oak lane", "bakery", "maple", "otter")
KEY_PASSES = 3  # the searches typed this many times, each in a new portal


def last_company(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT name FROM relationships ORDER BY name_key DESC, id DESC LIMIT 1"
        ).fetchone()
    return str(row[0])


def everyone(home: Path) -> dict[str, str]:
    """relportal's environment, opening on everyone's companies (as the peers show)."""
    env = relportal_env(home)
    folder = Path(env["XDG_CONFIG_HOME"]) / "relportal"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "preferences.toml").write_text('users = "all"\nsort = "name"\n')
    return env


def session(
    argv: list[str], db: Path, end_key: str, env: dict[str, str] | None = None
) -> dict[str, float]:
    """One program's start, jump to the end, a page scroll, and its peak memory."""
    first, last = first_company(db, everyone=True), last_company(db)
    with Terminal(argv, env=env) as terminal:
        figures = {"first": terminal.wait_for(first, timeout=600)}
        # The page scroll of a portal in use: relportal paints its first rows before
        # its embedded service has loaded (tui/opening.py), and a page asked for in
        # that second waits for it. Nothing drawn for 1.5 s: it has loaded.
        terminal.settle(quiet=1.5, timeout=30)
        figures["page"] = terminal.press_and_settle(PAGE_DOWN)
        figures["jump"] = terminal.press(end_key, until=last, timeout=60)
        figures["memory"] = terminal.peak_memory_mb()
    return figures


async def keystrokes(db: Path) -> list[float]:
    """Milliseconds from each search keystroke to the table drawing the new rows."""
    from journey.settings import ServiceSettings
    from screens.portal import PortalScreen
    from tui.app import RelportalApp
    from tui.client import embedded_client
    from widgets.relationship_table import RelationshipTable

    painted: dict[int, float] = {}
    draw = RelationshipTable.render_line

    def render_line(self: RelationshipTable, y: int) -> Any:
        if self.total and self.generation not in painted:
            painted[self.generation] = time.perf_counter()
        return draw(self, y)

    RelationshipTable.render_line = render_line  # type: ignore[method-assign]
    settings = ServiceSettings(db_path=db, outbox_dir=db.parent / "outbox")
    app = RelportalApp(lambda: embedded_client(settings, freeze_heap=True))  # as `relportal`
    timings: list[float] = []
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            while not isinstance(app.screen, PortalScreen):
                await pilot.pause(0.05)
            table = app.screen.query_one(RelationshipTable)
            # Typing starts once the portal is ready, as a person would start: rows
            # shown, the embedded service (which loads behind them) connected, and
            # its start settled.
            while table.total == 0 or getattr(app.client, "http", None) is None:
                await pilot.pause(0.05)
            await pilot.pause(2.0)
            for word in SEARCHES:
                await pilot.press("slash")
                for typed, key in enumerate(word, 1):
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
                            print(f"  {word[:typed]!r:12} {timings[-1]:6.1f} ms", file=sys.stderr)
                await pilot.press("escape", "escape")
                await pilot.pause(0.3)
    finally:
        RelationshipTable.render_line = draw  # type: ignore[method-assign]
    return timings


def run(db: Path, home: Path, runs: int) -> Section:
    section = Section(
        "The portal at a million companies, beside table widgets", "python -m bench --only scale"
    )
    peer = ROOT / "bench" / "peers" / "table_app.py"
    fast_python = peer_python("fastdatatable", ["textual-fastdatatable"])
    env = everyone(home)
    floors: list[float] = []
    ours: list[dict[str, float]] = []
    for _ in range(runs):
        with Terminal([sys.executable, "-c", HELLO]) as terminal:
            floors.append(terminal.wait_for("Hello from the floor"))
        ours.append(session(relportal_argv(db), db, END, env))
    fast = session([str(fast_python), str(peer), "fast", str(db)], db, CTRL_END)
    # The stock DataTable takes minutes to load a million rows: one run.
    stock = session([sys.executable, str(peer), "stock", str(db)], db, CTRL_END)

    def figure(key: str) -> str:
        values = [run[key] for run in ours]
        return f"{ms(median(values))} / {ms(percentile(values, 0.95))}"

    floor = median(floors)
    first = median([run["first"] for run in ours])
    jump = [run["jump"] for run in ours]
    memory = max(run["memory"] for run in ours)
    section.add("bare Textual hello-world, first frame (median)", ms(floor), "the floor")
    section.add(
        "relportal, first rows (median / p95)",
        figure("first"),
        f"median ≤ 2× floor: {first / floor:.2f}×",
        first / floor <= 2,
    )
    section.add(
        "relportal, jump to the last row (median / p95)",
        figure("jump"),
        "median ≤ 100 ms",
        median(jump) <= 0.1,
    )
    section.add("relportal, scroll a page (median / p95)", figure("page"))
    section.add("relportal, peak memory", f"{memory:,.0f} MB", "≤ 150 MB", memory <= 150)
    timings = [t for _ in range(KEY_PASSES) for t in asyncio.run(keystrokes(db))]
    p95 = percentile(timings, 0.95)
    section.add(
        f"relportal, search keystroke to rows p50 / p95 ({len(timings)} keys)",
        f"{median(timings):.0f} ms / {p95:.0f} ms",
        "p95 ≤ 100 ms",
        p95 <= 100,
    )
    for label, peer_figures in (("textual-fastdatatable", fast), ("Textual DataTable", stock)):
        section.add(
            f"{label}, first rows / jump / page",
            f"{ms(peer_figures['first'])} / {ms(peer_figures['jump'])} / "
            f"{ms(peer_figures['page'])}",
        )
        section.add(f"{label}, peak memory", f"{peer_figures['memory']:,.0f} MB")
    section.add("relportal first rows ÷ textual-fastdatatable", f"{first / fast['first']:.2f}×")
    section.add("relportal first rows ÷ Textual DataTable", f"{first / stock['first']:.3f}×")
    section.notes.append(
        f"{runs} runs of relportal and the floor, in turns; one of each peer. 120×40 "
        "terminal; a page scroll is timed to the last frame drawn in answer. Targets "
        f"that name no percentile are judged on the median (with {runs} runs the p95 is "
        "the slowest run). "
        f"{len(SEARCHES)} searches typed a key at a time, {KEY_PASSES} times over: "
        f"{', '.join(SEARCHES)}."
    )
    return section
