"""Settings of the journey service. The CLI builds them from config; tests build them
directly. Plain data: the service never reads config files itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = "relportal@localhost"


@dataclass(frozen=True)
class ServiceSettings:
    db_path: Path
    outbox_dir: Path
    # Customer links are {public_url}/j/{token}.
    public_url: str = "http://127.0.0.1:8765"
    smtp: SmtpSettings | None = None
    # Simulated platforms: how long a data pull waits in the queue and then fetches.
    pull_queue_seconds: float = 0.5
    pull_fetch_seconds: float = 1.5
    upload_processing_seconds: float = 1.0
    # How often the background worker looks for work it was not told about
    # (work written by another process sharing the database).
    worker_interval: float = 0.25
    # Largest request body read, uploads included (uploads are capped at 1 MB on top).
    max_body_bytes: int = 1_200_000
    # Create the demo organization with this many companies on first start (0: none).
    demo_companies: int = 0
    demo_seed: int = 7
    # The day demo times are laid out back from (epoch seconds); None: today. Tests fix
    # it so that what the portal shows is the same every day.
    demo_anchor: float | None = None
    # Customer-link guessing: misses allowed per client address per minute.
    link_misses_per_minute: int = 30
    # Reverse proxies (addresses or networks) whose X-Forwarded-For / Forwarded name the
    # client the guard counts; from anyone else those headers are ignored.
    trusted_proxies: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
