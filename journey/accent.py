"""The organization's accent colour on the customer's pages (and its emails' button).

White text sits on the accent (the primary button) and the accent sits on white
(links, the secondary button), so a colour is accepted only if white against it
reaches WCAG 2.2 AA's 4.5:1 for normal text.
"""

from __future__ import annotations

import re

from journey.core.errors import Invalid

MIN_CONTRAST = 4.5
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_with_white(colour: str) -> float:
    """WCAG's contrast ratio of white text on ``colour`` ("#RRGGBB")."""
    return 1.05 / (_luminance(colour) + 0.05)


def is_accent(text: str) -> bool:
    return bool(_HEX.fullmatch(text))


def clean_accent(value: object) -> str:
    """``value`` as a stored accent ("#rrggbb"; "" for none: null clears it), or
    Invalid with the reason."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not is_accent(value):
        raise Invalid(
            "accent must be a colour written #RRGGBB (like #1F4E9A), or null for the default.",
            "invalid_accent",
        )
    ratio = contrast_with_white(value)
    if ratio < MIN_CONTRAST:
        raise Invalid(
            f"accent {value} gives white text a contrast of {ratio:.1f}:1; the customer's "
            f"pages need at least {MIN_CONTRAST}:1 (WCAG AA): choose a darker colour.",
            "accent_contrast",
        )
    return value.lower()


def darker(colour: str, by: float = 0.3) -> str:
    """``colour`` darkened (the hover shade and the brand name's colour)."""
    r, g, b = (round(int(colour[i : i + 2], 16) * (1 - by)) for i in (1, 3, 5))
    return f"#{r:02x}{g:02x}{b:02x}"


def stylesheet(colour: str) -> str:
    """The accent's stylesheet: it only sets the custom properties journey.css uses."""
    return f":root {{ --accent: {colour}; --accent-dark: {darker(colour)}; }}\n"
