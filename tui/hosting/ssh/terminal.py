"""The portal's side of a session: the pseudo-terminal it runs on and its process.
What the viewer's terminal type may say, the window size it is given, the controlling
terminal it takes, the hang-up that stops it, and the bytes that put the viewer's
terminal back after a portal stopped mid-frame. Nothing here knows SSH."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import signal
import struct
import termios

STOP_GRACE = 3.0  # seconds a portal has to exit on SIGHUP before SIGKILL
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._+-]{1,64}")

# Put the viewer's terminal back after a portal was stopped mid-frame: CAN ends any
# half-sent escape sequence; then leave the alternate screen, stop mouse reports,
# bracketed paste, focus events and the kitty keyboard protocol; show the cursor.
TERMINAL_RESET = (
    b"\x18\x1b[0m\x1b[?1049l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l"
    b"\x1b[?2004l\x1b[?1004l\x1b[<u\x1b[?25h\r\n"
)


def terminal_settings(term_type: str | None, environment: dict[str, str]) -> dict[str, str]:
    """The viewer's terminal type and colour depth, from an allow-list of plain values
    (the client's other variables never reach the portal)."""
    settings: dict[str, str] = {}
    if term_type and _SAFE_VALUE.fullmatch(term_type):
        settings["TERM"] = term_type
    colorterm = environment.get("COLORTERM", "")
    if _SAFE_VALUE.fullmatch(colorterm):
        settings["COLORTERM"] = colorterm
    if environment.get("NO_COLOR"):
        settings["NO_COLOR"] = "1"
    return settings


def window_size(width: int, height: int, pixwidth: int, pixheight: int) -> bytes:
    # Clamp what the client says: a 0-column or absurd window must not break the portal.
    columns = min(max(width, 10), 1000)
    rows = min(max(height, 4), 1000)
    return struct.pack("HHHH", rows, columns, pixwidth & 0xFFFF, pixheight & 0xFFFF)


def take_terminal() -> None:
    """In the child, after setsid: make the pty (fd 0) its controlling terminal, so
    resizes deliver SIGWINCH and a hang-up reaches it."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


async def stop_portal(process: asyncio.subprocess.Process) -> None:
    """Hang up on the portal's process group; kill it if it does not go in time."""
    for sig in (signal.SIGHUP, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE)
            return
        except TimeoutError:
            continue
