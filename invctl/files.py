"""Files invctl makes: atomic replacement, restrictive modes, and no writing through links.

Modes: a file invctl creates is 0640 and a folder 0750, less the process umask (so
``umask 077`` gives 0600/0700, and a wider umask never gives more than 0640/0750):
stock, costs and customers are business data. A file that is replaced keeps the mode it
had (a person may have made it readable to a web server, say).

Links: a ledger is often a git clone, and git stores symbolic links, so a cloned ledger
could hold ``journal/2026/2026-11.jsonl -> ~/.bashrc``. Nothing in ``journal/`` or
``.invctl/`` is ever a link that invctl made, so a link there is refused, not followed.

The journal is never written by write_atomic: it is only appended to (invctl/journal.py).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from invctl.errors import Refused

FILE_MODE = 0o640
DIR_MODE = 0o750


def write_atomic(path: Path, data: bytes, *, keep_mode: bool = True, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``data``: written beside, fsynced, renamed over, and the folder
    fsynced, so readers and a crash see the old file or the new one, never half of one.
    ``keep_mode``: the new file keeps the old one's permissions (a file a person made);
    a new file gets ``mode`` less the umask. A link at ``path`` is replaced, not written
    through."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)  # a leftover (or a planted link) of a crashed run
        # O_EXCL and O_NOFOLLOW: never open an existing file or a link under that name.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        with open(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if keep_mode:
            with contextlib.suppress(FileNotFoundError):
                old = path.lstat()
                if not path.is_symlink():
                    os.chmod(tmp, old.st_mode & 0o7777)
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


def make_dirs(path: Path, mode: int = DIR_MODE) -> None:
    """``mkdir -p`` where every folder made gets ``mode`` (less the umask): pathlib's
    ``mkdir(parents=True)`` gives the parents it makes the default 0777 less the umask."""
    if path.is_dir():
        return
    if path.parent != path:
        make_dirs(path.parent, mode)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, mode)
    if not path.is_dir():
        raise FileExistsError(17, "exists and is not a folder", str(path))


def create_file(path: Path, data: bytes, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``path``: a new file gets ``mode`` less the umask, an existing one
    keeps its mode; never through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    with open(fd, "wb") as fh:
        fh.write(data)


# --- links ----------------------------------------------------------------------------------


def link_on_way(root: Path, path: Path) -> Path | None:
    """The first of ``path``'s folders below ``root``, or ``path`` itself, that is a
    symbolic link; ``path`` itself when it is not below ``root`` or climbs out with "..";
    None when the way is clear. ``root`` is taken as it is (resolve it first)."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path
    here = root
    for part in rel.parts:
        if part in ("..", "."):
            return path
        here = here / part
        if here.is_symlink():
            return here
        if not here.exists():
            break  # what does not exist yet is not a link; a writer creates it as a folder or file
    return None


def links_under(folder: Path) -> Iterator[Path]:
    """``folder`` if it is a symbolic link, else every link inside it, at any depth, in
    name order (links are not followed)."""
    if folder.is_symlink():
        yield folder
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.is_symlink():
            yield Path(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            yield from links_under(Path(entry.path))


def _refusal(root: Path, link: Path) -> Refused:
    try:
        rel = str(link.relative_to(root))
    except ValueError:
        return Refused(f"{link}: not inside the ledger {root}; invctl writes only inside the ledger folder")
    if not link.is_symlink():
        return Refused(f"{rel}: not a plain path inside the ledger; invctl writes only inside the ledger folder")
    try:
        target = os.readlink(link)
    except OSError:
        target = "?"
    return Refused(
        f"{rel}: is a symbolic link (to {target}); invctl does not follow links in journal/ or .invctl/ "
        "(a cloned ledger could point one at any of your files): replace it with a regular file or folder, or remove it"
    )


def refuse_link(root: Path, path: Path) -> None:
    """Refuse a path to write (a journal file, a state file) that is a link, lies behind
    one, or is not inside ``root``: appending there could write to any file of the user's."""
    link = link_on_way(root, path)
    if link is not None:
        raise _refusal(root, link)


def refuse_links(root: Path, *folders: Path) -> None:
    """Refuse a ledger whose ``folders`` (journal/, .invctl/) hold or are, or are reached
    through, a symbolic link: readers would count a linked file twice or read a file
    outside the ledger, and writers would append through it."""
    for folder in folders:
        refuse_link(root, folder)
        for link in links_under(folder):
            raise _refusal(root, link)
