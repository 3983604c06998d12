"""The service's log: written by a thread of its own, a batch at a time, and never
a reason for the service to stop."""

from __future__ import annotations

import io
import logging
import queue
import time

from tui.serving import _LogWriter


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("relportal.access", logging.INFO, __file__, 1, message, args, None)


def test_lines_queued_together_are_written_together_and_all_before_it_stops() -> None:
    lines: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    stream = CountingStream()
    writer = _LogWriter(lines, stream)
    writer.start()
    for number in range(500):
        lines.put(record('127.0.0.1 "GET %s" 200', f"/v1/relationships?page={number}"))
    writer.stop()
    written = stream.getvalue().splitlines()
    assert len(written) == 500
    assert written[0].endswith('relportal.access: 127.0.0.1 "GET /v1/relationships?page=0" 200')
    assert written[-1].endswith('page=499" 200')
    assert stream.writes <= 5  # a burst is written in a few writes, not one per line


def test_a_failed_write_loses_its_lines_not_the_writer() -> None:
    class FailsOnce(io.StringIO):
        failed = False

        def write(self, text: str) -> int:
            if not self.failed:
                self.failed = True
                raise OSError("broken pipe")
            return super().write(text)

    lines: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    stream = FailsOnce()
    writer = _LogWriter(lines, stream)
    writer.start()
    lines.put(record("lost"))
    deadline = time.monotonic() + 5
    while not stream.failed and time.monotonic() < deadline:
        time.sleep(0.01)
    lines.put(record("kept"))
    writer.stop()
    assert stream.failed
    assert stream.getvalue().endswith("relportal.access: kept\n")
