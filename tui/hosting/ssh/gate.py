"""The gate before sign-in, and the counts it keeps by client address: connections,
connections still signing in (dropped early past sshd's MaxStartups), sessions, and
failed logins, each of which makes the address's next attempt wait longer."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tui.hosting.ssh.settings import Limits

FAILURE_MEMORY = 600.0  # seconds an address's failed attempts keep slowing it down
MAX_AUTH_PAUSE = 10.0
TRACKED_ADDRESSES = 4096  # the failure table's bound: beyond it the oldest are forgotten
SWEEP_SECONDS = 30.0


@dataclass
class _Failures:
    """One address's failed logins: how many lately, and when it may be answered next."""

    count: int = 0
    last: float = 0.0
    not_before: float = 0.0
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


def _pause(failures: int) -> float:
    """Seconds an address waits before its next attempt is checked (doubling)."""
    return float(min(0.5 * 2 ** (failures - 1), MAX_AUTH_PAUSE)) if failures else 0.0


class Gatekeeper:
    """What the whole server counts, by client address: connections, connections not
    yet signed in, sessions, and failed logins."""

    def __init__(self, limits: Limits, chance: random.Random | None = None) -> None:
        self.limits = limits
        self.connections: Counter[str] = Counter()
        self.unauthenticated: Counter[str] = Counter()
        self.sessions: Counter[str] = Counter()
        self._failures: dict[str, _Failures] = {}
        self._swept = time.monotonic()
        self._chance = chance or random.SystemRandom()

    def admit(self, address: str) -> tuple[bool, str | None]:
        """Count a new connection from ``address``: (counted, refusal). Not counted: drop
        it now, without a word (too many connections wait to sign in, as sshd's
        MaxStartups). A refusal: tell the viewer why once they ask to sign in."""
        waiting = sum(self.unauthenticated.values())
        if self._chance.random() < self.limits.startups.drop_chance(waiting):
            return False, None
        if self.unauthenticated[address] >= self.limits.startups_per_address:
            return False, None
        # Counted as waiting to sign in from here, refused or not, so that refusals
        # that linger until the login grace ends are bounded too.
        self.unauthenticated[address] += 1
        if self.connections[address] >= self.limits.connections_per_address:
            return True, f"too many connections from {address}"
        self.connections[address] += 1
        return True, None

    def signed_in(self, address: str) -> None:
        self._forget(self.unauthenticated, address)

    def release(self, address: str, *, signed_in: bool, refused: bool) -> None:
        """A connection from ``address`` is gone."""
        if not signed_in:
            self._forget(self.unauthenticated, address)
        if not refused:
            self._forget(self.connections, address)

    @staticmethod
    def _forget(counter: Counter[str], address: str) -> None:
        counter[address] -= 1
        if counter[address] <= 0:
            del counter[address]

    def open_session(self, address: str) -> str | None:
        """Count a session for ``address``; the viewer's message if it is refused."""
        limits = self.limits
        if sum(self.sessions.values()) >= limits.max_sessions:
            return f"all {limits.max_sessions} sessions are in use; try again later."
        if self.sessions[address] >= limits.sessions_per_address:
            return (
                f"{address} already has {limits.sessions_per_address} sessions open; end one first."
            )
        self.sessions[address] += 1
        return None

    def close_session(self, address: str) -> None:
        self._forget(self.sessions, address)

    @contextlib.asynccontextmanager
    async def login_turn(self, address: str) -> AsyncIterator[None]:
        """Hold ``address``'s turn to have a login checked. The pause its earlier
        failures earned is waited out first, before any password is looked at, so a
        new connection does not skip it; attempts from one address go one at a time."""
        self._sweep()
        failures = self._failures.setdefault(address, _Failures())
        async with failures.turn:
            wait = failures.not_before - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            yield

    def failed(self, address: str) -> None:
        """Record a failed attempt: the address's next one waits longer."""
        now = time.monotonic()
        failures = self._failures.setdefault(address, _Failures())
        if now - failures.last > FAILURE_MEMORY:
            failures.count = 0
        failures.count += 1
        failures.last = now
        failures.not_before = now + _pause(failures.count)

    def succeeded(self, address: str) -> None:
        failures = self._failures.get(address)
        if failures is not None and not failures.turn.locked():
            del self._failures[address]

    def pause_owed(self, address: str) -> float:
        """Seconds before ``address``'s next attempt would be checked."""
        failures = self._failures.get(address)
        return max(0.0, failures.not_before - time.monotonic()) if failures else 0.0

    @property
    def tracked(self) -> int:
        """Addresses in the failure table."""
        return len(self._failures)

    def _sweep(self) -> None:
        # Forget addresses quiet for FAILURE_MEMORY, now and then; beyond the table's
        # bound, the longest quiet go first. Entries in use (a turn held) stay.
        now = time.monotonic()
        if now - self._swept < SWEEP_SECONDS and len(self._failures) < TRACKED_ADDRESSES:
            return
        self._swept = now
        idle = [(f.last, a) for a, f in self._failures.items() if not f.turn.locked()]
        idle.sort()
        excess = len(self._failures) - TRACKED_ADDRESSES + 1
        for index, (last, address) in enumerate(idle):
            if index < excess or now - last > FAILURE_MEMORY:
                del self._failures[address]
