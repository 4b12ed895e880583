"""The ledger folder: finding it, its settings (invctl.toml) and its paths."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tomllib
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from invctl.errors import Refused
from invctl.files import refuse_link, refuse_links
from invctl.numbers import currency_places
from invctl.schema import Check, Invalid, Table, validate

SETTINGS_FILE = "invctl.toml"


def _currency(v: str) -> str:
    if len(v) != 3 or not v.isalpha():
        raise ValueError("currency must be an ISO 4217 code such as EUR")
    return v.upper()


def _timezone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r} (use an IANA name like Europe/Berlin)") from None
    return v


class Settings(Table, kw_only=True):
    """invctl.toml: main settings as top-level keys, thresholds and defaults in tables.

    Keys invctl does not know are kept in `extra` (`invctl check` warns about them).
    """

    currency: str = "EUR"
    costing: Literal["fifo", "average"] = "fifo"
    timezone: str = "UTC"
    locations: list[str] = msgspec.field(default_factory=lambda: ["main"])
    currency_decimals: int | None = None
    alerts: dict[str, Any] = {}
    reorder: dict[str, Any] = {}

    checks: ClassVar[dict[str, Check]] = {"currency": _currency, "timezone": _timezone}

    @property
    def places(self) -> int:
        if self.currency_decimals is not None:
            return self.currency_decimals
        return currency_places(self.currency)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_toml(path: Path) -> dict[str, Any]:
    raw = _read_source(path)
    seen = _SOURCES.get()
    if seen is not None:
        seen[path] = raw
    return _parse_toml(path, raw)


def _parse_toml(path: Path, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        # As tomllib.load does, from bytes read once: a caller can tell what was parsed.
        return tomllib.loads(raw.decode(), parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        # path:line first, as for journal lines (tomllib puts "(at line N, column M)" last).
        text = str(exc)
        m = _TOML_AT.search(text)
        if m:
            text = text[: m.start()].rstrip()
            raise Refused(f"{path}:{m.group(1)}: not valid TOML: {text} (column {m.group(2)}); fix the file") from None
        raise Refused(f"{path}: not valid TOML: {text}; fix the file") from None
    except UnicodeDecodeError as exc:
        raise Refused(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None


def _read_source(path: Path) -> bytes | None:
    """The bytes of a TOML file; None when there is no such file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise Refused(f"{path}: is a folder, not a TOML file") from None


def source_digest(raw: bytes | None) -> str:
    """What `Ledger.sources` keeps of a file's bytes ("-": no such file)."""
    return "-" if raw is None else hashlib.blake2b(raw, digest_size=16).hexdigest()


# While a Ledger reads its catalog: the bytes load_toml parsed, by path (None: no file).
_SOURCES: ContextVar[dict[Path, bytes | None] | None] = ContextVar("invctl_toml_sources", default=None)


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass
class Ledger:
    """A ledger folder and its settings; every command loads it the same way.

    ``sources``: by file name, `source_digest` of the bytes a part of this Ledger was
    parsed from: invctl.toml when it was opened (`open_ledger`), items.toml when its
    catalog was read ("unparsed:" and the digest while it fails to load). A file that
    changes later does not change them: they say what this Ledger's figures were made
    from (the replay cache is keyed by them). Empty for a Ledger made in code.
    """

    root: Path
    settings: Settings = field(default_factory=Settings)
    sources: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def journal_dir(self) -> Path:
        return self.root / "journal"

    @property
    def state_dir(self) -> Path:
        return self.root / ".invctl"

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def month_file(self, ts: dt.datetime) -> Path:
        """The journal file of an event: its ts month as written (never from user text).

        Refused when that file, or a folder on the way to it, is a symbolic link: this is
        the file a writer appends to, and a cloned ledger could link it to any file."""
        if not isinstance(ts, dt.datetime):
            raise TypeError(f"an event time must be a datetime, not {type(ts).__name__}")
        path = self.journal_dir / f"{ts.year:04d}" / f"{ts.year:04d}-{ts.month:02d}.jsonl"
        refuse_link(self.root, path)
        return path

    @cached_property
    def catalog(self) -> Any:
        from invctl.catalog import ITEMS_FILE, Catalog

        items = self.root / ITEMS_FILE
        read: dict[Path, bytes | None] = {}
        token = _SOURCES.set(read)
        try:
            catalog = Catalog.load(self.root)
        except Exception:
            if items in read:
                self.sources[ITEMS_FILE] = "unparsed:" + source_digest(read[items])
            raise
        finally:
            _SOURCES.reset(token)
        if items in read:
            self.sources[ITEMS_FILE] = source_digest(read[items])
        else:
            self.sources.pop(ITEMS_FILE, None)
        return catalog


def find_root(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """--ledger, else $INVCTL_LEDGER, else the first folder up from cwd holding invctl.toml."""
    given = explicit or os.environ.get("INVCTL_LEDGER")
    if given:
        # Name where the folder came from: a stale $INVCTL_LEDGER was reported as --ledger.
        source = "--ledger" if explicit else "$INVCTL_LEDGER"
        root = Path(given).expanduser()
        if root.is_file():
            raise Refused(f"{source} {given}: is a file; give the ledger folder (the one holding {SETTINGS_FILE})")
        if not root.exists():
            if root.is_symlink():  # exists() follows the link: it points nowhere, or at itself
                raise Refused(f"{source} {given}: is a symbolic link to {os.readlink(root)}, which is not there "
                              "(or loops); give the ledger folder itself")
            raise Refused(f"{source} {given}: no such folder; create a ledger with: invctl init {given}")
        if not (root / SETTINGS_FILE).is_file():
            raise Refused(f"{source} {given}: no {SETTINGS_FILE} there; create a ledger with: invctl init {given}")
        return root.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise Refused(
        f"no ledger here: no {SETTINGS_FILE} in {here} or above; "
        "run `invctl init DIR`, pass --ledger DIR or set INVCTL_LEDGER"
    )


def open_ledger(explicit: str | os.PathLike[str] | None = None) -> Ledger:
    root = find_root(explicit)
    # Before anything reads the journal: a link there would be read twice or from outside.
    refuse_links(root, root / "journal", root / ".invctl")
    raw = _read_source(root / SETTINGS_FILE)
    data = _parse_toml(root / SETTINGS_FILE, raw)
    try:
        settings = validate(Settings, data)
    except Invalid as exc:
        raise Refused(f"{root / SETTINGS_FILE}: {exc}") from None
    return Ledger(root=root, settings=settings, sources={SETTINGS_FILE: source_digest(raw)})
