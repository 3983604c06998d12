"""The journey service: relationships, information requests and the customer journey.

This package is the single authority on the customer journey. It never imports the
terminal UI (``tui``, ``screens``, ``widgets``) or Textual; ``tests/unit/test_layering.py``
proves it.
"""
