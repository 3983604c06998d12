"""File path completion for inputs (template downloads, uploads, transcripts)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Completes a file path from what is on disk (the first match, directories with /)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
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
