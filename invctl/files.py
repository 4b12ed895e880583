"""Replacing a whole file safely (TOML the user edits, state in .invctl/, published pages).

The journal is never written this way: it is only appended to (invctl/journal.py).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, keep_mode: bool = False) -> None:
    """Replace ``path`` with ``data``: written beside, fsynced, renamed over, and the folder
    fsynced, so readers and a crash see the old file or the new one, never half of one.
    ``keep_mode``: the new file keeps the old one's permissions (a file a person made)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if keep_mode and path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)  # the rename itself survives a crash
    finally:
        os.close(fd)
