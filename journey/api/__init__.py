"""The HTTP API: the one contract between the journey service and every client.

``create_app`` is imported on first use: FastAPI and pydantic cost more to import
than the rest of the service together. The answers the portal reads before they load
(``journey.views``, ``journey.relationship_list``) live outside this package.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from journey.api.app import create_app

        return create_app
    raise AttributeError(f"module 'journey.api' has no attribute {name!r}")
