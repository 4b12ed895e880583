"""Progress of long work (big replays, imports): reported by the library, drawn by the CLI.

Library code asks for a ticker and calls it with the work done so far; nothing happens
unless a drawer was installed (the CLI installs one when stderr is a terminal, see
`render.progress_drawer`). This module imports nothing, so reporting costs nothing when
no one looks.
"""

from __future__ import annotations

from collections.abc import Callable

Drawer = Callable[[str, int, int], None]  # (what, done, total)

_drawer: Drawer | None = None


def install(drawer: Drawer | None) -> None:
    global _drawer
    _drawer = drawer


def ticker(what: str, total: int) -> Callable[[int], None] | None:
    """A function taking the work done so far (same unit as ``total``), or None when
    nothing would be drawn."""
    drawer = _drawer
    if drawer is None or total <= 0:
        return None
    return lambda done: drawer(what, done, total)
