"""The journal files: list, read, lock, append. Nothing here knows what events mean.

Readers need no lock: they read up to the last complete line; a torn last line (no
newline after a crash) is reported and left out. Writers hold ``.invctl/lock``, set a
torn tail aside, then write each file's new lines with one ``write()`` and ``fsync``.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import msgspec

from invctl.errors import Problem, Refused
from invctl.events import describe_decode_error
from invctl.files import refuse_link, refuse_links
from invctl.settings import Ledger

_MONTH_NAME = re.compile(r"(\d{4})-(\d{2})\.jsonl")
FILE_MODE = 0o640
DIR_MODE = 0o750


def list_files(ledger: Ledger) -> list[Path]:
    """Journal files in replay order: odd names first, then month files by month."""
    if not ledger.journal_dir.is_dir():
        return []
    refuse_links(ledger.root, ledger.journal_dir)
    files = [p for p in ledger.journal_dir.rglob("*.jsonl") if p.is_file()]

    def key(p: Path) -> tuple[int, str, str]:
        m = _MONTH_NAME.fullmatch(p.name)
        return (1, m.group(0), str(p)) if m else (0, "", str(p))

    return sorted(files, key=key)


def file_month(path: Path) -> tuple[int, int] | None:
    m = _MONTH_NAME.fullmatch(path.name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def split_torn(data: bytes) -> tuple[bytes, bytes]:
    """(complete lines, torn tail): the tail is what follows the last newline."""
    if not data or data[-1] == 10:
        return data, b""
    cut = data.rfind(b"\n") + 1
    return data[:cut], data[cut:]


@dataclass
class FileRead:
    """One journal file as read: its complete lines and any torn tail."""

    path: Path
    data: bytes
    torn: bytes
    torn_line: int

    @classmethod
    def read(cls, path: Path) -> FileRead:
        data, torn = split_torn(path.read_bytes())
        return cls(path, data, torn, data.count(b"\n") + 1 if torn else 0)

    def lines(self) -> Iterator[tuple[int, bytes]]:
        for n, raw in enumerate(self.data.split(b"\n")[:-1], 1):
            if raw.strip():
                yield n, raw

    def lines_containing(self, needle: re.Pattern[bytes]) -> Iterator[tuple[int, bytes]]:
        """Lines whose text matches ``needle``, found without decoding the others."""
        return matching_lines(self.data, needle, 1)


def matching_lines(data: bytes, needle: re.Pattern[bytes], first_line: int) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of the complete lines in ``data`` that match ``needle``."""
    seen = -1
    line, counted_to = first_line, 0  # count newlines incrementally: once over the data, not per match
    for m in needle.finditer(data):
        start = data.rfind(b"\n", 0, m.start()) + 1
        if start <= seen:
            continue
        end = data.find(b"\n", m.end())
        seen = start
        line += data.count(b"\n", counted_to, start)
        counted_to = start
        yield line, data[start:end]


def decode_error(rel: str, line: int, exc: msgspec.DecodeError | UnicodeDecodeError) -> Problem:
    return Problem(rel, line, _reason(exc))


def _reason(exc: msgspec.DecodeError | UnicodeDecodeError) -> str:
    """Why a line does not decode, and what to do about it."""
    if isinstance(exc, UnicodeDecodeError):
        # msgspec raises this, not a DecodeError, for bad UTF-8 inside a string value;
        # its offset is within that string, so it is not given.
        return "not valid UTF-8 (a damaged or binary line); fix or remove the line"
    if isinstance(exc, msgspec.ValidationError):
        return describe_decode_error(exc) + "; fix or remove the line"
    # describe_decode_error gave "not valid JSON: jSON is malformed: ..." for these.
    text = str(exc).removeprefix("JSON is malformed: ")
    return f"not valid JSON: {text[:1].lower()}{text[1:]}; fix or remove the line"


# --- writing -------------------------------------------------------------------------


def _mkdir(path: Path) -> None:
    """Create a folder (and parents) and fsync the parent so the new entry survives a crash."""
    if path.is_dir():
        return
    _mkdir(path.parent)
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        return
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def locked(ledger: Ledger) -> Iterator[None]:
    """Hold the ledger's exclusive write lock (``.invctl/lock``)."""
    lock = ledger.state_dir / "lock"
    refuse_link(ledger.root, lock)
    try:
        _mkdir(ledger.state_dir)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        raise Refused(f"{ledger.rel(lock)}: cannot take the ledger's write lock: {_why(exc)}; nothing was "
                      "recorded (a read-only disk, or another user's ledger?)") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _write_all(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) holding ``data``, fsynced; on failure remove it.

    Not a journal file: there is no one-write rule, so a short write is finished off."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            if n <= 0:
                raise OSError(errno.EIO, f"short write ({len(data) - len(view)} of {len(data)} bytes)")
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with suppress(OSError):
            os.unlink(path)  # an incomplete copy would pass for the fragment
        raise
    os.close(fd)


