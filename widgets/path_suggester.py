"""File path completion for a local user's inputs (template downloads, uploads, transcripts).

Never for a hosted viewer (``relportal ssh-serve``, ``relportal web``): their screens
have no path inputs at all (tui/files.py), and should one be built by mistake, this
completes nothing in a hosted process, so the host's folders are never listed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Completes a file path from what is on disk (the first match, directories with /)."""

    def __init__(self, hosted: Callable[[], bool]) -> None:
        """``hosted`` says, at each keystroke, whether this process hosts a viewer
        (``tui.files.hosted_process``): then nothing is completed."""
        super().__init__(use_cache=False, case_sensitive=True)
        self.hosted = hosted

    async def get_suggestion(self, value: str) -> str | None:
        if not value or self.hosted():
            return None
        typed = Path(os.path.expanduser(value))
        folder, stem = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
        try:
            names = sorted(p.name for p in folder.iterdir() if p.name.startswith(stem))
        except OSError:
            return None
        for name in names:
            if name.startswith(".") and not stem.startswith("."):
                continue
            candidate = folder / name
            suffix = "/" if candidate.is_dir() else ""
            completed = value + name[len(stem) :] + suffix
            return completed if completed != value else None
        return None
