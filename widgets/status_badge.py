"""How a portal status looks: a glyph, a colour and the word (never colour alone)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

STATUS_STYLES: dict[str, tuple[str, str]] = {
    "Requested": ("✉", "bold #5b8def"),
    "In progress": ("◔", "bold #2bb3c0"),
    "Uploaded": ("⇪", "bold #3fb07a"),
    "Available": ("✔", "bold #3fb07a"),
    "Warning": ("!", "bold #e0a526"),
    "Error": ("✖", "bold #e5534b"),
    "Deauthorized": ("⊘", "bold #e5534b"),
    "Expired": ("○", "bold #8b949e"),
}


def status_text(status: str | None) -> Text:
    """The badge for a status; ``None`` (never asked) shows a dash."""
    if not status:
        return Text("—", style="dim")
    glyph, style = STATUS_STYLES.get(status, ("•", "bold"))
    return Text(f"{glyph} {status}", style=style)


def when(stamp: str | None, *, with_year: bool = False) -> str:
    """A service timestamp in local time, like "4 Jul 13:05"."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return stamp
    if with_year:
        return f"{moment.day} {moment:%b %Y} {moment:%H:%M}"
    return f"{moment.day} {moment:%b %H:%M}"


def ago(stamp: str | None, now: datetime | None = None) -> str:
    """How long ago, for live panels: "just now", "5 min ago", "3 h ago", else a date."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    return when(stamp)
