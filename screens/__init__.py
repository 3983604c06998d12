"""One module per screen or modal of the portal."""
