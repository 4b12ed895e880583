"""The ledger folder: finding it, its settings (invctl.toml) and its paths."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from invctl.errors import Refused
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
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh, parse_float=Decimal)
    except FileNotFoundError:
        return {}
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
    except IsADirectoryError:
        raise Refused(f"{path}: is a folder, not a TOML file") from None


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass
class Ledger:
    """A ledger folder and its settings; every command loads it the same way."""

    root: Path
    settings: Settings = field(default_factory=Settings)

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
        """The journal file of an event: its ts month as written (never from user text)."""
        return self.journal_dir / f"{ts.year:04d}" / f"{ts.year:04d}-{ts.month:02d}.jsonl"

    @cached_property
    def catalog(self) -> Any:
        from invctl.catalog import Catalog

        return Catalog.load(self.root)


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
    data = load_toml(root / SETTINGS_FILE)
    try:
        settings = validate(Settings, data)
    except Invalid as exc:
        raise Refused(f"{root / SETTINGS_FILE}: {exc}") from None
    return Ledger(root=root, settings=settings)