def set_aside_torn(ledger: Ledger, path: Path) -> str | None:
    """Move a torn tail out of a journal file (call with the lock held).

    The fragment is saved under ``.invctl/torn/`` (never deleted), then the file is cut
    back to its last complete line. Returns a note of what was done, or None. Refuses
    (with the fragment still in the file, or saved in full) if either step fails.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return None
        fh.seek(0)
        data = fh.read()
    complete, torn = split_torn(data)
    line = complete.count(b"\n") + 1
    where = f"{ledger.rel(path)}:{line}"
    aside_dir = ledger.state_dir / "torn"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = aside_dir / f"{ledger.rel(path).replace(os.sep, '_')}.{stamp}.torn"
    try:
        _mkdir(aside_dir)
        _write_all(aside, torn)
        _fsync_dir(aside_dir)
    except OSError as exc:
        raise Refused(f"{where}: could not set the torn last line aside to {ledger.rel(aside)}: {_why(exc)}; "
                      "it is still in the file") from None
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, len(complete))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise Refused(f"{where}: could not cut the torn last line off: {_why(exc)}; "
                      f"a copy is in {ledger.rel(aside)}") from None
    return f"{where}: torn last line ({len(torn)} bytes) set aside to {ledger.rel(aside)}"


def append(ledger: Ledger, path: Path, data: bytes) -> tuple[list[str], int]:
    """Append complete lines to one journal file (call with the lock held).

    One ``write()`` of all the lines, then ``fsync``; a new file also gets its folder
    fsynced. Returns notes (a torn tail set aside first) and the size the file had
    before (see `cut_back`). On a short write or an I/O error the file is cut back to
    where it was and the request is refused.
    """
    assert data.endswith(b"\n")
    refuse_link(ledger.root, path)
    rel = ledger.rel(path)
    try:
        _mkdir(path.parent)
    except OSError as exc:
        raise Refused(f"{ledger.rel(path.parent)}: could not create the folder: {_why(exc)}; nothing was recorded") from None
    notes = []
    try:
        note = set_aside_torn(ledger, path)
    except Refused as exc:
        raise Refused(f"{exc}; nothing was recorded") from None
    if note:
        notes.append(note)
    is_new = not path.exists()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise Refused(f"{rel}: could not write the journal: {_why(exc)}; nothing was recorded") from None
    try:
        start = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.EIO, f"short write ({written} of {len(data)} bytes)")
            os.fsync(fd)
            if is_new:
                # Until its folder is fsynced a new file may vanish in a crash: not recorded yet.
                _fsync_dir(path.parent)
        except OSError as exc:
            raise Refused(f"{rel}: could not write the journal: {_why(exc)}; {_undo(path, fd, start, is_new)}") from None
    finally:
        os.close(fd)
    return notes, start


def _undo(path: Path, fd: int, start: int, is_new: bool) -> str:
    """Cut a file back to ``start`` after a failed append; says how that went.

    A file this append created is removed as well: the next append creates it again and
    fsyncs its folder (an empty file left behind would not count as new)."""
    why = None
    try:
        os.ftruncate(fd, start)
    except OSError as exc:
        why = _why(exc)
    else:
        # Best effort: the file reads as it was; the fsync that just failed may well fail again.
        with suppress(OSError):
            os.fsync(fd)
    if is_new:
        try:
            os.unlink(path)
            why = None
        except OSError:
            pass
    if why is not None:
        return f"it could not be cut back either ({why}), so a part of the new line may be in it: run `invctl check --repair`"
    return "nothing was recorded"


def cut_back(ledger: Ledger, path: Path, start: int) -> str | None:
    """Undo an `append` whose request failed later; None, or why it could not be undone.

    A file cut back to nothing is removed (it held nothing): the next append to it then
    fsyncs its folder, as for any new file."""
    try:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, start)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return f"{ledger.rel(path)}: {_why(exc)}"
    if start == 0:
        with suppress(OSError):
            os.unlink(path)
    return None


def find_lines(ledger: Ledger, needle: bytes) -> Iterator[tuple[Path, int, bytes]]:
    """Complete lines that contain ``needle`` (decode them to be sure of a match)."""
    pattern = re.compile(re.escape(needle))
    for path in list_files(ledger):
        fr = FileRead.read(path)
        if needle in fr.data:
            for line, raw in fr.lines_containing(pattern):
                yield path, line, raw
