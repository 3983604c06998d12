"""The HTTP API: the one contract between the journey service and every client."""

from journey.api.app import create_app

__all__ = ["create_app"]
