"""A seed's companies in blocks, each with its own random stream, generated in worker
processes for big seeds.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from journey.seed.demo import (
    CHUNK,
    Rows,
)
from journey.seed.generator import (
    Generator,
)


class Trace:
    """Phase timings on stderr (RELPORTAL_SEED_TRACE=1), for tuning big seeds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = time.perf_counter()

    def __call__(self, phase: str) -> None:
        if self.enabled:
            now = time.perf_counter()
            print(f"seed: {phase} {now - self.last:.1f} s", file=sys.stderr)
            self.last = now


@dataclass(frozen=True)
class Plan:
    seed_value: int
    org_id: str
    rm_ids: tuple[str, ...]
    anchor: float
    first: int
    companies: int
    history: bool = True


BLOCK = 25_000  # companies per block; each block has its own random stream
WORKERS = 2


def plan_blocks(plan: Plan) -> list[tuple[int, int]]:
    """(first company, count) per block. Blocks, not processes, own the randomness, so
    the rows are the same however many processes generate them."""
    end = plan.first + plan.companies
    return [(start, min(BLOCK, end - start)) for start in range(plan.first, end, BLOCK)]


def generate_block(plan: Plan, start: int, count: int) -> Iterator[Rows]:
    generator = Generator(plan.seed_value, plan.org_id, list(plan.rm_ids), plan.anchor, start)
    generator.history = plan.history
    rows = Rows()
    number, end = start, start + count
    while number < end:
        number += generator.company(number, rows, end - number)
        if len(rows.relationships) >= CHUNK:
            rows.subsidiaries, generator.subsidiaries = generator.subsidiaries, 0
            yield rows
            rows = Rows()
    rows.subsidiaries = generator.subsidiaries
    yield rows


def produce_blocks(plan: Plan, blocks: list[tuple[int, int]], chunks: Any) -> None:
    """In a worker process: generate some blocks, handing rows over chunk by chunk.
    ``None`` ends each block."""
    try:
        for start, count in blocks:
            for rows in generate_block(plan, start, count):
                chunks.put(rows.packed())
            chunks.put(None)
    except BaseException as exc:  # the parent raises it
        chunks.put(exc)


def rows_of(plan: Plan, *, parallel: bool) -> Iterator[Rows]:
    """The plan's rows, block by block in order.

    A big seed generates them in worker processes while this process inserts: the
    inserting alone keeps one core busy, so generation is spread over two workers
    sharing the other one and the idle moments of this.
    """
    blocks = plan_blocks(plan)
    if not parallel:
        for start, count in blocks:
            yield from generate_block(plan, start, count)
        return
    context = multiprocessing.get_context("spawn")
    queues = [context.Queue(maxsize=3) for _ in range(WORKERS)]
    workers = [
        context.Process(
            target=produce_blocks, args=(plan, blocks[n::WORKERS], queues[n]), daemon=True
        )
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        for number in range(len(blocks)):
            source = queues[number % WORKERS]
            while (item := source.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield Rows.unpacked(item)
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
