"""Fixtures of the portal tests: the embedded service's settings, with a demo to show."""

from __future__ import annotations

from pathlib import Path

import pytest

from journey.settings import ServiceSettings


@pytest.fixture
def demo_settings(tmp_path: Path) -> ServiceSettings:
    """A fresh 120-company demo, with pulls and the worker fast."""
    return ServiceSettings(
        db_path=tmp_path / "portal.db",
        outbox_dir=tmp_path / "outbox",
        demo_companies=120,
        pull_queue_seconds=0.0,
        pull_fetch_seconds=0.05,
        worker_interval=0.02,
    )
