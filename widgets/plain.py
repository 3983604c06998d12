"""Service text as text: cells that are never read as markup.

A string handed to a Rich ``Table`` or a Textual ``DataTable`` is parsed as markup,
and the cells of this portal's tables carry what customers and API users typed:
``[@click=app.quit]…[/]`` in a company name would become an action, ``[link=…]`` a
hyperlink. Every such cell goes through ``plain_cells``.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text


def plain_cells(*cells: RenderableType) -> list[RenderableType]:
    """The cells for ``add_row``, each string as plain ``Text`` (other renderables,
    already styled text among them, as they are)."""
    return [Text(cell) if isinstance(cell, str) else cell for cell in cells]
