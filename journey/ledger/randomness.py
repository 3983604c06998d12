"""Seeded randomness and integer-cent money: the same draws in every process."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

# Bump when generation changes on purpose: it is part of every seed, so old and new
# ledgers can never be confused for one another.
_SEED_VERSION = "relportal-ledger-v1"

_T = TypeVar("_T")


def seeded_rng(*parts: str) -> random.Random:
    """A generator seeded from SHA-256 of ``parts``: identical in every process."""
    # JSON keeps the parts apart: no entity key can imitate another key plus a suffix.
    material = json.dumps([_SEED_VERSION, *parts]).encode("ascii")
    return random.Random(int.from_bytes(hashlib.sha256(material).digest(), "big"))


def weighted_choice(rng: random.Random, options: Sequence[tuple[_T, int]]) -> _T:
    """Pick by integer weight using only randrange, whose output is stable across versions."""
    roll = rng.randrange(sum(weight for _, weight in options))
    for value, weight in options:
        if roll < weight:
            return value
        roll -= weight
    raise AssertionError("unreachable: roll is below the total weight")


def money(cents: int) -> Decimal:
    """Integer cents to a Decimal with exactly two places (scaleb keeps the exponent)."""
    return Decimal(cents).scaleb(-2)


def percent_of(value: int, percent: int) -> int:
    """``percent`` per cent of ``value``, rounded down (integer cents stay integers)."""
    return value * percent // 100
