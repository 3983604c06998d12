"""The layers hold: journey/ (the service) imports without Textual or any part of the
TUI, and every contract in pyproject.toml's [tool.importlinter] is kept."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import journey
import journey.core

FORBIDDEN = ("textual", "tui", "screens", "widgets")


def test_every_journey_module_imports_without_the_tui() -> None:
    modules = sorted(m.name for m in pkgutil.walk_packages(journey.__path__, prefix="journey."))
    assert "journey.core.machine" in modules and "journey.api.app" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    leaked = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert leaked == []


def test_the_core_is_pure() -> None:
    """The core (the state machine, the status rules, the words, ...) loads no IO,
    framework or other part of the service, however deep the import."""
    core = sorted(
        m.name for m in pkgutil.walk_packages(journey.core.__path__, prefix="journey.core.")
    )
    assert "journey.core.machine" in core and "journey.core.status" in core
    code = (
        "import importlib, json, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    for heavy in ("sqlite3", "fastapi", "httpx", "starlette", "jinja2", "pydantic", "asyncio"):
        assert heavy not in loaded, heavy
    service = [m for m in loaded if m.startswith("journey.") and not m.startswith("journey.core")]
    assert service == []


def test_the_import_contracts_are_kept() -> None:
    """`lint-imports` checks the declared layers (docs/architecture.md), imports inside
    functions included, so no circle hides behind a late import."""
    root = Path(__file__).resolve().parents[2]
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
