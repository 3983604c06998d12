"""The service's read cache: answers kept until the database changes, computations
shared by the requests that miss together."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from journey.api.cache import ReadCache, token_holders
from journey.core.tokens import hash_secret


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


class Epoched(Versioned):
    """Stands in for the store: its data version and its auth epoch, counting reads of
    the epoch (the data version is not a read: SQLite's shared memory)."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 7
        self.epoch_reads = 0

    def auth_epoch(self) -> int | None:
        self.epoch_reads += 1
        return self.epoch


async def test_token_holders_outlive_commits_that_leave_tokens_and_users_be() -> None:
    store = Epoched()
    holders = token_holders(store)  # type: ignore[arg-type]
    reads = 0

    async def read() -> str:
        nonlocal reads
        reads += 1
        return f"holder {reads}"

    assert await holders.answer("t", read) == "holder 1"
    for _ in range(3):  # customers' steps: the data version moves, the epoch does not
        store.version += 1
        for _ in range(50):  # every RM's poll after the commit
            assert await holders.answer("t", read) == "holder 1"
    assert reads == 1
    assert store.epoch_reads == 4  # once for each data version, not once per request
    store.version += 1
    store.epoch += 1  # a token revoked, a role changed
    assert await holders.answer("t", read) == "holder 2"


# The list route's cache, through the service's HTTP API.


async def test_a_repeated_list_page_is_answered_without_reading_again(
    svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journey import relationship_list

    computed = 0
    real_page = relationship_list.relationship_page

    def counting_page(*args: Any, **kwargs: Any) -> Any:
        nonlocal computed
        computed += 1
        return real_page(*args, **kwargs)

    monkeypatch.setattr(relationship_list, "relationship_page", counting_page)
    await svc.company(name="Alder Bakery")
    url = "/v1/relationships?user=me&sort=name&limit=100"
    first = await svc.get(url)
    again = await svc.get(url)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert computed == 1

    # Any write retires it: the next answer shows the new company.
    await svc.company(name="Birch Joinery")
    after = await svc.get(url)
    assert [r["name"] for r in after.json()["items"]] == ["Alder Bakery", "Birch Joinery"]
    assert computed == 2


async def test_kept_pages_are_per_user_and_keep_no_token(svc: Any) -> None:
    await svc.company(name="Alder Bakery")  # the RM's own company
    url = "/v1/relationships?user=me&sort=name"
    mine = await svc.get(url, "rm")
    theirs = await svc.get(url, "rm2")
    other_bank = await svc.get(url, "other")
    assert [r["name"] for r in mine.json()["items"]] == ["Alder Bakery"]
    assert theirs.json()["items"] == [] and other_bank.json()["items"] == []
    # Asked again, each still gets their own answer.
    assert (await svc.get(url, "other")).json()["items"] == []
    assert [r["name"] for r in (await svc.get(url, "rm")).json()["items"]] == ["Alder Bakery"]

    kept = repr(list(svc.app.state.ctx.cache._kept))
    kept += repr(list(svc.app.state.ctx.token_holders._kept))
    assert svc.app.state.ctx.token_holders._kept  # who the tokens belong to is kept, by hash
    for token in svc.tokens.values():
        assert token not in kept


async def test_refusals_are_not_kept(svc: Any) -> None:
    bad = await svc.get("/v1/relationships?limit=0")
    assert bad.status_code == 422
    unauthorized = await svc.base.get("/v1/relationships", headers={"Authorization": "Bearer x"})
    assert unauthorized.status_code == 401
    assert not [key for key in svc.app.state.ctx.cache._kept if key[0] == "relationships"]
    # A token revoked after its page was kept is refused at once.
    assert (await svc.get("/v1/relationships")).status_code == 200
    await svc.store.write(lambda tx: tx.revoke_token(hash_secret(svc.tokens["rm"])))
    assert (await svc.get("/v1/relationships")).status_code == 401


async def test_a_token_that_expired_is_refused_while_its_page_is_kept(
    svc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Expiry writes nothing, so the kept page stays good: the token must still be
    # checked before the cache answers.
    url = "/v1/relationships?user=me"
    assert (await svc.get(url)).status_code == 200
    assert [key for key in svc.app.state.ctx.cache._kept if key[0] == "relationships"]
    monkeypatch.setattr("journey.core.tokens.utc_iso_now", lambda: "9999-12-31T00:00:00.000Z")
    refused = await svc.get(url)
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_expired"


async def test_a_list_page_has_an_etag_and_a_repeat_with_it_is_304(svc: Any) -> None:
    await svc.company(name="Alder Bakery")
    url = "/v1/relationships?user=me&sort=name"
    first = await svc.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["vary"] == "Authorization"

    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await svc.base.get(url, headers={**svc.headers(), "If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["vary"] == "Authorization"

    # Another page, or the same page after a change, is sent whole with a new ETag.
    other = await svc.base.get(f"{url}&q=Birch", headers={**svc.headers(), "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    await svc.company(name="Birch Joinery")
    changed = await svc.base.get(url, headers={**svc.headers(), "If-None-Match": etag})
    assert changed.status_code == 200
    assert [r["name"] for r in changed.json()["items"]] == ["Alder Bakery", "Birch Joinery"]
    assert changed.headers["etag"] != etag


async def test_an_etag_is_no_way_around_the_token(svc: Any) -> None:
    url = "/v1/relationships?user=me"
    etag = (await svc.get(url)).headers["etag"]
    await svc.store.write(lambda tx: tx.revoke_token(hash_secret(svc.tokens["rm"])))
    refused = await svc.base.get(url, headers={**svc.headers(), "If-None-Match": etag})
    assert refused.status_code == 401
    anonymous = await svc.base.get(url, headers={"If-None-Match": etag})
    assert anonymous.status_code == 401
