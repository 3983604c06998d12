"""Ids and secrets: ids sort by creation; tokens are long, random and stored hashed."""

from __future__ import annotations

import time
from pathlib import Path

from journey.core.tokens import (
    hash_secret,
    id_from,
    link_token_from,
    new_api_token,
    new_id,
    new_link_token,
)
from journey.seed import seed_file


def test_ids_are_short_and_sort_in_creation_order() -> None:
    ids = []
    for _ in range(50):
        ids.append(new_id())
        time.sleep(0.001)
    assert all(len(i) == 22 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_id_encoding_keeps_the_order_of_time_then_randomness() -> None:
    pairs = [(0, 0), (0, 1), (0, 2**90 - 1), (1, 0), (2**40, 5), (2**41, 0), (2**42 - 1, 7)]
    encoded = [id_from(moment, rest) for moment, rest in pairs]
    assert encoded == sorted(encoded)
    assert len(set(encoded)) == len(encoded)
    assert all(len(e) == 22 and all(ch.isalnum() or ch in "-_" for ch in e) for e in encoded)


def test_ids_do_not_start_with_a_dash() -> None:
    """A leading "-" would read as an option on a command line."""
    assert not new_id().startswith("-")
    import random

    from journey.seed import seeded_id

    assert not seeded_id(random.Random(1), 1).startswith("-")


def test_link_and_api_tokens_carry_at_least_128_random_bits() -> None:
    links = {new_link_token() for _ in range(200)}
    assert len(links) == 200
    assert all(len(t) >= 43 for t in links)  # 256 bits in base64
    token = new_api_token()
    assert token.startswith("rp_") and len(token) >= 46
    assert hash_secret(token) != token and len(hash_secret(token)) == 64


def test_a_link_or_a_bare_token_is_accepted() -> None:
    assert link_token_from("https://portal.example/j/abc_DEF-123") == "abc_DEF-123"
    assert link_token_from("  abc_DEF-123  ") == "abc_DEF-123"
    assert link_token_from("https://portal.example/j/abc?x=1#y") == "abc"


def test_seeding_one_database_twice_adds_companies_without_clashing(tmp_path: Path) -> None:
    db = tmp_path / "twice.db"
    seed_file(db, 80, 7)
    second = seed_file(db, 80, 7)
    assert second.companies == 80
