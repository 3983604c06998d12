"""The service's read cache: answers kept until the database changes, computations
shared by the requests that miss together."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from journey.api.cache import ReadCache


class Versioned:
    """Stands in for the store: only its data version matters to the cache."""

    def __init__(self) -> None:
        self.version = 1

    def data_version(self) -> int | None:
        return self.version


def cache() -> tuple[ReadCache, Versioned]:
    store = Versioned()
    return ReadCache(store), store  # type: ignore[arg-type]


async def test_an_answer_is_kept_until_the_database_changes() -> None:
    kept, store = cache()
    reads = 0

    async def read() -> str:
        nonlocal reads
        reads += 1
        return f"answer {reads}"

    assert await kept.answer("k", read) == "answer 1"
    assert await kept.answer("k", read) == "answer 1"
    store.version += 1
    assert await kept.answer("k", read) == "answer 2"
    assert reads == 2


async def test_requests_that_miss_together_share_one_read() -> None:
    kept, _ = cache()
    reads = 0
    release = asyncio.Event()

    async def read() -> str:
        nonlocal reads
        reads += 1
        await release.wait()
        return "answer"

    askers = [asyncio.create_task(kept.answer("k", read)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*askers) == ["answer"] * 5
    assert reads == 1


async def test_a_request_after_a_write_does_not_join_a_read_from_before_it() -> None:
    kept, store = cache()
    release = asyncio.Event()
    seen_at: list[int] = []

    async def read() -> int:
        version = store.version
        seen_at.append(version)
        await release.wait()
        return version

    before = asyncio.create_task(kept.answer("k", read))
    await asyncio.sleep(0.01)
    store.version += 1  # a write commits while the first read is under way
    after = asyncio.create_task(kept.answer("k", read))
    await asyncio.sleep(0.01)
    release.set()
    assert await before == 1
    assert await after == 2
    assert seen_at == [1, 2]


async def test_a_request_given_up_half_way_leaves_the_answer_to_those_that_joined() -> None:
    """The portal cancels a load when the RM moves on; another request waiting on the
    same read (its event long-poll, say) must still get its answer, not the cancel."""
    kept, _ = cache()
    release = asyncio.Event()

    async def read() -> str:
        await release.wait()
        return "answer"

    first = asyncio.create_task(kept.answer("k", read))
    await asyncio.sleep(0)
    joined = asyncio.create_task(kept.answer("k", read))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await joined == "answer"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await kept.answer("k", read) == "answer"  # and it was kept


async def test_a_failed_read_fails_every_asker_and_is_not_kept() -> None:
    kept, _ = cache()
    calls = 0
    release = asyncio.Event()

    async def read() -> Any:
        nonlocal calls
        calls += 1
        await release.wait()
        if calls == 1:
            raise OSError("disk I/O error")
        return "answer"

    askers = [asyncio.create_task(kept.answer("k", read)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    for asker in askers:
        with pytest.raises(OSError):
            await asker
    assert await kept.answer("k", read) == "answer"
